"""A newcomer's first Dagster commands in a fresh clone, with no DAGSTER_* or PERFPLAT_* variable set: the
README's `make install`, then `dagster dev` (the first command of every Dagster tutorial), `dg check defs`
and `dg list defs`, and a range run whose months each carry their own figures for the Plots tab."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import click
import pytest
from dagster import DagsterInstance, materialize
from dagster_shared.telemetry import SLACK_PROMPT, TELEMETRY_TEXT

from perfplat_assets.configuration import build_resources
from perfplat_assets.definitions import assets
from perfplat_assets.metrics_store.tables import service_table
from perfplat_assets.queue.sensor import pipeline_keys
from perfplat_assets.services.registry import services as registered_services
from perfplat_assets.user_satisfaction.measure import table as user_satisfaction_template
from perfplat_assets_tests.support.services import ROOT, DagsterServices, free_port, stop_group

user_satisfaction = service_table("make_an_lpa", user_satisfaction_template)  # Make an LPA's own copy

QUIET = ("BetaWarning", "SupersessionWarning", "Telemetry", "telemetry")
# With nothing set, every service's pipeline, side by side.
EVERY_ASSET = {key.to_user_string() for service in registered_services() for key in pipeline_keys(service)}


def _said(*outputs: str) -> str:
    """What the commands printed, less Dagster's own one-time notice: on a machine where Dagster has never
    run, the first command that records a telemetry id prints it once (and then never again), whatever the
    project's dagster.yaml says; it is Dagster's, not the project's noise."""
    text = "".join(outputs)
    for notice in (TELEMETRY_TEXT, SLACK_PROMPT):  # as click prints them off a terminal: unstyled
        text = text.replace(click.unstyle(notice).strip(), "")
    return text


def _newcomer_environment(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "PERFPLAT_"))}
    return env | {"HOME": str(home), "NO_PROXY": "127.0.0.1,localhost"}


@pytest.fixture(scope="module")
def fresh_clone(tmp_path_factory) -> Path:
    """`git clone` of the committed checkout, then the README's install."""
    clone = tmp_path_factory.mktemp("newcomer") / "perfplat"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    env = _newcomer_environment(Path(os.environ.get("HOME", "/root")))
    installed = subprocess.run(
        ["make", "install"], cwd=clone, env=env, capture_output=True, text=True, timeout=900
    )
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-3000:]
    return clone


def test_dagster_dev_works_in_a_fresh_clone_with_nothing_set(fresh_clone, tmp_path):
    port = free_port()
    log = tmp_path / "dagster-dev.log"
    env = _newcomer_environment(Path(os.environ.get("HOME", "/root")))
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(fresh_clone / ".venv" / "bin" / "dagster"), "dev", "-h", "127.0.0.1", "-p", str(port)],
            cwd=fresh_clone,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        services = DagsterServices(port, [log], [process])
        services.poll("dagster dev to serve the code location", services.serving, 180)
        nodes = services.graphql("{ assetNodes { assetKey { path } } }")["assetNodes"]
        assert {"/".join(node["assetKey"]["path"]) for node in nodes} == EVERY_ASSET
    finally:
        stop_group(process)
    said = log.read_text(errors="replace")
    assert "DAGSTER_PG" not in said and "BetaWarning" not in said, said[-3000:]


def test_dg_checks_and_lists_the_definitions_quietly(fresh_clone):
    env = _newcomer_environment(Path(os.environ.get("HOME", "/root")))
    dg = str(fresh_clone / ".venv" / "bin" / "dg")
    checked = subprocess.run([dg, "check", "defs"], cwd=fresh_clone, env=env, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr[-3000:]
    assert "All definitions loaded successfully" in checked.stdout + checked.stderr
    listed = subprocess.run(
        [dg, "list", "defs", "--json"], cwd=fresh_clone, env=env, capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr[-3000:]
    for key in EVERY_ASSET:
        assert key in listed.stdout
    for noise in QUIET:
        assert noise not in _said(checked.stdout, checked.stderr, listed.stderr), noise


def test_dg_launch_runs_a_month_quietly(fresh_clone):
    env = _newcomer_environment(Path(os.environ.get("HOME", "/root")))
    launched = subprocess.run(
        [str(fresh_clone / ".venv" / "bin" / "dg"), "launch", "--assets", "*", "--partition", "2025-05-01"],
        cwd=fresh_clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert launched.returncode == 0, launched.stderr[-3000:]
    assert (fresh_clone / ".perfplat" / "publish" / "make_a_lasting_power_of_attorney_25_05.json").is_file()
    for noise in QUIET:
        assert noise not in _said(launched.stdout, launched.stderr), noise


def test_each_month_of_a_range_run_carries_its_own_figures(perfplat_env):
    result = materialize(
        assets,
        tags={
            "dagster/asset_partition_range_start": "2025-01-01",
            "dagster/asset_partition_range_end": "2025-03-01",
        },
        resources=build_resources(),
        instance=DagsterInstance.ephemeral(),
    )
    assert result.success
    stored = build_resources()["metrics_store"].read(user_satisfaction).set_index("month")
    by_month = {
        m.partition: m.metadata
        for m in result.asset_materializations_for_node("make_an_lpa__user_satisfaction")
    }
    assert sorted(by_month) == ["2025-01-01", "2025-02-01", "2025-03-01"]
    for month, metadata in by_month.items():
        assert metadata["satisfaction_percent"].value == stored.loc[month, "satisfaction_percent"]
        assert metadata["total_responses"].value == stored.loc[month, "total_responses"]
        assert isinstance(metadata["satisfaction_percent"].value, int)
        assert metadata["dagster/row_count"].value == 3
        assert metadata["dagster/column_schema"].schema.columns[0].name == "month"
    assert len({m["total_responses"].value for m in by_month.values()}) == 3, "each month its own figures"
    figures = {
        name: result.asset_materializations_for_node(f"make_an_lpa__{name}")[0].metadata
        for name in ("digital_take_up", "completion_rate", "uptime")
    }
    assert {"take_up_percent", "digital_applications", "total_applications"} <= set(
        figures["digital_take_up"]
    )
    assert {"completion_rate_percent", "sessions_started", "sessions_completed"} <= set(
        figures["completion_rate"]
    )
    assert "uptime_percent" in figures["uptime"]
    publication = result.asset_materializations_for_node("make_an_lpa__data_gov_uk_publication")[0].metadata
    assert "| 2025-02 |" in publication["published"].value and "data.json" in publication["files"].value
