"""One local instance: the local entry points, run from the checkout with nothing set, record their runs in
the one Dagster instance and the one metrics store that the checkout keeps in .perfplat/, so each sees what
the others ran (issue 30: `dg launch`'s run once went to a throwaway instance `make dev` never showed)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from dagster import DagsterInstance
from dagster._core.instance.ref import InstanceRef

from perfplat_assets_tests.support.services import (
    BIN,
    ROOT,
    DagsterServices,
    answers,
    dagster_dev_pid,
    free_port,
    stop_with_ctrl_c,
)
from perfplat_sample.local_stack import group_alive

# What decides the instance of a command run from the checkout: Dagster's configuration, the project's
# settings (`dg`), the workspace and the make targets. The code is the venv's.
CHECKOUT_FILES = ("Makefile", "dagster.yaml", "pyproject.toml", "workspace.yaml")
LAUNCHED_MONTH = "2025-05-01"
MATERIALIZED_MONTH = "2025-06-01"
RUNS = "{ runsOrError { ... on Runs { results { runId status tags { key value } } } } }"


def _clean_environment() -> dict[str, str]:
    """A person's shell: no DAGSTER_*, PERFPLAT_* or AWS_* variable, nothing from a `make test` around the
    suite, Make an LPA alone (as the tests run)."""
    outside = ("DAGSTER_", "PERFPLAT_", "AWS_", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    env = {k: v for k, v in os.environ.items() if not k.startswith(outside)}
    return env | {"PERFPLAT_SERVICES": "make_an_lpa", "NO_PROXY": "127.0.0.1,localhost"}


def _run(command: list[str], checkout: Path, env: dict[str, str]) -> str:
    done = subprocess.run(command, cwd=checkout, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{command[0]} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
    return done.stdout


def _runs_by_tag(runs: list[dict]) -> dict[str, dict]:
    """Each run as its one identifying tag: a single month's partition, or the demo's one-month range."""
    named = {}
    for run in runs:
        tags = {tag["key"]: tag["value"] for tag in run["tags"]}
        name = tags.get("dagster/partition") or "range " + tags["dagster/asset_partition_range_start"]
        named[name] = run | {"tags": tags}
    return named


def test_make_dev_the_demo_make_materialize_and_dg_launch_share_one_instance_and_one_store(tmp_path):
    checkout = (tmp_path / "perfplat").resolve()  # as the commands print it
    checkout.mkdir()
    for name in CHECKOUT_FILES:
        shutil.copy(ROOT / name, checkout / name)
    env = _clean_environment()
    # The demo for one month, as after `make demo`.
    demo = _run([str(BIN / "perfplat-demo"), "--months", "1"], checkout, env)
    home = checkout / ".perfplat" / "dagster_home"
    assert f"dagster runs:    {home}" in demo
    assert f"metrics store:   sqlite:///{checkout}/.perfplat/metrics.sqlite" in demo
    # `make materialize` (`perfplat materialize`) for another month.
    materialize = [
        "make",
        "-o",
        "install",
        "materialize",
        f"VENV={BIN.parent}",
        f"PARTITION={MATERIALIZED_MONTH}",
    ]
    assert "published Make an LPA 2025-06" in _run(materialize, checkout, env)

    ui_port, aws_port = free_port(), free_port()
    # `make dev` on ports of its own, from a shell where another project's DAGSTER_HOME is set: the make
    # targets use the checkout's instance all the same. The venv is installed already (-o: not remade).
    elsewhere = tmp_path / "another_dagster_home"
    elsewhere.mkdir()
    log = tmp_path / "make-dev.log"
    make_dev = ["make", "-o", "install-dev", "dev", f"VENV={BIN.parent}"]
    with log.open("wb") as output:
        dev = subprocess.Popen(
            [*make_dev, f"UI_PORT={ui_port}", f"AWS_PORT={aws_port}"],
            cwd=checkout,
            env=env | {"DAGSTER_HOME": str(elsewhere)},
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    dagster_pid = None
    try:
        dagster_pid = dagster_dev_pid(log)
        # While the UI starts, `dg launch` of one asset for another month. (The demo came first: two
        # processes creating a fresh SQLite instance at the same moment can leave it unreadable.)
        launch = [str(BIN / "dg"), "launch", "--assets", "make_an_lpa/user_satisfaction"]
        _run([*launch, "--partition", LAUNCHED_MONTH], checkout, env)

        assert answers(f"http://127.0.0.1:{aws_port}/moto-api/"), "the AWS endpoint is on AWS_PORT"
        ui = DagsterServices(ui_port, [log], [dev])
        ui.poll("make dev's UI on UI_PORT", ui.serving, 120)
        shown = _runs_by_tag(ui.graphql(RUNS)["runsOrError"]["results"])
    finally:
        stop_with_ctrl_c(dev, log, dagster_pid, "make dev")
    assert dagster_pid and not group_alive(dagster_pid), "dagster dev's processes outlived make dev"

    # The UI showed both runs, each a success, and nothing else.
    materialized = f"range {MATERIALIZED_MONTH}"
    [demo_range] = [name for name in shown if name.startswith("range ") and name != materialized]
    assert sorted(shown) == sorted([demo_range, materialized, LAUNCHED_MONTH])
    assert {run["status"] for run in shown.values()} == {"SUCCESS"}
    demo_month = shown[demo_range]["tags"]["dagster/asset_partition_range_end"]
    assert demo_range == f"range {demo_month}", "the demo ran one month"

    # They are stored in .perfplat/dagster_home, read as a plain Dagster home (no configuration of its own).
    instance = DagsterInstance.from_ref(InstanceRef.from_dir(str(home)))
    try:
        assert sorted(run.run_id for run in instance.get_runs()) == sorted(r["runId"] for r in shown.values())
    finally:
        instance.dispose()
    assert not (elsewhere / "history").exists(), "make dev used another DAGSTER_HOME"
    assert not list(checkout.glob(".tmp_dagster_home_*")), "a temporary instance was left behind"

    # One metrics store: the demo's month and the launched month side by side.
    with closing(sqlite3.connect(checkout / ".perfplat" / "metrics.sqlite")) as store:
        months = {row[0] for row in store.execute("SELECT month FROM make_an_lpa__user_satisfaction")}
    assert months == {demo_month, LAUNCHED_MONTH, MATERIALIZED_MONTH}
