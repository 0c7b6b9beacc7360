"""A service is declared once: a fourth, declared in the test package alone
(`perfplat_assets_tests/toy_service/`, publishing the toy measure) and registered with one call, gets its
own pipeline, store tables, folder, month file, settings and line in the top-level report, with no line of
perfplat changed. Its sample's figure for May 2026 is 10.5 days, by hand; its series starts in January 2024.

The runs are subprocesses of their own: registering fixes the registries for the process, and the toy's
tables join the store's metadata, which must not leak into other tests on this worker."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service, Uses
from perfplat_assets.services.registry import register, services

MAY, BEFORE_ITS_FIRST = "2026-05-01", "2023-12-01"
DATA_TYPE = "average-processing-days"
FOLDER = "renew_a_registration_service"


@pytest.fixture(scope="module")
def toy_months(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict], Path]:
    """May 2026, then December 2023 (before the toy's first month), run once for the module in one process
    (registering fixes the registries for a process), every service published, on the embedded default in a
    fresh folder; what each month's run said, and the data dir."""
    data_dir = tmp_path_factory.mktemp("toy-service") / "data"
    env = {name: value for name, value in os.environ.items() if not name.startswith("PERFPLAT_")}
    run = subprocess.run(
        [sys.executable, "-m", "perfplat_assets_tests.toy_service.run_month", MAY, BEFORE_ITS_FIRST],
        capture_output=True,
        text=True,
        timeout=300,
        env=env | {"PERFPLAT_DATA_DIR": str(data_dir)},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return [json.loads(line) for line in run.stdout.strip().splitlines()[-2:]], data_dir


def test_a_service_from_the_test_package_gets_its_own_pipeline_and_publication(toy_months):
    (said, _), data_dir = toy_months
    assert said["success"], said["failure"]
    assert {
        "renew_a_registration/average_processing_days",
        "renew_a_registration/performance_dataset",
        "renew_a_registration/data_gov_uk_publication",
    } <= set(said["materialized"])
    assert "renew_a_registration/average_processing_days:renew_a_registration" in said["groups"]
    # Its source's setting is its own, and the publication guard names it while it serves the sample.
    assert said["sample_sources"] == ["PERFPLAT_RENEW_A_REGISTRATION_PROCESSING_TIMES_URL"]

    engine = create_engine(f"sqlite:///{data_dir / 'metrics.sqlite'}")
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT month, average_days FROM renew_a_registration__average_processing_days")
        ).all()
        published = connection.execute(
            text("SELECT month, data_type, count FROM renew_a_registration__published_records")
        ).all()
    engine.dispose()
    assert stored == [(MAY, 10.5)]
    assert published == [(MAY, DATA_TYPE, 10.5)]

    publish = data_dir / "publish"
    month_file = json.loads((publish / "renew_a_registration_26_05.json").read_text(encoding="utf-8"))
    assert month_file == [
        {
            "_timestamp": "2026-05-01T00:00:00+00:00",
            "service": "renew-a-registration",
            "channel": "digital",
            "count": 10.5,
            "dataType": DATA_TYPE,
            "period": "month",
        }
    ]
    folder = publish / FOLDER
    assert json.loads((folder / "data.json").read_text(encoding="utf-8")) == month_file
    rows = list(csv.DictReader(io.StringIO((folder / "data.csv").read_text(encoding="utf-8"))))
    assert rows == [{"month": "2026-05", DATA_TYPE: "10.5"}]
    csvw = json.loads((folder / "data.csv-metadata.json").read_text(encoding="utf-8"))
    assert csvw["dc:title"] == "Renew a registration: monthly service performance data"
    notes = (folder / "notes.md").read_text(encoding="utf-8")
    assert notes.startswith("> **Synthetic figures: the figures for 2026-05 were computed")  # its sample's
    assert "\n# Renew a registration: monthly service performance data\n" in notes
    assert "<title>Renew a registration: monthly service performance</title>" in (
        folder / "report.html"
    ).read_text(encoding="utf-8")
    index = (publish / "report.html").read_text(encoding="utf-8")
    assert f'<a href="{FOLDER}/report.html">Renew a registration</a>' in index
    # The other services' files are theirs: the toy's run wrote beside them.
    assert (publish / "make_a_lasting_power_of_attorney_26_05.json").exists()


def test_before_its_first_month_the_service_is_asked_nothing(toy_months):
    (_, said), data_dir = toy_months
    assert said["success"], said["failure"]
    assert not [key for key in said["materialized"] if key.startswith("renew_a_registration/")]
    assert not (data_dir / "publish" / "renew_a_registration_23_12.json").exists()


def test_a_service_cannot_be_registered_once_the_services_were_read():
    services()
    toy = Service(
        name="late",
        service="late",
        title="Late",
        short_title="Late",
        stem="late",
        first_month=Month.of(2024, 1),
        measures=(Uses("uptime"),),
        ckan_dataset="late",
    )
    with pytest.raises(RuntimeError, match="before anything reads the services"):
        register(toy)
