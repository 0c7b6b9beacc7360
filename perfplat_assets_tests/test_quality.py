"""Every quality check through a real materialisation on a real Dagster instance: passing on good data,
failing on data crafted to break it; blocking failures withhold the month, warnings do not."""

import csv
import json
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from dagster import AssetKey, DagsterInstance, ExecuteInProcessResult, materialize
from sqlalchemy import create_engine, text

from perfplat_assets.common.months import LONDON, Month
from perfplat_assets.configuration import build_resources
from perfplat_assets.metrics_store.tables import service_table
from perfplat_assets.user_satisfaction.calculation import RatingCounts
from perfplat_assets.user_satisfaction.measure import table as user_satisfaction_table_template
from perfplat_assets.user_satisfaction.queries.make_an_lpa_database import read_rating_counts
from perfplat_assets_tests.support.run_results import failure_message, materialize_range, published_assets
from perfplat_assets_tests.support.sources import create_sirius, create_sqlite_feedback, feedback
from perfplat_sample.ga4_emulator import GA4Emulator
from perfplat_sample.resources import EmbeddedMakeAnLpaDatabase
from perfplat_sample.sample_data import SampleSession, sample_sessions

user_satisfaction_table = service_table(
    "make_an_lpa", user_satisfaction_table_template
)  # Make an LPA's own copy

MAY = Month.parse("2025-05")
MAY_FILE = "make_a_lasting_power_of_attorney_25_05.json"


def _materialize(
    month: Month = MAY, selection: Sequence[str] | None = None, **resources
) -> ExecuteInProcessResult:
    return materialize(
        published_assets(),
        selection=selection,
        partition_key=month.key,
        resources={**build_resources(), **resources},
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def _check(result: ExecuteInProcessResult, asset: str, name: str):
    evaluations = [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.asset_check_evaluation_data.asset_key == AssetKey(["make_an_lpa", asset])
        and e.asset_check_evaluation_data.check_name == name
    ]
    assert len(evaluations) == 1, f"{asset}.{name} evaluated {len(evaluations)} times"
    return evaluations[0]


def _published(data_dir: Path) -> dict[str, float] | None:
    path = data_dir / "publish" / MAY_FILE
    if not path.exists():
        return None
    return {r["dataType"]: r["count"] for r in json.loads(path.read_text(encoding="utf-8"))}


def test_good_data_passes_every_check(perfplat_env):
    result = _materialize()
    assert result.success
    evaluations = [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.asset_check_evaluation_data.check_name
        != "published_by_deadline"  # another month's: test_alerts
    ]
    assert len(evaluations) == 11
    assert all(e.passed for e in evaluations), [e.check_name for e in evaluations if not e.passed]
    assert len(_published(perfplat_env)) == 9


# completion_rate


def _sessions(started: int, completed_without_start: int, completed_with_start: int, month: Month = MAY):
    when = datetime.combine(month.first_day + timedelta(days=3), datetime.min.time(), LONDON)
    sessions = [
        SampleSession(f"a{i}", when, ("/lpa/type", f"/lpa/{i}/applicant"), i)
        for i in range(completed_with_start)
    ]
    sessions += [
        SampleSession(f"b{i}", when, ("/lpa/type",), None) for i in range(started - completed_with_start)
    ]
    sessions += [
        SampleSession(f"c{i}", when, (f"/lpa/{i}/applicant",), i) for i in range(completed_without_start)
    ]
    return lambda asked: sessions if asked == month else []


@pytest.fixture
def ga4(monkeypatch):
    """A GA4 emulator the pipeline is pointed at; tests set its sessions."""
    emulator = GA4Emulator(lambda month: []).start()
    monkeypatch.setenv("PERFPLAT_GA4_API_ENDPOINT", emulator.endpoint)
    monkeypatch.setenv("PERFPLAT_GA4_PROPERTY_ID", "123456")
    yield emulator
    emulator.stop()


def test_a_rate_over_100_withholds_the_completion_rate_alone(perfplat_env, ga4):
    ga4.sessions_for_month = _sessions(started=100, completed_without_start=20, completed_with_start=90)
    result = _materialize()
    assert not result.success
    check = _check(result, "completion_rate", "completion_rate_within_range")
    assert not check.passed and check.severity.value == "ERROR"
    assert check.metadata["values"].value == {
        "2025-05": {"completion_rate_percent": 110.0, "sessions_started": 100, "sessions_completed": 110}
    }
    message = failure_message(result)
    assert "completion_rate_within_range failed for 2025-05" in message and "110.0%" in message
    published = _published(perfplat_env)
    assert published is not None, "a blocked measure withholds itself, not the month"
    assert "completion-rate" not in published and len(published) == 8


def test_a_blocked_measure_keeps_its_earlier_published_value_and_the_rest_is_republished(perfplat_env, ga4):
    # First published at 90 of 100 (90.0); GA4 later answers 110 of 100 for the same month.
    ga4.sessions_for_month = _sessions(started=100, completed_without_start=0, completed_with_start=90)
    assert _materialize().success
    first = _published(perfplat_env)
    assert first is not None and first["completion-rate"] == 90.0
    ga4.sessions_for_month = _sessions(started=100, completed_without_start=20, completed_with_start=90)
    result = _materialize()
    assert not result.success
    assert "withheld 2025-05 completion-rate: completion_rate_within_range failed" in failure_message(result)
    again = _published(perfplat_env)
    assert again == first, "the earlier completion rate stays, and the other measures are as they were"
    revisions = (
        (perfplat_env / "publish" / "make_a_lasting_power_of_attorney_service" / "revisions.csv")
        .read_text(encoding="utf-8")
        .splitlines()
    )
    assert revisions[1:] == [], "keeping the earlier value is no revision"


def test_no_sessions_started_withholds_only_that_measure(perfplat_env, ga4):
    ga4.sessions_for_month = _sessions(started=0, completed_without_start=5, completed_with_start=0)
    result = _materialize()
    assert result.success
    check = _check(result, "completion_rate", "completion_rate_available")
    assert not check.passed and check.severity.value == "WARN"
    assert "not available" in check.description
    published = _published(perfplat_env)
    assert "completion-rate" not in published and len(published) == 8


def test_inexact_ga4_figures_warn_with_the_flags(perfplat_env, ga4):
    ga4.sessions_for_month = _sessions(started=1000, completed_without_start=0, completed_with_start=620)
    ga4.subject_to_thresholding = True
    ga4.data_loss_from_other_row = True
    result = _materialize()
    assert result.success
    check = _check(result, "completion_rate", "ga4_response_exact")
    assert not check.passed and check.severity.value == "WARN"
    assert check.metadata["values"].value["2025-05"] == {
        "subject_to_thresholding": True,
        "sampled": False,
        "data_loss_from_other_row": True,
    }
    assert _published(perfplat_env)["completion-rate"] == 62.0


def test_cross_check_with_the_database_warns_with_both_figures(perfplat_env, ga4):
    # The embedded database's applications are seeded from the sample sessions: an LPA started in a
    # session that starts one, created 14 minutes later if the session reached the applicant page.
    sessions = [*sample_sessions(MAY.previous()), *sample_sessions(MAY)]
    started = sum(1 for s in sessions if s.started_lpa and Month.containing(s.started_at) == MAY)
    created = sum(
        1
        for s in sessions
        if s.started_lpa and s.created_lpa and Month.containing(s.started_at + timedelta(minutes=14)) == MAY
    )
    database_rate = float((Decimal(100 * created) / started).quantize(Decimal("0.1"), ROUND_HALF_UP))
    ga4.sessions_for_month = _sessions(started=1000, completed_without_start=0, completed_with_start=990)
    result = _materialize()
    assert result.success
    check = _check(result, "completion_rate", "completion_rate_agrees_with_applications")
    assert not check.passed and check.severity.value == "WARN"
    values = check.metadata["values"].value["2025-05"]
    assert values["ga4_completion_rate"] == 99.0
    assert values["database_completion_rate"] == database_rate
    assert values["lpas_started"] == started and values["lpas_created"] == created
    assert f"GA4 says 99.0%, the Make an LPA database {database_rate}%" in check.description


def test_cross_check_passes_on_the_consistent_sample(perfplat_env):
    result = _materialize()
    assert _check(result, "completion_rate", "completion_rate_agrees_with_applications").passed


# user_satisfaction


def _lpa_database(path: Path, ratings: dict[str | None, int]) -> str:
    start = MAY.start + timedelta(hours=1)
    rows, number = [], 0
    for rating, count in ratings.items():
        for _ in range(count):
            number += 1
            rows.append(feedback(start + timedelta(minutes=number), rating))
    return create_sqlite_feedback(path, rows)


def test_too_few_responses_warn(perfplat_env, monkeypatch):
    url = _lpa_database(perfplat_env.parent / "lpa.sqlite", {"very-satisfied": 7, "satisfied": 5})
    monkeypatch.setenv("PERFPLAT_MAKE_AN_LPA_DB_URL", url)
    result = _materialize()
    assert result.success
    check = _check(result, "user_satisfaction", "enough_responses")
    assert not check.passed and check.severity.value == "WARN"
    assert "rests on 12 responses, fewer than 100" in check.description
    # Still published, with the warning on record: (100 x 7 + 75 x 5) / 12 = 89.58.
    assert _published(perfplat_env)["user-satisfaction-percent"] == 90


def test_unknown_ratings_above_the_share_warn(perfplat_env, monkeypatch):
    ratings = {"very-satisfied": 150, "dissatisfied": 50, "great": 10, None: 5}
    monkeypatch.setenv(
        "PERFPLAT_MAKE_AN_LPA_DB_URL", _lpa_database(perfplat_env.parent / "lpa.sqlite", ratings)
    )
    result = _materialize()
    assert result.success
    check = _check(result, "user_satisfaction", "unknown_ratings_within_share")
    assert not check.passed and check.severity.value == "WARN"
    assert check.metadata["values"].value["2025-05"] == {
        "unknown_ratings": 15,
        "responses": 215,
        "share": 6.98,
    }
    assert _check(result, "user_satisfaction", "enough_responses").passed
    assert _published(perfplat_env)["very-satisfied"] == 150


class _DisagreeingDatabase(EmbeddedMakeAnLpaDatabase):
    """A database whose per-rating counts and total disagree, as two reads of a changing table could."""

    def read(self, query, months, table):
        if query is read_rating_counts:
            return {month: RatingCounts(10, 5, 0, 0, 0, rated_responses=16) for month in months}
        return super().read(query, months, table)


def test_counts_that_do_not_add_up_block_publication(perfplat_env):
    disagreeing = _DisagreeingDatabase(data_dir=str(perfplat_env))
    result = _materialize(make_an_lpa__ratings=disagreeing, make_an_lpa__make_an_lpa_db=disagreeing)
    assert not result.success
    check = _check(result, "user_satisfaction", "rating_counts_add_up")
    assert not check.passed and check.severity.value == "ERROR"
    message = failure_message(result)
    assert (
        "rating_counts_add_up failed for 2025-05" in message and "add up to 15" in message and "16" in message
    )
    assert "Published 2025-05; withheld 2025-05 user-satisfaction: rating_counts_add_up" in message
    published = _published(perfplat_env)
    assert published is not None, "the month's other measures are published"
    assert not {"user-satisfaction-percent", "very-satisfied"} & published.keys()
    assert {"digital-take-up", "completion-rate", "uptime-percent"} <= published.keys()


# digital_take_up


def test_more_digital_than_all_applications_blocks_publication(perfplat_env, monkeypatch):
    figures = perfplat_env.parent / "take-up.csv"
    figures.write_text("month,digital_applications,total_applications,note\n2025-05,120,100,typo\n")
    monkeypatch.setenv("PERFPLAT_TAKEUP_FIGURES_FILE", str(figures))
    result = _materialize()
    assert not result.success
    check = _check(result, "digital_take_up", "digital_within_total")
    assert not check.passed and check.severity.value == "ERROR"
    message = failure_message(result)
    assert "digital_within_total failed for 2025-05" in message
    assert "more digital applications (120) than applications in all (100)" in message
    published = _published(perfplat_env)
    assert published is not None and "digital-take-up" not in published, "take-up alone is withheld"
    assert {"user-satisfaction-percent", "completion-rate", "uptime-percent"} <= published.keys()


# performance_dataset


def test_a_record_out_of_format_blocks_publication(perfplat_env):
    # A crafted upstream row in the metrics store: a negative count.
    assert _materialize(
        selection=[
            "make_an_lpa/user_satisfaction",
            "make_an_lpa/digital_take_up",
            "make_an_lpa/completion_rate",
        ]
    ).success
    store = build_resources()["metrics_store"]
    with store.transaction() as connection:
        connection.execute(
            user_satisfaction_table.update()
            .where(user_satisfaction_table.c.month == MAY.key)
            .values(neither=-3)
        )
    result = _materialize(
        selection=["make_an_lpa/performance_dataset", "make_an_lpa/data_gov_uk_publication"]
    )
    assert not result.success
    check = _check(result, "performance_dataset", "records_in_published_format")
    assert not check.passed and check.severity.value == "ERROR"
    assert "record 'neither' of 2025-05: count -3 is negative" in failure_message(result)
    assert _published(perfplat_env) is None


# revisions and notes


def test_a_revised_sirius_figure_is_recorded(perfplat_env, monkeypatch, tmp_path):
    url = f"sqlite:///{tmp_path / 'sirius.sqlite'}"
    cases = [
        ("LPA", date(2025, 5, 2), "A1"),
        ("LPA", date(2025, 5, 3), None),
        ("LPA", date(2025, 5, 4), None),
    ]
    create_sirius(url, cases)
    monkeypatch.setenv("PERFPLAT_SIRIUS_DB_URL", url)
    first = _materialize()
    assert first.success
    assert _published(perfplat_env)["digital-take-up"] == 33.3

    engine = create_engine(url)
    with engine.begin() as connection:  # a paper receipt turns out to have been made online
        connection.execute(text("UPDATE cases SET online_lpa_id = 'A2' WHERE receipt_date = '2025-05-03'"))
    engine.dispose()
    second = _materialize()
    assert second.success
    assert _published(perfplat_env)["digital-take-up"] == 66.7
    metadata = second.asset_materializations_for_node("make_an_lpa__data_gov_uk_publication")[0].metadata
    assert metadata["revisions_this_run"].value == 1
    assert "| 2025-05 | digital-take-up | 33.3 | 66.7 |" in metadata["revisions"].value

    revisions_csv = perfplat_env / "publish" / "make_a_lasting_power_of_attorney_service" / "revisions.csv"
    rows = list(csv.DictReader(revisions_csv.read_text(encoding="utf-8").splitlines()))
    assert len(rows) == 1
    assert rows[0]["month"] == "2025-05" and rows[0]["dataType"] == "digital-take-up"
    assert (rows[0]["previous_value"], rows[0]["new_value"]) == ("33.3", "66.7")
    assert rows[0]["run_id"] == second.run_id
    assert datetime.fromisoformat(rows[0]["revised_at"]).tzinfo is not None

    third = _materialize()  # unchanged sources: nothing to record
    assert third.success
    assert (
        third.asset_materializations_for_node("make_an_lpa__data_gov_uk_publication")[0]
        .metadata["revisions_this_run"]
        .value
        == 0
    )
    assert len(revisions_csv.read_text(encoding="utf-8").splitlines()) == 2


def test_notes_show_the_change_of_satisfaction_method(perfplat_env):
    for month in ("2026-02", "2026-03", "2026-04", "2026-05"):
        assert _materialize(Month.parse(month)).success
    notes = (perfplat_env / "publish" / "make_a_lasting_power_of_attorney_service" / "notes.md").read_text(
        encoding="utf-8"
    )
    assert "- 2026-02 to 2026-03: weighted GDS score" in notes
    assert "- 2026-04 to 2026-05: top-two-box share" in notes
    store = build_resources()["metrics_store"]
    methods = dict(store.read(user_satisfaction_table)[["month", "method"]].itertuples(index=False))
    assert methods == {
        "2026-02-01": "weighted-gds",
        "2026-03-01": "weighted-gds",
        "2026-04-01": "top-two-box",
        "2026-05-01": "top-two-box",
    }


def test_published_figures_match_opg_for_its_worked_examples(perfplat_env, monkeypatch, tmp_path):
    """Given OPG's published counts, perfplat publishes OPG's published percentage."""
    published = {  # month: (very-satisfied, satisfied, neither, dissatisfied, very-dissatisfied, published)
        "2025-05": (8081, 4087, 1046, 282, 439, 84),
        "2026-03": (11620, 6044, 1380, 244, 302, 86),
        "2026-06": (8424, 4049, 983, 200, 260, 90),
    }
    names = (
        "very-satisfied",
        "satisfied",
        "neither-satisfied-or-dissatisfied",
        "dissatisfied",
        "very-dissatisfied",
    )
    rows = []
    for label, counts in published.items():
        month = Month.parse(label)
        for name, count in zip(names, counts[:5], strict=True):
            rows += [feedback(month.start + timedelta(seconds=5 * i + 1), name) for i in range(count)]
    monkeypatch.setenv("PERFPLAT_MAKE_AN_LPA_DB_URL", create_sqlite_feedback(tmp_path / "lpa.sqlite", rows))
    for label, counts in published.items():
        assert _materialize(Month.parse(label)).success
        path = perfplat_env / "publish" / f"make_a_lasting_power_of_attorney_{label[2:4]}_{label[5:]}.json"
        figures = {r["dataType"]: r["count"] for r in json.loads(path.read_text(encoding="utf-8"))}
        assert figures["user-satisfaction-percent"] == counts[5], label


def _materialize_range(first: str, last: str) -> ExecuteInProcessResult:
    return materialize_range(Month.parse(first), Month.parse(last))


def test_in_a_range_a_blocked_measure_is_withheld_and_everything_else_published(perfplat_env, monkeypatch):
    figures = perfplat_env.parent / "take-up.csv"
    figures.write_text(
        "month,digital_applications,total_applications,note\n"
        "2025-04,40,100,\n2025-05,120,100,typo\n2025-06,45,100,\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("PERFPLAT_TAKEUP_FIGURES_FILE", str(figures))
    result = _materialize_range("2025-04-01", "2025-06-01")
    assert not result.success
    [run_steps] = [{e.step_key for e in result.all_events if e.event_type_value == "STEP_SUCCESS"}]
    assert {
        f"make_an_lpa__{name}"
        for name in ("user_satisfaction", "digital_take_up", "completion_rate", "performance_dataset")
    } <= run_steps
    message = failure_message(result)
    assert (
        "Published 2025-04, 2025-05, 2025-06; withheld 2025-05 digital-take-up: digital_within_total failed "
        "for 2025-05" in message
    )
    publish = perfplat_env / "publish"
    for month in ("25_04", "25_05", "25_06"):
        assert (publish / f"make_a_lasting_power_of_attorney_{month}.json").exists()
    records = json.loads(
        (publish / "make_a_lasting_power_of_attorney_service" / "data.json").read_text(encoding="utf-8")
    )
    take_up = {r["_timestamp"][:7]: r["count"] for r in records if r["dataType"] == "digital-take-up"}
    assert take_up == {"2025-04": 40.0, "2025-06": 45.0}
    assert {r["_timestamp"][:7] for r in records if r["dataType"] == "uptime-percent"} == {
        "2025-04",
        "2025-05",
        "2025-06",
    }
    check = _check(result, "digital_take_up", "digital_within_total")
    assert not check.passed and check.metadata["months"].value == "2025-05"
    recorded = [
        e.event_specific_data.materialization.partition
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
        and e.step_key == "make_an_lpa__data_gov_uk_publication"
    ]
    assert sorted(recorded) == ["2025-04-01", "2025-05-01", "2025-06-01"]


def test_a_run_without_the_publication_fails_at_the_blocking_check(perfplat_env, monkeypatch):
    figures = perfplat_env.parent / "take-up.csv"
    figures.write_text("month,digital_applications,total_applications,note\n2025-05,120,100,typo\n")
    monkeypatch.setenv("PERFPLAT_TAKEUP_FIGURES_FILE", str(figures))
    result = _materialize(selection=["make_an_lpa/digital_take_up"])
    assert not result.success
    message = failure_message(result)
    assert "this run does not publish, so it fails here" in message
    assert "digital_within_total failed for 2025-05" in message


def test_thresholds_come_from_the_environment(perfplat_env, monkeypatch):
    monkeypatch.setenv("PERFPLAT_CHECK_MINIMUM_RESPONSES", "50000")
    result = _materialize(selection=["make_an_lpa/user_satisfaction"])
    assert result.success
    assert "fewer than 50000" in _check(result, "user_satisfaction", "enough_responses").description
    monkeypatch.setenv("PERFPLAT_CHECK_MINIMUM_RESPONSES", "lots")
    with pytest.raises(
        ValueError, match="PERFPLAT_CHECK_MINIMUM_RESPONSES must be a whole number, not 'lots'"
    ):
        build_resources()
