"""Published figures are plausible: every dataType's bounds, and a satisfaction percentage that agrees with
its five counts, refused at import (the installed `perfplat import-published` on a real PostgreSQL store)
and withheld at publication with their month. Every expected figure is worked out by hand."""

from __future__ import annotations

import csv
import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from perfplat_assets.common.months import Month
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.publication.committing.plan import (
    RevisionStamp,
    StoreSnapshot,
    dropped_pairs,
    plan_problems,
    plan_publication,
)
from perfplat_assets.publication.published_format.checks import record_problems
from perfplat_assets.services.make_an_lpa.service import MAKE_AN_LPA
from perfplat_assets.user_satisfaction.calculation import parse_methods
from perfplat_assets.user_satisfaction.checks import satisfaction_inconsistencies
from perfplat_assets_tests.support.published import published_record
from perfplat_assets_tests.support.run_results import failure_message, materialize_month
from perfplat_assets_tests.support.services import BIN
from perfplat_assets_tests.support.store import published_records

PERFPLAT = str(BIN / "perfplat")
MARCH, APRIL, MAY = Month.parse("2025-03"), Month.parse("2025-04"), Month.parse("2025-05")
MARCH_26, JUNE_26 = Month.parse("2026-03"), Month.parse("2026-06")
RATINGS = ("very-satisfied", "satisfied", "neither", "dissatisfied", "very-dissatisfied")
OPGS_METHODS = parse_methods("2021-03:weighted-gds,2026-04:top-two-box")


def _month(month: Month, percent: float, counts: tuple[int, ...]) -> dict[tuple[Month, str], float]:
    return {(month, "user-satisfaction-percent"): percent} | {
        (month, data_type): count for data_type, count in zip(RATINGS, counts, strict=True)
    }


# OPG's published figures (docs: make-an-lpa.md), very satisfied first.
MAY_COUNTS = (8081, 4087, 1046, 282, 439)  # 13935 responses, weighted 1174025 / 13935 = 84.25
MARCH_26_COUNTS = (11620, 6044, 1380, 244, 302)  # weighted 86.29
JUNE_26_COUNTS = (8424, 4049, 983, 200, 260)  # 13916 responses, top-two-box 12473 / 13916 = 89.63


# the bounds, record by record


@pytest.mark.parametrize(
    "data_type, count, problem",
    [
        (
            "user-satisfaction-percent",
            5000,
            "count 5000 is above 100, the most a satisfaction percentage can be",
        ),
        ("user-satisfaction-percent", 84.5, "count 84.5 is not a whole number, as a satisfaction percentage"),
        ("digital-take-up", 100.01, "count 100.01 is above 100, the most a percentage can be"),
        ("completion-rate", -0.5, "count -0.5 is negative: 0 is the least a percentage can be"),
        ("uptime-percent", 1e300, "count 1e+300 is above 100, the most a percentage can be"),
        ("very-satisfied", 1e300, "count 1e+300 is above 999999999, the most a rating count can be"),
        ("neither", 1_000_000_000, "count 1000000000 is above 999999999, the most a rating count can be"),
        ("dissatisfied", 12.5, "count 12.5 is not a whole number, as a rating count must be"),
        ("very-dissatisfied", -3, "count -3 is negative: 0 is the least a rating count can be"),
    ],
)
def test_a_record_outside_its_datatypes_bounds_is_named_with_the_bound(data_type, count, problem):
    problems = record_problems(published_record(MAY, data_type, count), MAY, MAKE_AN_LPA.service)
    assert len(problems) == 1 and problems[0].startswith(problem), problems


@pytest.mark.parametrize(
    "data_type, count",
    [
        ("user-satisfaction-percent", 0),
        ("user-satisfaction-percent", 100),
        ("digital-take-up", 36.48),
        ("completion-rate", 100.0),
        ("uptime-percent", 99.95),
        ("very-satisfied", 999_999_999),
        ("satisfied", 4087.0),
        ("neither", 0),
    ],
)
def test_a_record_within_its_bounds_passes(data_type, count):
    assert record_problems(published_record(MAY, data_type, count), MAY, MAKE_AN_LPA.service) == []


# the satisfaction percentage against its counts


def test_opgs_published_percentages_agree_with_their_counts_under_the_months_method():
    values = (
        _month(MAY, 84, MAY_COUNTS)  # weighted 84.25
        | _month(MARCH_26, 86, MARCH_26_COUNTS)  # weighted 86.29
        | _month(JUNE_26, 90, JUNE_26_COUNTS)  # top-two-box 89.63
    )
    assert satisfaction_inconsistencies(values, OPGS_METHODS.method_for) == []


def test_a_percentage_its_counts_do_not_give_is_named_with_both_figures_and_the_method():
    values = (
        _month(MAY, 85, MAY_COUNTS)  # 84.25 rounds to 84
        | _month(MARCH_26, 88, MARCH_26_COUNTS)  # 86.29 rounds to 86
        # June 2026's weighted score, (842400 + 303675 + 49150 + 5000) / 13916 = 86.25, published under the
        # top-two-box method that was in force: 89.63 rounds to 90
        | _month(JUNE_26, 86, JUNE_26_COUNTS)
    )
    found = satisfaction_inconsistencies(values, OPGS_METHODS.method_for)
    assert found == [
        (
            MAY,
            "user-satisfaction-percent 85 is not 84, what 2025-05's five rating counts give by the "
            "weighted-gds method (84.25, rounded half up)",
        ),
        (
            MARCH_26,
            "user-satisfaction-percent 88 is not 86, what 2026-03's five rating counts give by the "
            "weighted-gds method (86.29, rounded half up)",
        ),
        (
            JUNE_26,
            "user-satisfaction-percent 86 is not 90, what 2026-06's five rating counts give by the "
            "top-two-box method (89.63, rounded half up)",
        ),
    ]
    weighted_only = parse_methods("2021-03:weighted-gds")
    assert [m for m, _ in satisfaction_inconsistencies(values, weighted_only.method_for)] == [MAY, MARCH_26]


def test_a_month_without_all_five_counts_or_its_method_is_not_judged():
    partial = _month(MAY, 20, MAY_COUNTS)
    del partial[(MAY, "neither")]
    assert satisfaction_inconsistencies(partial, OPGS_METHODS.method_for) == []
    assert satisfaction_inconsistencies(_month(MAY, 20, MAY_COUNTS), {}.get) == []


# the plan withholds a stored month out of bounds


def test_the_plan_withholds_a_stored_measure_out_of_bounds_and_publishes_the_rest():
    stored = {
        (MARCH, "uptime-percent"): 100.0,
        (APRIL, "uptime-percent"): 100.0,
        (APRIL, "very-satisfied"): 1e300,
    }
    snapshot = StoreSnapshot(stored, {MARCH: datetime(2025, 4, 2, tzinfo=UTC)}, [], {}, service=MAKE_AN_LPA)
    plan = plan_publication(
        snapshot,
        [MAY],
        {(MAY, "uptime-percent"): 99.5},
        stamp=RevisionStamp("run-1", datetime(2025, 6, 2, tzinfo=UTC)),
        csv_url=None,
    )
    # April's satisfaction is withheld (its rating count is out of bounds); April's uptime is published.
    assert list(plan.withheld) == [(APRIL, "user_satisfaction")]
    reason = plan.withheld[(APRIL, "user_satisfaction")]
    assert reason.startswith(
        "very-satisfied count 1e+300 is above 999999999, the most a rating count can be. This measure of "
        "2025-04 is withheld (it is left out of every file)"
    )
    assert "correct its row in the store's published_records table" in reason
    records = json.loads(plan.file("data.json").content)
    assert [(r["_timestamp"][:7], r["dataType"], r["count"]) for r in records] == [
        ("2025-03", "uptime-percent", 100),
        ("2025-04", "uptime-percent", 100),
        ("2025-05", "uptime-percent", 99.5),
    ]
    assert "1e+300" not in plan.file("data.csv").content.decode()
    assert plan_problems(plan, MAY) == []
    already_public = [
        published_record(APRIL, "uptime-percent", 100),
        published_record(APRIL, "very-satisfied", 1e300),
        published_record(MARCH, "uptime-percent", 100),
    ]
    assert dropped_pairs(plan, already_public) == [], "withholding the measure is deliberate, and named"


# at import: the installed command on a real PostgreSQL store


def _import(path: Path, postgres_url: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PERFPLAT_METRICS_DB_URL": postgres_url}
    return subprocess.run([PERFPLAT, "import-published", str(path)], capture_output=True, text=True, env=env)


def _series() -> list[dict]:
    """March 2025 (satisfaction and uptime only) and May 2025 with its five counts, as OPG published them."""
    return [
        published_record(MARCH, "user-satisfaction-percent", 83),
        published_record(MARCH, "uptime-percent", 100),
        published_record(MAY, "user-satisfaction-percent", 84),
        *(
            published_record(MAY, data_type, count)
            for data_type, count in zip(RATINGS, MAY_COUNTS, strict=True)
        ),
        published_record(MAY, "uptime-percent", 100),
    ]


@pytest.mark.parametrize(
    "position, count, named",
    [
        (4, 1e300, "record 4: count 1e+300 is above 999999999, the most a rating count can be"),
        (3, 5000, "record 3: count 5000 is above 100, the most a satisfaction percentage can be"),
        (5, 4087.5, "record 5: count 4087.5 is not a whole number, as a rating count must be"),
    ],
)
def test_import_refuses_an_implausible_record_with_its_position_and_imports_nothing(
    position, count, named, tmp_path, perfplat_env, postgres_url
):
    series = _series()
    series[position - 1]["count"] = count
    path = tmp_path / "data.json"
    path.write_text(json.dumps(series), encoding="utf-8")
    refused = _import(path, postgres_url)
    assert refused.returncode == 2, refused.stdout
    assert "1 record(s) break the published format" in refused.stderr
    assert named in refused.stderr
    assert "Traceback" not in refused.stderr and refused.stdout == ""
    assert MetricsStore(url=postgres_url).read(published_records).empty


def test_import_adopts_a_month_that_disagrees_with_itself_flags_it_and_says_so(
    tmp_path, perfplat_env, postgres_url
):
    """OPG's published record stands: May 2025's 95 is imported as published, though its counts give 84."""
    series = _series()
    series[2]["count"] = 95
    path = tmp_path / "data.json"
    path.write_text(json.dumps(series), encoding="utf-8")
    imported = _import(path, postgres_url)
    assert imported.returncode == 0, imported.stderr
    assert (
        "  2025-05: user-satisfaction-percent 95 is not 84, what 2025-05's five rating counts give by the "
        "weighted-gds method (84.25, rounded half up)"
    ) in imported.stdout.splitlines()
    stored = MetricsStore(url=postgres_url).read(published_records)
    flagged = stored[stored["inconsistent"].notna()]
    assert list(zip(flagged["month"], flagged["data_type"], flagged["count"], strict=True)) == [
        ("2025-05-01", "user-satisfaction-percent", 95.0)
    ]
    assert len(stored) == len(series)


# at publication: a month stored out of bounds before the check is withheld, the rest published


def _publication(publish: Path) -> tuple[dict[tuple[str, str], object], str]:
    records = json.loads(
        (publish / "make_a_lasting_power_of_attorney_service" / "data.json").read_text(encoding="utf-8")
    )
    return {(r["_timestamp"][:7], r["dataType"]): r["count"] for r in records}, (
        publish / "make_a_lasting_power_of_attorney_service" / "data.csv"
    ).read_text(encoding="utf-8")


def _set_stored(store: MetricsStore, month: Month, data_type: str, count: float) -> None:
    """What an import from before the bounds could leave in the store."""
    with store.transaction() as connection:
        changed = connection.execute(
            update(published_records)
            .where(published_records.c.month == month.key, published_records.c.data_type == data_type)
            .values(count=count)
        )
        assert changed.rowcount == 1


def test_a_stored_month_out_of_bounds_is_withheld_and_the_run_fails_naming_it(
    tmp_path, perfplat_env, postgres_url, monkeypatch
):
    publish = tmp_path / "publish"
    # The embedded sample stands in for the real sources beside the real history: a mix the store refuses
    # unless PERFPLAT_ALLOW_SAMPLE_DATA says so.
    monkeypatch.setenv("PERFPLAT_ALLOW_SAMPLE_DATA", "true")
    monkeypatch.setenv("PERFPLAT_METRICS_DB_URL", postgres_url)
    monkeypatch.setenv("PERFPLAT_PUBLISH_DIR", str(publish))
    store = MetricsStore(url=postgres_url)
    march_and_april = [
        published_record(MARCH, "user-satisfaction-percent", 83),
        published_record(MARCH, "uptime-percent", 100),
        published_record(APRIL, "user-satisfaction-percent", 85),
        published_record(APRIL, "uptime-percent", 100),
    ]
    path = tmp_path / "history.json"
    path.write_text(json.dumps(march_and_april), encoding="utf-8")
    assert _import(path, postgres_url).returncode == 0
    _set_stored(store, APRIL, "user-satisfaction-percent", 5000)

    # The import's months and May are published; April's satisfaction, out of bounds, is left out of every
    # file, and April's uptime is published.
    first = materialize_month(MAY)
    assert not first.success
    message = failure_message(first)
    assert (
        "Published 2025-05; withheld 2025-04 user-satisfaction: user-satisfaction-percent count 5000 is "
        "above 100, the " in message
    )
    assert "correct its row in the store's published_records table" in message
    published, data_csv = _publication(publish)
    assert published[("2025-03", "user-satisfaction-percent")] == 83
    assert published[("2025-05", "very-satisfied")] > 0
    assert {pair for pair in published if pair[0] == "2025-04"} == {("2025-04", "uptime-percent")}
    assert "5000" not in data_csv
    assert [row["month"] for row in csv.DictReader(data_csv.splitlines())] == [
        "2025-03",
        "2025-04",
        "2025-05",
    ]
    assert (publish / "make_a_lasting_power_of_attorney_25_05.json").is_file()
    april = json.loads((publish / "make_a_lasting_power_of_attorney_25_04.json").read_text(encoding="utf-8"))
    assert [r["dataType"] for r in april] == ["uptime-percent"]
    stored = store.read(published_records)
    assert stored[(stored["month"] == APRIL.key) & (stored["data_type"] == "user-satisfaction-percent")][
        "count"
    ].tolist() == [5000], "the store keeps the row, for the operator to correct"

    # Corrected in the store, April's satisfaction is published; April's uptime out of bounds is then
    # withheld though data.json already holds it: the withholding is deliberate and named, not a silent drop.
    _set_stored(store, APRIL, "user-satisfaction-percent", 85)
    assert materialize_month(MAY).success
    assert _publication(publish)[0][("2025-04", "user-satisfaction-percent")] == 85
    _set_stored(store, APRIL, "uptime-percent", 100.5)
    again = materialize_month(MAY)
    assert not again.success
    assert (
        "withheld 2025-04 uptime: uptime-percent count 100.5 is above 100, the most a percentage can be"
        in (failure_message(again))
    )
    assert {pair for pair in _publication(publish)[0] if pair[0] == "2025-04"} == {
        ("2025-04", "user-satisfaction-percent")
    }
