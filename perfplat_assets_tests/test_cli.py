"""The code location as Dagster's own CLI sees it, the way an engineer runs it."""

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dagster import DagsterInstance
from dagster._core.instance.ref import InstanceRef

from perfplat_assets.services.registry import services
from perfplat_assets_tests.support.services import (
    BIN,
    DAGSTER,
    MATERIALIZE_EVERY_ASSET,
    ROOT,
    dagster_environment,
)
from perfplat_assets_tests.support.sources import create_postgres_feedback
from perfplat_sample.ga4_emulator import GA4Emulator

# OPG's published counts for May 2025, and the published percentage (weighted 84.25).
MAY_2025 = {
    "very-satisfied": 8081,
    "satisfied": 4087,
    "neither-satisfied-or-dissatisfied": 1046,
    "dissatisfied": 282,
    "very-dissatisfied": 439,
}
PERSONAL_MARK = "perfplat-personal-marker"


def _dagster(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [DAGSTER, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def test_definitions_validate(tmp_path):
    result = _dagster(
        "definitions", "validate", "-w", "workspace.yaml", env=dagster_environment(tmp_path), cwd=ROOT
    )
    assert result.returncode == 0, result.stderr
    assert "Validation successful for code location perfplat" in result.stdout + result.stderr


def test_materialize_a_month_from_a_postgres_feedback_table(tmp_path, postgres_url):
    start = datetime(2025, 4, 30, 23, 0, tzinfo=UTC)  # midnight BST on 1 May
    rows, number = [], 0
    for rating, count in MAY_2025.items():
        for _ in range(count):
            number += 1
            rows.append(
                {
                    "received": start + timedelta(seconds=number * 150),
                    "message": {
                        "rating": rating,
                        "details": f"{PERSONAL_MARK} {number}",
                        "email": f"{PERSONAL_MARK}{number}@example.invalid",
                        "phone": "07700 900123",
                    },
                }
            )
    # A response in the last minute of April (BST) belongs to April, not May.
    rows.append({"received": start - timedelta(minutes=1), "message": {"rating": "very-dissatisfied"}})
    create_postgres_feedback(postgres_url, rows)

    publish = tmp_path / "publish"
    env = dagster_environment(
        tmp_path, PERFPLAT_MAKE_AN_LPA_DB_URL=postgres_url, PERFPLAT_PUBLISH_DIR=str(publish)
    )
    args = [
        *MATERIALIZE_EVERY_ASSET,
        "--partition",
        "2025-05-01",
    ]
    result = _dagster(
        *args, env=env, cwd=ROOT
    )  # where an engineer runs it, beside the production dagster.yaml
    assert result.returncode == 0, result.stderr[-3000:]

    published = json.loads(
        (publish / "make_a_lasting_power_of_attorney_25_05.json").read_text(encoding="utf-8")
    )
    counts = {r["dataType"]: r["count"] for r in published}
    assert counts["user-satisfaction-percent"] == 84
    ratings = ("very-satisfied", "satisfied", "neither", "dissatisfied", "very-dissatisfied")
    assert [counts[k] for k in ratings] == [8081, 4087, 1046, 282, 439]
    assert PERSONAL_MARK not in result.stdout + result.stderr
    assert not any(PERSONAL_MARK in p.read_text(encoding="utf-8") for p in publish.rglob("*") if p.is_file())


def test_a_range_of_months_is_one_run_and_one_ga4_request(tmp_path):
    with GA4Emulator() as emulator:
        env = dagster_environment(
            tmp_path,
            PERFPLAT_GA4_API_ENDPOINT=emulator.endpoint,
            PERFPLAT_GA4_PROPERTY_ID="0",
            NO_PROXY="127.0.0.1",
        )
        args = MATERIALIZE_EVERY_ASSET
        result = _dagster(*args, "--partition-range", "2024-01-01...2025-12-01", env=env, cwd=ROOT)
        assert result.returncode == 0, result.stderr[-3000:]
        assert emulator.requests_served == 1
    publish = tmp_path / "data" / "publish"
    assert len(list(publish.glob("make_a_lasting_power_of_attorney_*.json"))) == 24
    records = json.loads(
        (publish / "make_a_lasting_power_of_attorney_service" / "data.json").read_text(encoding="utf-8")
    )
    assert len({r["_timestamp"] for r in records}) == 24
    instance = DagsterInstance.from_ref(InstanceRef.from_dir(env["DAGSTER_HOME"]))
    [run] = instance.get_runs()
    assert run.tags["dagster/asset_partition_range_start"] == "2024-01-01"
    assert run.tags["dagster/asset_partition_range_end"] == "2025-12-01"
    instance.dispose()


def test_the_demo_prints_the_months_it_published(tmp_path):
    env = dagster_environment(tmp_path, PERFPLAT_PUBLISH_DIR=str(tmp_path / "published"))
    del env["PERFPLAT_SERVICES"]  # the demo's own default: every service
    demo = subprocess.run(
        [str(BIN / "perfplat-demo"), "--months", "2"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert demo.returncode == 0, demo.stderr[-3000:]
    published = tmp_path / "published"
    assert f"published files: {published}" in demo.stdout
    # A table per service, each with the two months, and each month's file where OPG's automation looks.
    tables = demo.stdout.split("_service/)")[1:]
    assert len(tables) == 3
    for service, table in zip(services(), tables, strict=True):
        assert f"{service.title} ({service.folder}/)" in demo.stdout
        rows = [line for line in table.splitlines() if line.startswith("| 20")]
        assert len(rows) == 2, table
        for row in rows:
            month = row.split("|")[1].strip()
            assert (published / f"{service.stem}_{month[2:4]}_{month[5:7]}.json").exists()
