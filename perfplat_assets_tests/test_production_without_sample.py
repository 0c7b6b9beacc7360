"""Production carries no sample: the embedded sample is a distribution of its own (sample/), and the code
location with every source configured loads none of it, nor what only it needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from perfplat_assets_tests.support.services import ROOT

# A deployment's sources, every one set (nothing is connected to when the code location loads).
EVERY_SOURCE = {
    "PERFPLAT_MAKE_AN_LPA_DB_URL": "postgresql://perfplat@127.0.0.1:9/makealpa",
    "PERFPLAT_SIRIUS_DB_URL": "postgresql://perfplat@127.0.0.1:9/sirius",
    "PERFPLAT_GA4_BIGQUERY_DATASET": "opg-analytics.analytics_123456789",
    "PERFPLAT_GA4_PROPERTY_ID": "123456789",
    "PERFPLAT_UPTIME_HEALTH_CHECK_ID": "a1b2c3d4-0000-4000-8000-000000000000",
    "PERFPLAT_USE_AN_LPA_FEEDBACK_EXPORTS": "s3://opg-feedback-exports/use-an-lpa/",
    "PERFPLAT_DEPUTY_REPORTING_DB_URL": "postgresql://perfplat@127.0.0.1:9/digideps",
}
# What only the sample needs: its own modules, the BigQuery emulator's engine and translator, the local stack.
SAMPLE_ONLY = ("perfplat_sample", "duckdb", "sqlglot", "moto")

LOADED = """
import json, sys
import perfplat_assets.definitions
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def deployment_environment(tmp_path: Path, settings: dict[str, str]) -> dict[str, str]:
    """A deployment's environment: no PERFPLAT_ or DAGSTER_ variable from outside, a home in `tmp_path`,
    then `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PERFPLAT_", "DAGSTER_"))}
    return env | {"PERFPLAT_DATA_DIR": str(tmp_path / "data"), "DAGSTER_HOME": str(tmp_path), **settings}


def _loaded(tmp_path: Path, settings: dict[str, str]) -> set[str]:
    """The top-level modules a fresh interpreter holds after loading the code location with `settings`."""
    env = deployment_environment(tmp_path, settings)
    run = subprocess.run(
        [sys.executable, "-c", LOADED], env=env, cwd=tmp_path, capture_output=True, text=True, check=True
    )
    return set(json.loads(run.stdout.splitlines()[-1]))


def test_the_code_location_with_every_source_set_imports_nothing_of_the_sample(tmp_path):
    """The sample is installed here (the tests use it): its absence from sys.modules is the code's doing."""
    loaded = _loaded(tmp_path, EVERY_SOURCE)
    assert "perfplat_assets" in loaded
    assert loaded.isdisjoint(SAMPLE_ONLY), sorted(loaded & set(SAMPLE_ONLY))


def test_with_a_source_unset_the_code_location_loads_the_sample(tmp_path):
    """The contrast to the test above: the same check sees the sample when it is used."""
    settings = {k: v for k, v in EVERY_SOURCE.items() if k != "PERFPLAT_UPTIME_HEALTH_CHECK_ID"}
    assert "perfplat_sample" in _loaded(tmp_path, settings)


def test_perfplat_depends_on_nothing_of_the_sample():
    """`pip install perfplat` brings none of the sample's dependencies, and names no sample by name (the
    sample is installed from the checkout by path, never resolved by a registry)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    sample = tomllib.loads((ROOT / "sample" / "pyproject.toml").read_text())["project"]
    names = {_name(requirement) for requirement in project["dependencies"]}
    sample_needs = {_name(r) for r in sample["dependencies"]} | {
        _name(r) for extra in sample["optional-dependencies"].values() for r in extra
    }
    assert names.isdisjoint(sample_needs | {sample["name"]}), sorted(names & sample_needs)
    assert not any(
        sample["name"] in _name(r) for extra in project["optional-dependencies"].values() for r in extra
    )
    assert "perfplat" not in {_name(r) for r in sample["dependencies"]}
    assert not any("perfplat_sample" in target for target in project["scripts"].values())


def _name(requirement: str) -> str:
    for stop in "[=<>~ ;":
        requirement = requirement.split(stop)[0]
    return requirement.strip().lower()
