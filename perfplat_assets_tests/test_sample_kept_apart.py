"""The embedded sample's figures are marked wherever a person reads them, and never share a service's series
with real ones: a run that would mix them is refused before any source is asked or anything written."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dagster import Failure
from sqlalchemy import insert, select

from perfplat_assets.common.months import Month, last_closed_month
from perfplat_assets.common.run_start import RunStart
from perfplat_assets.configuration import build_resources
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.metrics_store.tables import publication_record
from perfplat_assets.publication.history.importing import import_published_file
from perfplat_assets.publication.history.reading import HistoryRefused
from perfplat_assets_tests.support.published import published_record
from perfplat_assets_tests.support.run_results import failure_message, materialize_month

MONTH = last_closed_month()
FOLDER = "make_a_lasting_power_of_attorney_service"
NOTICE = (
    f"Synthetic figures: the figures for {MONTH} were computed from perfplat's embedded sample, made-up data "
    "for demonstrations and tests. They are not the Office of the Public Guardian's statistics."
)


def _store() -> MetricsStore:
    return build_resources()["metrics_store"].process_config_and_initialize()


def test_the_samples_figures_say_so_in_every_file_a_person_reads_and_in_the_run(perfplat_env, tmp_path):
    result = materialize_month(MONTH)
    assert result.success, failure_message(result)
    publish = perfplat_env / "publish"

    notes = (publish / FOLDER / "notes.md").read_text(encoding="utf-8").splitlines()
    assert notes[0] == f"> **{NOTICE}**"
    assert "Published by the Office of the Public Guardian." not in notes
    report = (publish / FOLDER / "report.html").read_text(encoding="utf-8")
    assert NOTICE.replace("'", "&#39;") in report
    assert (
        "Made by perfplat from its embedded sample: not published by the Office of the Public Guardian"
        in report
    )
    index = (publish / "report.html").read_text(encoding="utf-8")
    assert NOTICE.replace("'", "&#39;") in index
    # The published records themselves stay in OPG's format: nothing is added to them.
    records = json.loads((publish / FOLDER / "data.json").read_text(encoding="utf-8"))
    assert {tuple(sorted(r)) for r in records} == {
        ("_timestamp", "channel", "count", "dataType", "period", "service")
    }

    [published] = [
        e.materialization.metadata["synthetic"].value
        for e in result.get_asset_materialization_events()
        if e.asset_key.path[-1] == "data_gov_uk_publication"
    ]
    assert published.startswith(f"{MONTH}: computed from the embedded sample, not from OPG's services; this")
    assert "PERFPLAT_MAKE_AN_LPA_DB_URL" in published

    table = publication_record("make_an_lpa").published_records
    with _store().transaction(commit=False) as connection:
        marks = set(connection.execute(select(table.c.synthetic)).scalars())
    assert marks == {True}

    # OPG's real history is not imported into the sample's series either.
    with pytest.raises(HistoryRefused) as refused:
        import_published_file(_opg_history(tmp_path / "data.json", [Month.of(2025, 1)]), _store())
    assert (
        f"holds the embedded sample's synthetic figures ({MONTH}), which OPG's published history must not"
        in str(refused.value)
    )
    with _store().transaction(commit=False) as connection:
        assert set(connection.execute(select(table.c.synthetic)).scalars()) == {True}


def _opg_history(path: Path, months: list[Month]) -> Path:
    records = [
        published_record(month, data_type, count)
        for month in months
        for data_type, count in (("user-satisfaction-percent", 80), ("uptime-percent", 99.95))
    ]
    path.write_text(json.dumps(records, indent=2), encoding="utf-8")
    return path


def test_a_store_holding_real_history_refuses_the_samples_figures_before_anything_is_asked(
    perfplat_env, tmp_path, monkeypatch
):
    history = [Month.of(2025, 1), Month.of(2025, 2)]
    import_published_file(_opg_history(tmp_path / "data.json", history), _store())
    table = publication_record("make_an_lpa").published_records
    with _store().transaction(commit=False) as connection:
        before = connection.execute(select(table)).all()

    result = materialize_month(MONTH)

    assert not result.success
    said = failure_message(result)
    assert "Make an LPA's series in the metrics store" in said
    assert (
        "holds figures not from the embedded sample (2025-01 to 2025-02: imported, or from configured" in said
    )
    for setting in (
        "PERFPLAT_MAKE_AN_LPA_DB_URL",
        "PERFPLAT_SIRIUS_DB_URL",
        "PERFPLAT_UPTIME_HEALTH_CHECK_ID",
    ):
        assert setting in said
    assert "Nothing was asked of Make an LPA's sources; nothing of it was written." in said
    assert not result.get_asset_materialization_events()
    with _store().transaction(commit=False) as connection:
        assert connection.execute(select(table)).all() == before
    assert not (perfplat_env / "publish" / FOLDER).exists()

    monkeypatch.setenv("PERFPLAT_ALLOW_SAMPLE_DATA", "true")  # a demonstration over real history, said so
    allowed = materialize_month(MONTH)
    assert allowed.success, failure_message(allowed)
    notes = (perfplat_env / "publish" / FOLDER / "notes.md").read_text(encoding="utf-8")
    assert notes.startswith(f"> **Synthetic figures: the figures for {MONTH} were computed")
    assert "Published by the Office of the Public Guardian." not in notes  # some months are OPG's, not all
    assert "Made by perfplat." in notes


def test_a_series_of_the_samples_figures_refuses_real_ones(perfplat_env):
    store = _store()
    table = publication_record("make_an_lpa").published_records
    with store.transaction() as connection:
        connection.execute(
            insert(table),
            [
                {
                    "month": "2026-06-01",
                    "data_type": "uptime-percent",
                    "count": 99.9,
                    "synthetic": True,
                    "published_at": datetime(2026, 7, 1, 7, tzinfo=UTC),
                },
            ],
        )
    guard = RunStart(
        publish_dir=str(perfplat_env / "publish"), store=store, sample_settings={"make_an_lpa": []}
    )
    with pytest.raises(Failure) as refused:
        guard.refuse_mixed_series("make_an_lpa")
    said = str(refused.value.description)
    assert (
        "holds the embedded sample's synthetic figures (2026-06), and this run reads configured sources"
        in said
    )
    assert "`make clean`" in said and "PERFPLAT_METRICS_DB_URL" in said
    # Other services' series are their own: nothing of Make an LPA's refuses them.
    RunStart(
        publish_dir=str(perfplat_env / "publish"), store=store, sample_settings={"use_an_lpa": []}
    ).refuse_mixed_series("use_an_lpa")
    # And the demonstration's own switch lets them mix.
    RunStart(
        publish_dir=str(perfplat_env / "publish"), store=store, allow_sample_data=True
    ).refuse_mixed_series("make_an_lpa")
