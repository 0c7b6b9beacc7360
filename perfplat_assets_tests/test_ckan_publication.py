"""Publishing to data.gov.uk's software: a real CKAN 2.11 on loopback, with S3 on moto's server."""

import json
from collections.abc import Iterator

import pytest

from perfplat_assets.common.months import Month
from perfplat_assets_tests.ckan.fixture import CkanSite, ckan_action
from perfplat_assets_tests.support.aws import BUCKET, PREFIX
from perfplat_assets_tests.support.faults import FaultyHop, Reply
from perfplat_assets_tests.support.run_results import failure_message, materialize_month

FOLDER = "make_a_lasting_power_of_attorney_service"  # Make an LPA's, where its cumulative files go

# Every test here publishes the embedded sample to S3 and CKAN: the sample guard is off for all of them.
pytestmark = pytest.mark.usefixtures("sample_data_allowed")

MAY, JUNE = Month.parse("2025-05"), Month.parse("2025-06")
RESOURCE_NAME = "Make an LPA monthly service performance (CSV)"


def _materialize(month: Month, dry_run: bool = False):
    config = (
        {"ops": {"make_an_lpa__data_gov_uk_publication": {"config": {"dry_run": True}}}} if dry_run else None
    )
    return materialize_month(month, config)


def _resources(site: CkanSite) -> list[dict]:
    return ckan_action(site, "package_show", {"id": site.dataset})["resources"]


@pytest.fixture
def ckan(ckan_site: CkanSite, s3_bucket, monkeypatch) -> CkanSite:
    monkeypatch.setenv("PERFPLAT_CKAN_URL", ckan_site.url)
    monkeypatch.setenv("PERFPLAT_CKAN_API_TOKEN", ckan_site.api_token)
    monkeypatch.setenv("PERFPLAT_CKAN_DATASET", ckan_site.dataset)
    return ckan_site


def _objects(s3) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def test_first_publication_creates_the_resource_then_later_ones_patch_it(ckan, s3_bucket, aws_endpoint):
    assert _materialize(MAY).success
    [resource] = _resources(ckan)
    assert resource["name"] == RESOURCE_NAME
    assert resource["url"] == f"{aws_endpoint}/{BUCKET}/{PREFIX}{FOLDER}/data.csv"
    assert resource["format"] == "CSV"
    assert resource["resource-type"] == "data-link"
    assert resource["datafile-date"] == "2025-05-01"
    # The URL it registers serves the published CSV.
    body = s3_bucket.get_object(Bucket=BUCKET, Key=f"{PREFIX}{FOLDER}/data.csv")["Body"].read().decode()
    assert body.startswith("month,user-satisfaction-percent")

    assert _materialize(JUNE).success
    [patched] = _resources(ckan)
    assert patched["id"] == resource["id"]
    assert patched["datafile-date"] == "2025-06-01"

    assert _materialize(MAY).success  # re-publishing an earlier month: the newest month stays the date
    [again] = _resources(ckan)
    assert again["id"] == resource["id"] and again["datafile-date"] == "2025-06-01"


def test_a_wrong_token_fails_clearly_and_changes_nothing(ckan, s3_bucket, perfplat_env, monkeypatch):
    monkeypatch.setenv("PERFPLAT_CKAN_API_TOKEN", "not-the-token-" + ckan.api_token[-6:])
    result = _materialize(MAY)
    assert not result.success
    message = failure_message(result)
    assert f"the API token may not update dataset {ckan.dataset}" in message
    assert "Nothing was published" in message
    assert ckan.api_token not in message and "not-the-token" not in message
    assert not _resources(ckan)
    assert not _objects(s3_bucket)
    assert not (perfplat_env / "publish").exists()


def test_an_s3_failure_leaves_ckan_untouched(ckan, s3_bucket, monkeypatch):
    monkeypatch.setenv("PERFPLAT_S3_BUCKET", "no-such-bucket")
    result = _materialize(MAY)
    assert not result.success
    assert "S3 bucket no-such-bucket" in failure_message(result)
    assert not _resources(ckan)


def test_a_dry_run_changes_nothing_anywhere(ckan, s3_bucket, perfplat_env):
    result = _materialize(MAY, dry_run=True)
    assert result.success
    plan = (
        result.asset_observations_for_node("make_an_lpa__data_gov_uk_publication")[0].metadata["plan"].value
    )
    assert f"| ckan | {RESOURCE_NAME} | create |" in plan
    assert f"| s3 | {PREFIX}{FOLDER}/data.csv | create |" in plan
    assert not _resources(ckan)
    assert not _objects(s3_bucket)
    assert not (perfplat_env / "publish").exists()


@pytest.fixture
def flaky_ckan(ckan: CkanSite, monkeypatch) -> Iterator[FaultyHop]:
    """A loopback hop in front of the real CKAN that fails `resource_create` once, as a network might."""
    failures = [
        Reply(503, b'{"success": false, "error": {"message": "Service Unavailable"}}', "application/json")
    ]

    def once(method: str, path: str) -> Reply | None:
        return failures.pop() if path.endswith("/resource_create") and failures else None

    with FaultyHop(ckan.url) as hop:
        hop.rule = once
        monkeypatch.setenv("PERFPLAT_CKAN_URL", hop.url)
        yield hop


def test_a_ckan_failure_after_the_files_is_completed_by_a_rerun(ckan, flaky_ckan, s3_bucket, perfplat_env):
    first = _materialize(MAY)
    assert not first.success
    message = failure_message(first)
    assert "The files are published (directory, s3) but updating CKAN failed" in message
    assert "resource_create" in message and "Re-run the month" in message
    assert f"{PREFIX}{FOLDER}/data.csv" in _objects(s3_bucket)
    assert not _resources(ckan)

    second = _materialize(MAY)
    assert second.success
    assert len(_resources(ckan)) == 1
    records = json.loads((perfplat_env / "publish" / FOLDER / "data.json").read_text(encoding="utf-8"))
    keys = [(r["_timestamp"], r["dataType"]) for r in records]
    assert len(keys) == len(set(keys)) == 9
    assert (
        second.asset_materializations_for_node("make_an_lpa__data_gov_uk_publication")[0]
        .metadata["revisions_this_run"]
        .value
        == 0
    )
