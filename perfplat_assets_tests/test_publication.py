"""Publication to the local directory and to S3 (moto's server over HTTP on loopback), the CSVW metadata,
the automation's `jq -s flatten` merge, and the dry run. Both in OPG's layout: the cumulative files in the
service's folder, the month files at the top."""

import csv
import json
import shutil
import subprocess

import pytest

from perfplat_assets.common.months import Month
from perfplat_assets.configuration import build_resources
from perfplat_assets.publication.published_format.checks import record_problems
from perfplat_assets.services.make_an_lpa.service import MAKE_AN_LPA
from perfplat_assets_tests.support.aws import BUCKET, PREFIX
from perfplat_assets_tests.support.ci import needs_jq
from perfplat_assets_tests.support.run_results import failure_message, materialize_month
from perfplat_assets_tests.support.store import published_records

MAY, JUNE = Month.parse("2025-05"), Month.parse("2025-06")
MAY_FILE = "make_a_lasting_power_of_attorney_25_05.json"
FOLDER = "make_a_lasting_power_of_attorney_service/"
FILES = {
    MAY_FILE: "application/json",
    "data.json": "application/json",
    "data.csv": "text/csv; charset=utf-8",
    "data.csv-metadata.json": "application/csvm+json",
    "revisions.csv": "text/csv; charset=utf-8",
    "notes.md": "text/markdown; charset=utf-8",
    "report.html": "text/html; charset=utf-8",
}


def _materialize(month: Month, **run_config):
    return materialize_month(month, run_config or None)


@pytest.fixture
def s3(s3_bucket):
    return s3_bucket


def _objects(client) -> dict[str, dict]:
    listed = client.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return {item["Key"]: client.get_object(Bucket=BUCKET, Key=item["Key"]) for item in listed}


def _where(name: str) -> str:
    """Where a file is published, under the directory or the prefix."""
    return name if name == MAY_FILE else FOLDER + name


def test_s3_gets_every_file_with_its_content_type(s3, sample_data_allowed, perfplat_env):
    assert _materialize(MAY).success
    objects = _objects(s3)
    # Make an LPA's files, and the index of the services at the prefix.
    assert set(objects) == {PREFIX + _where(name) for name in FILES} | {PREFIX + "report.html"}
    local = perfplat_env / "publish"
    for name, kind in FILES.items():
        stored = objects[PREFIX + _where(name)]
        assert stored["ContentType"] == kind, name
        assert stored["Metadata"] == {"written-by": "perfplat"}, name
        assert stored["Body"].read() == (local / _where(name)).read_bytes(), name
    month = json.loads((local / MAY_FILE).read_text(encoding="utf-8"))
    assert len(month) == 9 and all(not record_problems(r, MAY, MAKE_AN_LPA.service) for r in month)


def test_republishing_a_month_replaces_its_objects(s3, sample_data_allowed, perfplat_env):
    assert _materialize(MAY).success
    assert _materialize(JUNE).success
    assert _materialize(MAY).success
    objects = _objects(s3)
    assert PREFIX + "make_a_lasting_power_of_attorney_25_06.json" in objects
    everything = json.loads(objects[PREFIX + FOLDER + "data.json"]["Body"].read())
    keys = [(r["_timestamp"], r["dataType"]) for r in everything]
    assert len(keys) == len(set(keys)) == 18


def test_an_s3_failure_publishes_nothing_anywhere(s3, sample_data_allowed, perfplat_env, monkeypatch):
    monkeypatch.setenv("PERFPLAT_S3_BUCKET", "no-such-bucket")
    result = _materialize(MAY)
    assert not result.success
    message = failure_message(result)
    assert f"S3 bucket no-such-bucket: reading make-an-lpa/{FOLDER}data.json failed" in message
    assert "Nothing was published" in message
    assert not (perfplat_env / "publish").exists()
    assert build_resources()["metrics_store"].read(published_records).empty
    assert not _objects(s3)


def test_a_dry_run_reports_the_plan_and_writes_nothing(s3, sample_data_allowed, perfplat_env):
    result = _materialize(MAY, ops={"make_an_lpa__data_gov_uk_publication": {"config": {"dry_run": True}}})
    assert result.success
    assert not result.asset_materializations_for_node("make_an_lpa__data_gov_uk_publication"), (
        "a dry run is no publication"
    )
    metadata = result.asset_observations_for_node("make_an_lpa__data_gov_uk_publication")[0].metadata
    plan = metadata["plan"].value
    assert f"| s3 | {PREFIX}{MAY_FILE} | create |" in plan and f"| directory | {MAY_FILE} | create |" in plan
    assert f"| s3 | {PREFIX}{FOLDER}data.json | create |" in plan
    assert not _objects(s3)
    assert not (perfplat_env / "publish").exists()
    assert build_resources()["metrics_store"].read(published_records).empty

    assert _materialize(MAY).success  # published for real; a second dry run has nothing to change
    again = _materialize(MAY, ops={"make_an_lpa__data_gov_uk_publication": {"config": {"dry_run": True}}})
    plan = again.asset_observations_for_node("make_an_lpa__data_gov_uk_publication")[0].metadata["plan"].value
    assert f"| s3 | {PREFIX}{FOLDER}data.json | unchanged |" in plan and "| create |" not in plan


def test_csvw_metadata_describes_the_csv(perfplat_env):
    for month in ("2026-03", "2026-04"):
        assert _materialize(Month.parse(month)).success
    publish = perfplat_env / "publish" / FOLDER
    metadata = json.loads((publish / "data.csv-metadata.json").read_text(encoding="utf-8"))
    header = next(csv.reader((publish / "data.csv").read_text(encoding="utf-8").splitlines()))
    columns = metadata["tableSchema"]["columns"]
    assert [c["titles"] for c in columns] == header
    assert metadata["url"] == "data.csv"
    assert metadata["@context"] == "http://www.w3.org/ns/csvw"
    assert "open-government-licence" in metadata["dc:license"]["@id"]
    assert metadata["dc:publisher"]["schema:name"] == "Office of the Public Guardian"
    by_title = {c["titles"]: c for c in columns}
    satisfaction = by_title["user-satisfaction-percent"]["dc:description"]
    assert "2026-03: weighted GDS score" in satisfaction and "2026-04: top-two-box share" in satisfaction
    completion = by_title["completion-rate"]["dc:description"]
    assert "2026-03 to 2026-04: journeys in GA4's BigQuery export" in completion
    assert by_title["digital-take-up"]["datatype"] == "decimal"
    assert by_title["very-satisfied"]["datatype"] == "nonNegativeInteger"


@needs_jq
def test_the_month_file_merges_with_data_json_as_the_automation_does(perfplat_env, tmp_path):
    """OPG's automation runs `jq -s flatten public.json new-month.json`: no duplicate may result."""
    assert _materialize(MAY).success
    existing = tmp_path / "existing.json"
    shutil.copy(perfplat_env / "publish" / FOLDER / "data.json", existing)  # the public file holds May
    assert _materialize(JUNE).success
    month_file = perfplat_env / "publish" / "make_a_lasting_power_of_attorney_25_06.json"
    merged = subprocess.run(
        ["jq", "-s", "flatten", str(existing), str(month_file)], capture_output=True, text=True, check=True
    )
    records = json.loads(merged.stdout)
    keys = [(r["_timestamp"], r["dataType"]) for r in records]
    assert len(keys) == len(set(keys)) == 18
    assert all(not record_problems(r, JUNE, MAKE_AN_LPA.service) for r in records)
    assert sorted(records, key=lambda r: (r["_timestamp"], r["dataType"])) == json.loads(
        (perfplat_env / "publish" / FOLDER / "data.json").read_text(encoding="utf-8")
    )


def test_sample_figures_never_reach_s3_by_a_missing_setting(s3, perfplat_env):
    result = _materialize(MAY)
    assert not result.success
    message = failure_message(result)
    assert (
        "PERFPLAT_MAKE_AN_LPA_DB_URL and PERFPLAT_SIRIUS_DB_URL and PERFPLAT_GA4_BIGQUERY_DATASET and "
        "PERFPLAT_UPTIME_HEALTH_CHECK_ID unset" in message
    )
    assert "Nothing was published" in message
    assert not _objects(s3) and not (perfplat_env / "publish").exists()


def test_a_directory_squatting_on_a_published_name_is_refused_before_anything_is_written(
    s3, sample_data_allowed, perfplat_env
):
    assert _materialize(MAY).success
    before = {key: obj["Body"].read() for key, obj in _objects(s3).items()}
    (perfplat_env / "publish" / FOLDER / "data.csv").unlink()
    (perfplat_env / "publish" / FOLDER / "data.csv").mkdir()
    result = _materialize(JUNE)
    assert not result.success
    message = failure_message(result)
    assert "publication directory" in message and "data.csv is a directory" in message
    assert "Nothing was published" in message
    after = {key: obj["Body"].read() for key, obj in _objects(s3).items()}
    assert after == before, "S3 holds exactly the May publication, and no June file"


def test_an_empty_metrics_store_cannot_erase_published_months(
    s3, sample_data_allowed, perfplat_env, monkeypatch, tmp_path
):
    assert _materialize(MAY).success
    monkeypatch.setenv("PERFPLAT_METRICS_DB_URL", f"sqlite:///{tmp_path / 'another-store.sqlite'}")
    result = _materialize(JUNE)
    assert not result.success
    message = failure_message(result)
    assert "holds 2025-05, which the metrics store does not" in message
    published = json.loads(s3.get_object(Bucket=BUCKET, Key=PREFIX + FOLDER + "data.json")["Body"].read())
    assert {r["_timestamp"][:7] for r in published} == {"2025-05"}
