"""The completion rate counted exactly in GA4's BigQuery export: the real `google-cloud-bigquery` client
against the BigQuery emulator on loopback, with sessions built by hand to meet every rule of the
definition, and each expected figure worked out by hand below.

September and October 2026: September ends in BST (UTC+1), October in GMT (the clocks went back on 25
October), so a London month is not a UTC month at either end.
"""

from __future__ import annotations

import csv
import json
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dagster import ExecuteInProcessResult

from perfplat_assets.common.errors import SourceUnavailable
from perfplat_assets.common.months import LONDON, Month, months_between
from perfplat_assets.common.settings import SettingError
from perfplat_assets.completion_rate.measure import table as completion_rate_table_template
from perfplat_assets.completion_rate.queries.bigquery_export import coverage
from perfplat_assets.completion_rate.resources.bigquery_export import GA4Export
from perfplat_assets.configuration import build_resources
from perfplat_assets.metrics_store.tables import service_table
from perfplat_assets_tests.support.bigquery_faults import FaultyBigQueryEmulator
from perfplat_assets_tests.support.journeys import journeys_by_hand, percent_half_up
from perfplat_assets_tests.support.run_results import failure_message, materialize_range
from perfplat_sample.bigquery_emulator import SAMPLE_DATASET, SAMPLE_PROJECT, sample_tables
from perfplat_sample.ga4_emulator import GA4Emulator
from perfplat_sample.sample_data import SampleSession

completion_rate_table = service_table("make_an_lpa", completion_rate_table_template)  # Make an LPA's own copy

PROJECT, DATASET = "opg-analytics", "analytics_123456789"
SEPTEMBER, OCTOBER = Month.parse("2026-09"), Month.parse("2026-10")
SITE = "https://www.lastingpowerofattorney.service.gov.uk"


def _utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _event(at: datetime, user: str | None, session: int | None, path: str, name: str = "page_view") -> dict:
    params: list[dict[str, Any]] = []
    if session is not None:
        params.append({"key": "ga_session_id", "value": {"int_value": session}})
    location = path if "://" in path else SITE + path
    params.append({"key": "page_location", "value": {"string_value": location}})
    return {
        "event_date": f"{at.astimezone(LONDON):%Y%m%d}",
        "event_timestamp": int(at.timestamp()) * 1_000_000,
        "event_name": name,
        "user_pseudo_id": user,
        "event_params": params,
    }


START, APPLICANT = "/lpa/type", "/lpa/4321/applicant"
EVENTS = [
    # September: 3 sessions began the journey (S1, S16, S17), 2 completed it: 66.7.
    _event(_utc(9, 10, 9), "u1", 101, START),  # S1: start, then the applicant page
    _event(_utc(9, 10, 9, 5), "u1", 101, APPLICANT),
    _event(_utc(9, 29, 20), "u18", 117, START),  # S16: completed 14 hours later, in October
    _event(_utc(9, 30, 10), "u18", 117, APPLICANT),
    _event(_utc(9, 15, 10), "u19", 118, START),  # S17: started only
    # S2: 23:30 UTC on 30 September is 00:30 on 1 October in London (BST): an October session.
    _event(_utc(9, 30, 23, 30), "u2", 102, START),
    _event(_utc(9, 30, 23, 40), "u2", 102, APPLICANT),
    # October: 11 began (S2 to S15 below, less those that never did), 6 completed: 54.5.
    _event(_utc(10, 31, 23, 50), "u3", 103, START),  # S3: 23:50 GMT on 31 October...
    _event(_utc(11, 1, 0, 10), "u3", 103, APPLICANT),  # ...completed at 00:10 on 1 November: October's
    _event(_utc(10, 5, 10), "u4", 104, APPLICANT),  # S4: the applicant page before the start page
    _event(_utc(10, 5, 10, 5), "u4", 104, START),
    _event(_utc(10, 6, 10), "u5", 105, START),  # S5: started here...
    _event(_utc(10, 6, 12), "u5", 106, APPLICANT),  # ...completed only in a later session
    *[_event(_utc(10, 7, 10), "u6", 107, START)] * 2,  # S6: every event twice
    *[_event(_utc(10, 7, 10, 10), "u6", 107, APPLICANT)] * 2,
    _event(_utc(10, 8, 10), "u7", 108, START),  # S7: one ga_session_id under two users
    _event(_utc(10, 8, 10, 5), "u8", 108, APPLICANT),
    _event(_utc(10, 9, 10), "u9", None, START),  # S8: no session id: in no session
    _event(_utc(10, 9, 10, 5), "u9", None, APPLICANT),
    _event(_utc(10, 10, 10), "u10", 109, START),  # S9: the applicant URL on a scroll, not a page view
    _event(_utc(10, 10, 10, 5), "u10", 109, APPLICANT, name="scroll"),
    _event(_utc(10, 11, 10), "u11", 110, "/user/dashboard/create/12345?from=home#top"),  # S10: query strings
    _event(_utc(10, 11, 10, 10), "u11", 110, "/lpa/12345/applicant/?ref=x"),  # and a trailing slash
    _event(_utc(10, 12, 10), "u12", 111, "/LPA/type"),  # S11: case matters: not a start page
    _event(_utc(10, 12, 10, 5), "u12", 111, APPLICANT),
    _event(_utc(10, 13, 10), "u13", 112, START),  # S12: the applicant page 24 hours 1 minute later
    _event(_utc(10, 14, 10, 1), "u13", 112, APPLICANT),
    _event(_utc(10, 16, 10), "u15", 114, "https://other.example/lpa/type"),  # S14: the host is not checked
    _event(_utc(10, 16, 10, 2), "u15", 114, "http://x.example/lpa/5/applicant"),
    _event(_utc(10, 18, 10), "u17", 116, "/user/dashboard/create"),  # S15: the plain create page
    _event(_utc(10, 18, 10, 3), "u17", 116, APPLICANT),
]
# A session only in an intraday table: never counted (intraday tables are not settled).
INTRADAY = [_event(_utc(10, 17, 10), "u16", 115, START), _event(_utc(10, 17, 10, 5), "u16", 115, APPLICANT)]
BY_HAND = {SEPTEMBER: 66.7, OCTOBER: 54.5}  # 2 of 3; 6 of 11


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _load(emulator: FaultyBigQueryEmulator, days: list[date]) -> None:
    """The export's daily tables for `days`, each holding the hand-built events of that London day."""
    emulator.create_dataset(PROJECT, DATASET, "EU")
    for day in days:
        rows = [event for event in EVENTS if event["event_date"] == f"{day:%Y%m%d}"]
        emulator.load_table(PROJECT, DATASET, f"events_{day:%Y%m%d}", rows)
    emulator.load_table(PROJECT, DATASET, "events_intraday_20261017", INTRADAY)


@pytest.fixture
def bigquery() -> Iterator[FaultyBigQueryEmulator]:
    with FaultyBigQueryEmulator(location="EU") as emulator:
        yield emulator


@pytest.fixture
def export_env(perfplat_env: Path, bigquery: FaultyBigQueryEmulator, monkeypatch: pytest.MonkeyPatch) -> Path:
    """PERFPLAT_GA4_BIGQUERY_DATASET and PERFPLAT_BIGQUERY_API_ENDPOINT set to the emulator's export; the
    GA4 property unset, so the Data API is not asked; every other source the embedded default's."""
    monkeypatch.setenv("PERFPLAT_GA4_BIGQUERY_DATASET", f"{PROJECT}.{DATASET}")
    monkeypatch.setenv("PERFPLAT_BIGQUERY_API_ENDPOINT", bigquery.endpoint)
    return perfplat_env


def _run(first: Month, last: Month, selection: list[str] | None = None) -> ExecuteInProcessResult:
    """One run over the range, in process, as a backfill of it is."""
    return materialize_range(first, last, selection)


def _published(data_dir: Path) -> dict[str, float]:
    records = json.loads(
        (data_dir / "publish" / "make_a_lasting_power_of_attorney_service" / "data.json").read_text(
            encoding="utf-8"
        )
    )
    return {r["_timestamp"][:7]: r["count"] for r in records if r["dataType"] == "completion-rate"}


def _stored() -> dict[str, dict[str, Any]]:
    """The completion rate's rows in the metrics store, by month; NULL as None."""
    frame = build_resources()["metrics_store"].read(completion_rate_table)
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return {row["month"][:7]: row for row in rows}


def test_one_range_run_publishes_each_months_exact_rate_from_one_job(export_env, bigquery):
    _load(bigquery, _days(date(2026, 9, 1), date(2026, 11, 1)))
    result = _run(SEPTEMBER, OCTOBER)
    assert result.success, failure_message(result) if not result.success else ""
    assert _published(export_env) == {"2026-09": 66.7, "2026-10": 54.5}
    [job] = bigquery.jobs  # one query for the range, with named parameters and labels
    assert {p.name for p in job.parameters} >= {"first_table", "last_table", "months_from", "months_until"}
    assert "2026" not in job.query, "no value is formatted into the SQL"
    assert job.labels == {"app": "perfplat", "measure": "completion_rate", "months": "2026-09_to_2026-10"}
    stored = _stored()
    assert (stored["2026-10"]["sessions_started"], stored["2026-10"]["sessions_completed"]) == (11, 6)
    assert stored["2026-10"]["method"] == "ga4-export-journeys"
    assert stored["2026-10"]["data_api_sessions_started"] is None, "no property set: nothing to compare"
    notes = (export_env / "publish" / "make_a_lasting_power_of_attorney_service" / "notes.md").read_text(
        encoding="utf-8"
    )
    assert "- 2026-09 to 2026-10: journeys in GA4's BigQuery export" in notes
    [completion] = [
        e for e in result.get_asset_materialization_events() if e.step_key == "make_an_lpa__completion_rate"
    ][:1]
    metadata = completion.materialization.metadata
    assert metadata["bigquery_bytes_processed"].value > 0 and metadata["bigquery_job"].value == job.job_id


def test_a_month_whose_last_day_has_no_table_is_left_out_then_counted_and_revised(export_env, bigquery):
    _load(bigquery, _days(date(2026, 10, 1), date(2026, 10, 31)))  # 1 November's table not written yet
    first = _run(OCTOBER, OCTOBER)
    assert first.success  # a measure left out is no failure: it is said, and published once it can be
    assert "2026-10" not in _published(export_env)
    reason = _stored()["2026-10"]["not_available_reason"]
    assert (
        reason.startswith("the export has no table for 2026-11-01 yet") and "settled run on the 4th" in reason
    )
    assert bigquery.jobs == [], "nothing is counted from part of a month"

    bigquery.load_table(
        PROJECT, DATASET, "events_20261101", [e for e in EVENTS if e["event_date"] == "20261101"]
    )
    assert _run(OCTOBER, OCTOBER).success
    assert _published(export_env)["2026-10"] == 54.5
    revisions = list(
        csv.DictReader(
            (export_env / "publish" / "make_a_lasting_power_of_attorney_service" / "revisions.csv").open(
                encoding="utf-8"
            )
        )
    )
    assert [(r["month"][:7], r["dataType"], r["previous_value"], r["new_value"]) for r in revisions] == [
        ("2026-10", "completion-rate", "", "54.5")
    ]


def _ga4_sessions(month: Month, started: int, completed: int) -> list[SampleSession]:
    when = datetime.combine(month.first_day + timedelta(days=9), datetime.min.time(), LONDON)
    done = [SampleSession(f"{month}-a{i}", when, (START, f"/lpa/{i}/applicant"), i) for i in range(completed)]
    return done + [SampleSession(f"{month}-b{i}", when, (START,), None) for i in range(started - completed)]


def test_months_before_the_export_come_from_the_data_api_and_exact_months_keep_it_beside(
    export_env, bigquery, monkeypatch
):
    _load(bigquery, _days(date(2026, 10, 1), date(2026, 11, 1)))  # the export was linked on 1 October
    sessions = {SEPTEMBER: _ga4_sessions(SEPTEMBER, 200, 90), OCTOBER: _ga4_sessions(OCTOBER, 50, 20)}
    with GA4Emulator(lambda month: sessions.get(month, [])) as ga4:
        monkeypatch.setenv("PERFPLAT_GA4_PROPERTY_ID", "123456")
        monkeypatch.setenv("PERFPLAT_GA4_API_ENDPOINT", ga4.endpoint)
        assert _run(SEPTEMBER, OCTOBER).success
    assert _published(export_env) == {"2026-09": 45.0, "2026-10": 54.5}  # 90 of 200 by the Data API
    stored = _stored()
    assert stored["2026-09"]["method"] == "ga4-data-api-ratio"
    assert stored["2026-10"]["method"] == "ga4-export-journeys"
    assert stored["2026-10"]["data_api_completion_rate_percent"] == 40.0  # 20 of 50, for comparison
    notes = (export_env / "publish" / "make_a_lasting_power_of_attorney_service" / "notes.md").read_text(
        encoding="utf-8"
    )
    assert (
        "- 2026-09: GA4 Data API ratio" in notes and "- 2026-10: journeys in GA4's BigQuery export" in notes
    )


def test_a_24_month_range_is_one_job_and_every_month_is_the_definition_by_hand(perfplat_env, monkeypatch):
    months = months_between(Month.parse("2024-12"), Month.parse("2026-11"))
    with FaultyBigQueryEmulator(sample_tables(months), location="EU") as emulator:
        monkeypatch.setenv("PERFPLAT_GA4_BIGQUERY_DATASET", f"{SAMPLE_PROJECT}.{SAMPLE_DATASET}")
        monkeypatch.setenv("PERFPLAT_BIGQUERY_API_ENDPOINT", emulator.endpoint)
        assert _run(months[0], months[-1], selection=["make_an_lpa/completion_rate"]).success
        [job] = emulator.jobs
    assert job.labels["months"] == "2024-12_to_2026-11"
    stored = _stored()
    for month in months:
        started, completed = journeys_by_hand(month)
        row = stored[month.label]
        assert (row["sessions_started"], row["sessions_completed"]) == (started, completed), month
        assert row["completion_rate_percent"] == float(percent_half_up(completed, started, "0.1")), month


# A wrong answer: the month withheld, naming the export and what was wrong; nothing of it stored or published

COLUMNS = [("month", "STRING"), ("started", "INTEGER"), ("completed", "INTEGER")]
NAMED = f"GA4's BigQuery export {PROJECT}.{DATASET} (PERFPLAT_GA4_BIGQUERY_DATASET)"


def _published_types(data_dir: Path, month: str) -> set[str]:
    records = json.loads(
        (data_dir / "publish" / "make_a_lasting_power_of_attorney_service" / "data.json").read_text(
            encoding="utf-8"
        )
    )
    return {r["dataType"] for r in records if r["_timestamp"][:7] == month}


def test_negative_counts_withhold_the_months_rate_and_the_rest_is_published(export_env, bigquery):
    _load(bigquery, _days(date(2026, 10, 1), date(2026, 11, 1)))
    bigquery.answer_rows(COLUMNS, [["2026-10", "-1756", "-1126"], ["2026-13", "5", "5"]])
    result = _run(OCTOBER, OCTOBER)
    assert result.success, "a wrong answer withholds the measure for its month; the run goes on"
    published = _published_types(export_env, "2026-10")
    assert {"user-satisfaction-percent", "digital-take-up", "uptime-percent"} <= published
    assert "completion-rate" not in published
    october = _stored()["2026-10"]
    assert (october["sessions_started"], october["completion_rate_percent"]) == (0, None)
    assert october["not_available_reason"] == (
        f"{NAMED}: 2026-10 has -1756 journeys started and -1126 journeys completed, and a count must be a "
        "whole number, 0 or more; 2026-10's completion rate is withheld"
    )
    [completion] = [
        e for e in result.get_asset_materialization_events() if e.step_key == "make_an_lpa__completion_rate"
    ]
    assert completion.materialization.metadata["ignored in the answers"].value == (
        f"{NAMED} answered for '2026-13', which is not a month: ignored, never stored"
    )


@pytest.mark.parametrize(
    "columns, rows, said",
    [
        (
            COLUMNS,
            [["2026-10", "1756", "1126"], ["2026-10", "5", "5"]],
            "2026-10 appears twice in the answer",
        ),
        (
            [("month", "STRING"), ("started", "FLOAT"), ("completed", "INTEGER")],
            [["2026-10", "1756.5", "1126"]],
            "2026-10 has 1756.5 journeys started, and a count must be a whole number, 0 or more",
        ),
        (COLUMNS, [["2026-10", "10", "20"]], "2026-10 has 20 journeys completed but 10 started"),
        (
            [("month", "STRING"), ("started", "INTEGER")],
            [["2026-10", "10"]],
            "2026-10 has None journeys completed",
        ),
    ],
)
def test_a_wrong_answer_through_the_real_client_names_the_export_and_what_was_wrong(
    bigquery, columns, rows, said
):
    _load(bigquery, _days(date(2026, 10, 1), date(2026, 11, 1)))
    bigquery.answer_rows(columns, rows)
    export = _export(bigquery.endpoint)
    counted = export.journeys([OCTOBER])
    assert dict(counted.sessions) == {}, "nothing of a wrong month is used"
    reason = counted.sessions.reasons(export.named, "completion rate")[OCTOBER]
    assert reason.startswith(f"{NAMED}: {said}") and reason.endswith(
        "; 2026-10's completion rate is withheld"
    )


def test_a_job_that_never_finishes_is_cancelled_at_the_deadline_polled_less_and_less(bigquery):
    _load(bigquery, _days(date(2026, 10, 1), date(2026, 11, 1)))
    bigquery.never_finish()
    with pytest.raises(SourceUnavailable) as overran:
        _export(bigquery.endpoint, timeout_seconds=1).journeys([OCTOBER])
    [job] = bigquery.cancelled
    said = str(overran.value)
    assert said.startswith(f"BigQuery job {job} on GA4's BigQuery export {PROJECT}.{DATASET} at ")
    assert "was still running after 1 s" in said and "so it was cancelled and bills no further" in said
    assert said.endswith("nothing was counted: re-run the month later") and "retried: ." not in said
    # Asked at once, then after 0.5 s, then at the deadline (1 s): three times (a fourth if the clock
    # wakes a hair early), not thousands.
    polls = [r for r in bigquery.requests if r.method == "GET" and r.path.endswith(f"/jobs/{job}")]
    assert 3 <= len(polls) <= 4 and f"its state asked {len(polls)} times" in said


# Errors, each said as what to change (the resource built here, on the real client)


def _export(endpoint: str, **settings: Any) -> GA4Export:
    return GA4Export(dataset=f"{PROJECT}.{DATASET}", api_endpoint=endpoint, **settings)


def test_an_unknown_dataset_names_the_setting(bigquery):
    bigquery.create_dataset(PROJECT, "other", "EU")
    with pytest.raises(SourceUnavailable) as refused:
        _export(bigquery.endpoint).tables()
    assert "Not found: Dataset" in str(refused.value) and "Check PERFPLAT_GA4_BIGQUERY_DATASET" in str(
        refused.value
    )


def test_a_location_mismatch_names_the_location_setting(bigquery):
    _load(bigquery, _days(date(2026, 10, 1), date(2026, 10, 2)))
    with pytest.raises(SourceUnavailable) as refused:
        _export(bigquery.endpoint, location="US").journeys([OCTOBER])
    assert "PERFPLAT_BIGQUERY_LOCATION (now US)" in str(refused.value)


def test_a_missing_role_names_the_roles(bigquery):
    _load(bigquery, _days(date(2026, 10, 1), date(2026, 10, 2)))
    bigquery.refuse_next("/tables", 403, "accessDenied", "Access Denied: Dataset opg-analytics:analytics_1")
    with pytest.raises(SourceUnavailable) as refused:
        _export(bigquery.endpoint).tables()
    said = str(refused.value)
    assert "BigQuery Data Viewer on the dataset and BigQuery Job User on the project" in said
    assert "PERFPLAT_BIGQUERY_PROJECT, now opg-analytics" in said


def test_the_bytes_limit_names_its_setting(bigquery):
    # BigQuery bills at least 10 MB a query, so a limit of 1 MB refuses any: the hand-built month will do.
    _load(bigquery, _days(date(2026, 10, 1), date(2026, 11, 1)))
    with pytest.raises(SourceUnavailable) as refused:
        _export(bigquery.endpoint, max_bytes_billed=1_000_000).journeys([OCTOBER])
    assert bigquery.jobs[0].error_reason == "bytesBilledLimitExceeded"
    assert "Raise PERFPLAT_BIGQUERY_MAX_BYTES_BILLED (now 1,000,000 bytes)" in str(refused.value)


def test_a_slow_answer_is_retried_within_the_deadline(bigquery):
    _load(bigquery, _days(date(2026, 10, 1), date(2026, 11, 1)))
    bigquery.hold_next("/jobs", seconds=5)  # the first jobs.insert answers after the client gave up on it
    counted = _export(bigquery.endpoint, request_timeout=1, timeout_seconds=30).journeys([OCTOBER])
    assert (counted.sessions[OCTOBER].started, counted.sessions[OCTOBER].completed) == (11, 6)
    assert sum(r.method == "POST" and r.path.endswith("/jobs") for r in bigquery.requests) >= 2


def test_an_unreachable_endpoint_is_told_apart_from_an_answer():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(SourceUnavailable) as refused:
        _export(closed, timeout_seconds=5).tables()
    assert "could not be reached" in str(refused.value) and "refused" in str(refused.value)
    assert "PERFPLAT_BIGQUERY_API_ENDPOINT" in str(refused.value)


@pytest.mark.parametrize(
    "name, value, named",
    [
        ("PERFPLAT_GA4_BIGQUERY_DATASET", "analytics_123", "project.dataset"),
        ("PERFPLAT_BIGQUERY_LOCATION", "eu west", "EU or europe-west2"),
        ("PERFPLAT_BIGQUERY_MAX_BYTES_BILLED", "lots", "a whole number"),
    ],
)
def test_a_bad_export_setting_fails_at_load_naming_it(perfplat_env, monkeypatch, name, value, named):
    monkeypatch.setenv("PERFPLAT_GA4_BIGQUERY_DATASET", f"{PROJECT}.{DATASET}")
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingError) as refused:
        build_resources()
    assert str(refused.value).startswith(name) and named in str(refused.value)


@pytest.mark.parametrize(
    "dataset",
    [f"{PROJECT}.{DATASET}` WHERE TRUE --", f"{PROJECT}.{DATASET}.events_1", f"{PROJECT}.x\nSELECT 1"],
)
def test_a_hostile_dataset_name_never_reaches_the_sql(perfplat_env, monkeypatch, bigquery, dataset):
    monkeypatch.setenv("PERFPLAT_GA4_BIGQUERY_DATASET", dataset)
    with pytest.raises(SettingError, match="PERFPLAT_GA4_BIGQUERY_DATASET must look like"):
        build_resources()
    # A resource built some other way (a run's own config) is refused too, before BigQuery is asked.
    export = GA4Export(dataset=dataset, api_endpoint=bigquery.endpoint)
    for asked in (export.tables, lambda: export.journeys([OCTOBER])):
        with pytest.raises(ValueError, match="PERFPLAT_GA4_BIGQUERY_DATASET must be the export's project"):
            asked()
    assert bigquery.requests == []


def test_an_export_setting_without_the_dataset_is_refused_at_load(perfplat_env, monkeypatch):
    monkeypatch.setenv("PERFPLAT_BIGQUERY_PROJECT", "opg-analytics")
    with pytest.raises(
        SettingError, match="PERFPLAT_BIGQUERY_PROJECT is set but PERFPLAT_GA4_BIGQUERY_DATASET"
    ):
        build_resources()


def test_an_export_with_only_intraday_tables_is_named_streaming_only():
    tables = [f"events_intraday_202610{day:02d}" for day in range(1, 32)] + ["events_intraday_20261101"]
    [october] = coverage(tables, [OCTOBER]).values()
    assert not october.settled
    assert "only events_intraday_* tables (streaming only)" in october.reason
    assert "Daily export in GA4 Admin" in october.reason


def test_a_missing_day_among_later_ones_is_told_from_one_not_written_yet():
    days = [d for d in _days(date(2026, 10, 1), date(2026, 11, 2)) if d != date(2026, 10, 14)]
    [october] = coverage([f"events_{d:%Y%m%d}" for d in days], [OCTOBER]).values()
    assert october.reason.startswith("the export has no table for 2026-10-14, though it has later days")


def test_an_unknown_project_names_the_settings(bigquery):
    bigquery.create_dataset("someone-else", DATASET, "EU")
    with pytest.raises(SourceUnavailable) as refused:
        _export(bigquery.endpoint).tables()
    assert "Check PERFPLAT_GA4_BIGQUERY_DATASET (project.dataset) and PERFPLAT_BIGQUERY_PROJECT" in str(
        refused.value
    )
