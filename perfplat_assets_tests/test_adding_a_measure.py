"""A measure is declared once: a fifth measure, declared in the test package alone
(`perfplat_assets_tests/toy_measure/`, laid out as every measure's folder is: its figures, checks,
declaration, source and sample, settings and asset), registered with one call and named by Make an LPA with
another (`services.registry.also_publishes`), flows through the real code location to the metrics store,
its checks, the dataset, `data.json`, `data.csv`, the CSVW, `notes.md` and `report.html`, with no line of
perfplat changed. Its sample's figure for May 2026 is 10.5 days, by hand.

The run is a subprocess of its own: registering a measure fixes the registry for the process, and its
table joins the store's metadata, which must not leak into other tests on this worker."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from perfplat_assets.measures import register

MAY = "2026-05-01"
DATA_TYPE = "average-processing-days"


@pytest.fixture
def toy_month(perfplat_env: Path) -> tuple[dict, Path]:
    """May 2026 run on the embedded default with the toy registered; what the run said, and the data dir."""
    run = subprocess.run(
        [sys.executable, "-m", "perfplat_assets_tests.toy_measure.run_month", MAY],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1]), perfplat_env


def _published(data_dir: Path, name: str) -> str:
    """A cumulative file, in the service's folder."""
    return (data_dir / "publish" / "make_a_lasting_power_of_attorney_service" / name).read_text(
        encoding="utf-8"
    )


def test_a_measure_from_the_test_package_is_published_everywhere(toy_month):
    said, data_dir = toy_month
    assert said["success"]
    assert "make_an_lpa/average_processing_days" in said["materialized"]
    assert said["checks"]["make_an_lpa/average_processing_days:processing_days_within_a_year"] is True
    # Its source's setting is read from its own folder, and the publication guard knows its sample.
    assert said["sample_sources"][-1] == "PERFPLAT_MAKE_AN_LPA_PROCESSING_TIMES_URL"

    engine = create_engine(f"sqlite:///{data_dir / 'metrics.sqlite'}")
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT month, average_days FROM make_an_lpa__average_processing_days")
        ).all()
        dataset = connection.execute(
            text("SELECT count FROM make_an_lpa__performance_dataset WHERE month = :m AND data_type = :t"),
            {"m": MAY, "t": DATA_TYPE},
        ).all()
    assert stored == [(MAY, 10.5)]
    assert dataset == [(10.5,)]

    records = json.loads(_published(data_dir, "data.json"))
    assert {
        "_timestamp": "2026-05-01T00:00:00+00:00",
        "service": "make-a-lpa",
        "channel": "digital",
        "count": 10.5,
        "dataType": DATA_TYPE,
        "period": "month",
    } in records
    rows = list(csv.DictReader(io.StringIO(_published(data_dir, "data.csv"))))
    assert list(rows[0])[-1] == DATA_TYPE and rows[0][DATA_TYPE] == "10.5"

    columns = json.loads(_published(data_dir, "data.csv-metadata.json"))["tableSchema"]["columns"]
    toy = columns[-1]
    assert (toy["name"], toy["titles"], toy["datatype"]) == ("average_processing_days", DATA_TYPE, "decimal")
    assert toy["dc:description"].startswith("Days from an application's receipt to its registration")

    notes = _published(data_dir, "notes.md")
    assert f"## Average processing days (`{DATA_TYPE}`)" in notes

    report = _published(data_dir, "report.html")
    assert '<h2 id="average-processing-days">Average processing days</h2>' in report
    assert 'aria-labelledby="chart-average-processing-days-title' in report
    assert "Latest: 10.5 days in May 2026." in report
    assert '<a href="#average-processing-days">Average processing days</a>' in report


def test_a_measure_cannot_be_registered_once_the_measures_were_read():
    """This process has read the registry (the code location is imported by other tests and by the
    conftest): a late registration is refused, not silently ignored."""
    from perfplat_assets.measures import measures

    measures()
    with pytest.raises(RuntimeError, match="before anything reads the measures"):
        register(measures()[0])
