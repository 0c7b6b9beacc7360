"""One month end to end on the embedded default: all six assets, on a real Dagster instance."""

import csv
import json
from collections import Counter
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from dagster import DagsterInstance, materialize, serialize_value
from sqlalchemy import create_engine, text

from perfplat_assets.common.months import Month
from perfplat_assets.configuration import build_resources
from perfplat_assets.definitions import assets
from perfplat_assets.metrics_store.tables import metadata
from perfplat_assets_tests.support.journeys import journeys_by_hand, percent_half_up
from perfplat_assets_tests.support.sources import create_postgres_feedback, create_sqlite_feedback, feedback
from perfplat_sample.sample_data import sample_cases, sample_feedback, sample_health_checks

MAY_2025 = Month.parse("2025-05")
RATINGS = ("very-satisfied", "satisfied", "neither", "dissatisfied", "very-dissatisfied")
RECORD_KEYS = ["_timestamp", "service", "channel", "count", "dataType", "period"]


def _uptime_by_hand(month: Month) -> int | float:
    """The mean of the sample health check's hours, as a percentage to two decimals (100 stays 100)."""
    hours = [
        value for moment, value in sample_health_checks([month]).items() if month.start <= moment < month.end
    ]
    mean = sum(Decimal(str(value)) for value in hours) * 100 / Decimal(len(hours))
    percent = mean.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return int(percent) if percent == percent.to_integral() else float(percent)


def _expected_by_hand(month: Month) -> dict[str, int | float]:
    """What an analyst would get counting the sample sources directly, without perfplat's code path."""
    ratings = Counter(item.rating for item in sample_feedback(month))
    vs, s = ratings["very-satisfied"], ratings["satisfied"]
    n, d, vd = (
        ratings["neither-satisfied-or-dissatisfied"],
        ratings["dissatisfied"],
        ratings["very-dissatisfied"],
    )
    total = vs + s + n + d + vd
    weighted = Decimal(100 * vs + 75 * s + 50 * n + 25 * d) / Decimal(total)
    lpas = [case for case in sample_cases(month) if case.case_type == "LPA"]
    digital = sum(1 for case in lpas if case.online_lpa_id)
    started, completed = journeys_by_hand(month)
    return {
        "user-satisfaction-percent": int(weighted.quantize(Decimal(1), rounding=ROUND_HALF_UP)),
        "very-satisfied": vs,
        "satisfied": s,
        "neither": n,
        "dissatisfied": d,
        "very-dissatisfied": vd,
        "digital-take-up": float(percent_half_up(digital, len(lpas), "0.1")),
        "completion-rate": float(percent_half_up(completed, started, "0.1")),
        "uptime-percent": _uptime_by_hand(month),
    }


def _run(month: Month, instance: DagsterInstance):
    result = materialize(assets, partition_key=month.key, resources=build_resources(), instance=instance)
    assert result.success
    return result


def _published(directory: Path, name: str) -> list[dict]:
    """A published JSON file: a month file at the top, `data.json` in the service's folder."""
    where = (
        directory
        if name.startswith("make_a_lasting_power_of_attorney_2")
        else directory / "make_a_lasting_power_of_attorney_service"
    )
    return json.loads((where / name).read_text(encoding="utf-8"))


def test_one_month_end_to_end(perfplat_env: Path):
    instance = DagsterInstance.ephemeral()
    _run(MAY_2025, instance)
    publish = perfplat_env / "publish"

    records = _published(publish, "make_a_lasting_power_of_attorney_25_05.json")
    expected = _expected_by_hand(MAY_2025)
    assert {r["dataType"]: r["count"] for r in records} == expected
    for item in records:
        assert list(item) == RECORD_KEYS
        assert item["_timestamp"] == "2025-05-01T00:00:00+00:00"
        assert (item["service"], item["channel"], item["period"]) == ("make-a-lpa", "digital", "month")
        assert isinstance(item["count"], int | float) and not isinstance(item["count"], bool)
    whole = {r["dataType"]: r["count"] for r in records if isinstance(r["count"], int)}
    assert set(whole) == {"user-satisfaction-percent", *RATINGS}
    assert records == sorted(records, key=lambda r: (r["_timestamp"], r["dataType"]))

    assert _published(publish, "data.json") == records
    raw = (publish / "make_a_lasting_power_of_attorney_service" / "data.csv").read_bytes()
    assert raw.count(b"\r\n") == 2 and raw.decode("utf-8")
    rows = list(csv.reader(raw.decode("utf-8").splitlines()))
    assert rows[0] == [
        "month",
        "user-satisfaction-percent",
        "very-satisfied",
        "satisfied",
        "neither",
        "dissatisfied",
        "very-dissatisfied",
        "digital-take-up",
        "completion-rate",
        "uptime-percent",
    ]
    assert rows[1][0] == "2025-05"
    assert dict(zip(rows[0][1:], map(float, rows[1][1:]), strict=True)) == expected


def test_republishing_replaces_rather_than_duplicates(perfplat_env: Path):
    instance = DagsterInstance.ephemeral()
    june = Month.parse("2025-06")
    _run(MAY_2025, instance)
    _run(june, instance)
    _run(MAY_2025, instance)
    publish = perfplat_env / "publish"
    everything = _published(publish, "data.json")
    keys = [(r["_timestamp"], r["dataType"]) for r in everything]
    assert len(keys) == len(set(keys)) == 18
    assert {r["_timestamp"][:7] for r in everything} == {"2025-05", "2025-06"}
    assert everything == sorted(everything, key=lambda r: (r["_timestamp"], r["dataType"]))
    assert len(_published(publish, "make_a_lasting_power_of_attorney_25_06.json")) == 9
    assert (
        len(
            (publish / "make_a_lasting_power_of_attorney_service" / "data.csv")
            .read_text(encoding="utf-8")
            .splitlines()
        )
        == 3
    )
    assert not list(publish.rglob(".*.tmp")), "no temporary file is left behind"


def test_a_measure_without_data_is_left_out_not_zero(perfplat_env: Path, monkeypatch: pytest.MonkeyPatch):
    figures = perfplat_env.parent / "take-up.csv"
    figures.write_text(
        "month,digital_applications,total_applications,note\n2025-04,10,20,\n", encoding="utf-8"
    )
    monkeypatch.setenv("PERFPLAT_TAKEUP_FIGURES_FILE", str(figures))
    instance = DagsterInstance.ephemeral()
    result = _run(MAY_2025, instance)

    records = _published(perfplat_env / "publish", "make_a_lasting_power_of_attorney_25_05.json")
    assert "digital-take-up" not in {r["dataType"] for r in records}
    assert len(records) == 8
    metadata = result.asset_materializations_for_node("make_an_lpa__performance_dataset")[0].metadata
    assert "figures-file has no figures for 2025-05" in metadata["left out 2025-05 digital-take-up"].value
    csv_row = (
        (perfplat_env / "publish" / "make_a_lasting_power_of_attorney_service" / "data.csv")
        .read_text(encoding="utf-8")
        .splitlines()[1]
        .split(",")
    )
    assert csv_row[7] == ""  # digital-take-up: empty, not 0


def test_figures_file_takes_precedence_over_sirius(perfplat_env: Path, monkeypatch: pytest.MonkeyPatch):
    figures = perfplat_env.parent / "take-up.csv"
    figures.write_text(
        "month,digital_applications,total_applications,note\n2025-05,20616,49812,\n", encoding="utf-8"
    )
    monkeypatch.setenv("PERFPLAT_TAKEUP_FIGURES_FILE", str(figures))
    _run(MAY_2025, DagsterInstance.ephemeral())
    records = _published(perfplat_env / "publish", "make_a_lasting_power_of_attorney_25_05.json")
    assert {r["dataType"]: r["count"] for r in records}["digital-take-up"] == 41.4


def test_no_personal_data_in_outputs_store_or_event_log(perfplat_env: Path, postgres_url, monkeypatch):
    markers = {
        "details": "PERFPLAT-DETAILS-7f3a",
        "email": "perfplat.marker.7f3a@example.invalid",
        "phone": "07700 900 7f3a",
    }
    rows = [
        feedback(MAY_2025.start + timedelta(minutes=i), rating, **{k: f"{v} {i}" for k, v in markers.items()})
        for i, rating in enumerate(["very-satisfied", "satisfied", "dissatisfied", "bogus", None] * 30)
    ]
    create_postgres_feedback(postgres_url, rows)
    monkeypatch.setenv("PERFPLAT_MAKE_AN_LPA_DB_URL", postgres_url)
    instance = DagsterInstance.ephemeral()
    run = _run(MAY_2025, instance)
    assert {r["dataType"]: r["count"] for r in _published(perfplat_env / "publish", "data.json")}[
        "satisfied"
    ] == 30

    published = "".join(
        p.read_text(encoding="utf-8") for p in (perfplat_env / "publish").rglob("*") if p.is_file()
    )
    store = build_resources()["metrics_store"]
    stored = "".join(store.read(table).to_csv() for table in metadata.sorted_tables)
    events = "".join(
        serialize_value(r.event_log_entry) for r in instance.get_records_for_run(run.run_id).records
    )
    assert "very-satisfied" in published and "2025-05-01" in stored and "STEP_SUCCESS" in events
    for marker in markers.values():
        assert marker not in published
        assert marker not in stored
        assert marker not in events


def test_a_month_the_source_has_forgotten_keeps_its_history(perfplat_env: Path, monkeypatch, tmp_path):
    """The service deletes feedback after two years: re-running such a month must not erase its figures."""
    rows = [feedback(MAY_2025.start + timedelta(minutes=i), "satisfied") for i in range(150)]
    url = create_sqlite_feedback(tmp_path / "lpa.sqlite", rows)
    monkeypatch.setenv("PERFPLAT_MAKE_AN_LPA_DB_URL", url)
    _run(MAY_2025, DagsterInstance.ephemeral())
    before = _published(perfplat_env / "publish", "make_a_lasting_power_of_attorney_25_05.json")
    assert {r["dataType"]: r["count"] for r in before}["satisfied"] == 150

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM feedback"))
    engine.dispose()
    again = _run(MAY_2025, DagsterInstance.ephemeral())

    metadata = again.asset_materializations_for_node("make_an_lpa__user_satisfaction")[0].metadata
    assert metadata["kept_stored_figures_for"].value == "2025-05"
    assert _published(perfplat_env / "publish", "make_a_lasting_power_of_attorney_25_05.json") == before
    assert (
        not (perfplat_env / "publish" / "make_a_lasting_power_of_attorney_service" / "revisions.csv")
        .read_text(encoding="utf-8")
        .splitlines()[1:]
    )
