"""Every documented setting is checked when the code location loads, and a refusal never holds a secret.

A deployment's environment with every setting given a valid value loads (`GOOD`); then each setting in turn
is given a bad value (`BAD`), and loading must refuse it with a SettingError that names the variable, in one
line, without the secret the value carried, in any form, anywhere in the traceback. The documented settings
are read from docs/configuration.md's table and deploy/ecs/dagster.yaml, so a setting documented without a
case here fails the suite. Loading is `configuration.build_resources()`, in this process: what the code
location runs when it loads, without a process per case.
"""

from __future__ import annotations

import re
import socket
import traceback
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from dagster import Failure, build_asset_context

from perfplat_assets.common.run_start import RunStart
from perfplat_assets.common.settings import SettingError, url_problem
from perfplat_assets.configuration import build_resources
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.publication.committing.target import PublicationFailed
from perfplat_assets.publication.targets.ckan import CkanCatalogue
from perfplat_assets.publication.targets.directory import PublicationDirectory
from perfplat_assets.publication.targets.publisher import DataGovUkPublisher
from perfplat_assets.publication.targets.s3 import S3Publication
from perfplat_assets.services.deputy_reporting.service import DEPUTY_REPORTING
from perfplat_assets.services.make_an_lpa.service import MAKE_AN_LPA
from perfplat_assets.services.use_an_lpa.service import USE_AN_LPA
from perfplat_assets_tests.support.services import ROOT

SECRET = "Canary-Setting-4Wd"
SERVICES = (MAKE_AN_LPA, USE_AN_LPA, DEPUTY_REPORTING)
# The names Make an LPA's settings had before perfplat published several services (README, CHANGELOG.md).
LEGACY = {
    "PERFPLAT_LPA_DB_URL": "PERFPLAT_MAKE_AN_LPA_DB_URL",
    "PERFPLAT_SATISFACTION_METHODS": "PERFPLAT_MAKE_AN_LPA_SATISFACTION_METHODS",
    "PERFPLAT_CHECK_MINIMUM_RESPONSES": "PERFPLAT_MAKE_AN_LPA_CHECK_MINIMUM_RESPONSES",
    "PERFPLAT_CHECK_UNKNOWN_RATINGS_MAX_PERCENT": "PERFPLAT_MAKE_AN_LPA_CHECK_UNKNOWN_RATINGS_MAX_PERCENT",
    "PERFPLAT_CKAN_DATASET": "PERFPLAT_MAKE_AN_LPA_CKAN_DATASET",
    "PERFPLAT_PUBLICATION_DEADLINE": "PERFPLAT_MAKE_AN_LPA_PUBLICATION_DEADLINE",
}


def _per_service(good: bool) -> dict[str, str]:
    """Each service's own settings (`PERFPLAT_<SERVICE>_...`), valid or not."""
    found = {}
    for service in SERVICES:
        prefix = service.setting_prefix
        found |= {
            f"{prefix}SATISFACTION_METHODS": "2021-03:weighted-gds,2026-04:top-two-box"
            if good
            else "2021-03:mean",
            f"{prefix}CHECK_UNKNOWN_RATINGS_MAX_PERCENT": "2" if good else "101",
            f"{prefix}CHECK_MINIMUM_RESPONSES": "100" if good else "many",
            f"{prefix}S3_TAKEN_OVER": "false" if good else "on",
            f"{prefix}CKAN_DATASET": service.ckan_dataset if good else "Make A LPA",
            f"{prefix}PUBLICATION_DEADLINE": "0 11 1 * *" if good else "11:00 on the 1st",
        }
    return found


# A production deployment, every setting set: nothing is connected to at load, so the hosts need not exist.
GOOD = {
    "PERFPLAT_SERVICES": ",".join(service.name for service in SERVICES),
    "PERFPLAT_MAKE_AN_LPA_DB_URL": f"postgresql://perfplat:{SECRET}@db.internal:5432/makealpa",
    "PERFPLAT_USE_AN_LPA_FEEDBACK_EXPORTS": "s3://opg-feedback-exports/use-an-lpa/",
    "PERFPLAT_DEPUTY_REPORTING_DB_URL": "postgresql+psycopg2://digideps@db.internal/api?sslmode=require",
    "PERFPLAT_SIRIUS_DB_URL": "postgresql://sirius@db.internal/sirius",
    "PERFPLAT_SIRIUS_CASES_TABLE": "cases",
    "PERFPLAT_SIRIUS_CASE_TYPE_COLUMN": "case_type",
    "PERFPLAT_SIRIUS_LPA_CASE_TYPE": "LPA",
    "PERFPLAT_SIRIUS_RECEIPT_DATE_COLUMN": "receipt_date",
    "PERFPLAT_SIRIUS_ONLINE_ID_COLUMN": "online_lpa_id",
    "PERFPLAT_TAKEUP_FIGURES_FILE": "/srv/perfplat/take-up.csv",
    "PERFPLAT_GA4_BIGQUERY_DATASET": "opg-analytics.analytics_123456789",
    "PERFPLAT_BIGQUERY_PROJECT": "opg-analytics",
    "PERFPLAT_BIGQUERY_LOCATION": "europe-west2",
    "PERFPLAT_BIGQUERY_MAX_BYTES_BILLED": "200000000000",
    "PERFPLAT_BIGQUERY_API_ENDPOINT": "https://bigquery.googleapis.com",
    "PERFPLAT_GA4_PROPERTY_ID": "123456789",
    "PERFPLAT_GA4_API_ENDPOINT": "analyticsdata.googleapis.com:443",
    "GOOGLE_APPLICATION_CREDENTIALS": "/secrets/ga4.json",
    "PERFPLAT_CHECK_COMPLETION_RATE_MAX_GAP": "10",
    "PERFPLAT_SQS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/perfplat-queue.fifo",
    "PERFPLAT_SQS_QUEUE_NAME": "perfplat-queue.fifo",
    "PERFPLAT_SQS_DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/perfplat-queue-dlq.fifo",
    "PERFPLAT_SQS_SENSOR_INTERVAL_SECONDS": "30",
    "AWS_ENDPOINT_URL": "https://vpce.example.internal",
    "AWS_ENDPOINT_URL_SQS": "https://sqs.eu-west-1.amazonaws.com",
    "AWS_REGION": "eu-west-1",
    "PERFPLAT_METRICS_DB_URL": f"postgresql://perfplat@db.internal/metrics?password={SECRET}",
    "PERFPLAT_PUBLISH_DIR": "/srv/perfplat/publish",
    "PERFPLAT_S3_BUCKET": "opg-performance-data",
    "PERFPLAT_S3_PREFIX": "make-an-lpa/",
    "AWS_ENDPOINT_URL_S3": "https://s3.eu-west-1.amazonaws.com",
    "PERFPLAT_CKAN_URL": "https://data.gov.uk",
    "PERFPLAT_CKAN_API_TOKEN": f"eyJhbGciOiJIUzI1NiJ9.{SECRET}.c2ln",
    "PERFPLAT_PUBLIC_BASE_URL": "https://performance-data.example.gov.uk/",
    "PERFPLAT_ALLOW_SAMPLE_DATA": "false",
    "PERFPLAT_DRY_RUN": "yes",
    "PERFPLAT_UPTIME_HEALTH_CHECK_ID": "a1b2c3d4-0000-4000-8000-000000000000",
    "PERFPLAT_UPTIME_REGION": "us-east-1",
    "AWS_ENDPOINT_URL_CLOUDWATCH": "https://monitoring.us-east-1.amazonaws.com",
    "PERFPLAT_MONTHLY_CRON": "0 7 1 * *",
    "PERFPLAT_ALERT_SLACK_CHANNEL": "#opg-perfplat-alerts",
    "PERFPLAT_ALERT_SLACK_TOKEN": f"xoxb-{SECRET}",
    "PERFPLAT_ALERT_SLACK_API_URL": "https://slack.com/api/",
    "PERFPLAT_ALERT_SNS_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:perfplat-alerts",
    "AWS_ENDPOINT_URL_SNS": "https://sns.eu-west-1.amazonaws.com",
    "PERFPLAT_UI_URL": "https://perfplat.opg.example",
    "PERFPLAT_ALERT_ON_SUCCESS": "true",
    "PERFPLAT_ALERT_INTERVAL_SECONDS": "30",
    "PERFPLAT_COMPUTE_LOGS_BUCKET": "opg-perfplat-compute-logs",
    # PERFPLAT_DATA_DIR: the test's own folder (`deployment`)
    **_per_service(good=True),
}

# One bad value per setting; those of URLs, tokens and database URLs carry SECRET, which no refusal may hold.
BAD = {
    "PERFPLAT_SERVICES": "make_an_lpa,mars",
    "PERFPLAT_MAKE_AN_LPA_DB_URL": f"postgresql://perfplat:{SECRET}@db.internal:notaport/makealpa",
    "PERFPLAT_LPA_DB_URL": SECRET,  # a secret pasted into the wrong variable: no URL, and never shown
    "PERFPLAT_USE_AN_LPA_FEEDBACK_EXPORTS": "s3://opg-feedback-exports/../",
    "PERFPLAT_DEPUTY_REPORTING_DB_URL": f"nosuchdatabase://digideps:{SECRET}@db.internal/api",
    "PERFPLAT_SIRIUS_DB_URL": f"postgresql://sirius:{SECRET}@hunter2@db.internal/sirius",
    "PERFPLAT_SIRIUS_CASES_TABLE": "cases; DROP TABLE cases",
    "PERFPLAT_SIRIUS_CASE_TYPE_COLUMN": "case type",
    "PERFPLAT_SIRIUS_LPA_CASE_TYPE": "LPA'--",
    "PERFPLAT_SIRIUS_RECEIPT_DATE_COLUMN": "1st_receipt",
    "PERFPLAT_SIRIUS_ONLINE_ID_COLUMN": "x" * 64,
    "PERFPLAT_TAKEUP_FIGURES_FILE": "take-up.csv",
    "PERFPLAT_GA4_BIGQUERY_DATASET": "analytics_123",
    "PERFPLAT_BIGQUERY_PROJECT": "Opg Analytics",
    "PERFPLAT_BIGQUERY_LOCATION": "eu west",
    "PERFPLAT_BIGQUERY_MAX_BYTES_BILLED": "lots",
    "PERFPLAT_BIGQUERY_API_ENDPOINT": f"https://perfplat:{SECRET}@bigquery.example",
    "PERFPLAT_GA4_PROPERTY_ID": "G-123",
    "PERFPLAT_GA4_API_ENDPOINT": f"http://perfplat:{SECRET}@analytics.example",
    "GOOGLE_APPLICATION_CREDENTIALS": "ga4.json",
    "PERFPLAT_CHECK_COMPLETION_RATE_MAX_GAP": "101",
    "PERFPLAT_SQS_QUEUE_URL": f"https://sqs.eu-west-1.amazonaws.com/123456789012/q.fifo?token={SECRET}",
    "PERFPLAT_SQS_QUEUE_NAME": "perfplat queue",
    "PERFPLAT_SQS_DLQ_URL": "https://sqs.eu-west-1.amazonaws.com/perfplat-queue-dlq.fifo",
    "PERFPLAT_SQS_SENSOR_INTERVAL_SECONDS": "0",
    "AWS_ENDPOINT_URL": SECRET,
    "AWS_ENDPOINT_URL_SQS": f"http://test:{SECRET}@aws:4566",
    "AWS_REGION": "mars-1",
    "PERFPLAT_METRICS_DB_URL": "garbage",
    "PERFPLAT_PUBLISH_DIR": "publish",
    "PERFPLAT_S3_BUCKET": "Bad Bucket!",
    "PERFPLAT_S3_PREFIX": "../../",
    "AWS_ENDPOINT_URL_S3": f"s3.example:{SECRET}",
    "PERFPLAT_CKAN_URL": f"ftp://ckanuser:{SECRET}@ckan.example",
    "PERFPLAT_CKAN_API_TOKEN": f"{SECRET}\r\nX-Injected: 1",
    "PERFPLAT_PUBLIC_BASE_URL": "javascript:alert(document.domain)//",
    "PERFPLAT_ALLOW_SAMPLE_DATA": "on",
    "PERFPLAT_DRY_RUN": "y",
    "PERFPLAT_UPTIME_HEALTH_CHECK_ID": "health check",
    "PERFPLAT_UPTIME_REGION": "mars 1",
    "AWS_ENDPOINT_URL_CLOUDWATCH": f"https://monitoring.example/?X-Amz-Security-Token={SECRET}",
    "PERFPLAT_MONTHLY_CRON": "monthly",
    "PERFPLAT_ALERT_SLACK_CHANNEL": "#opg perfplat",
    "PERFPLAT_ALERT_SLACK_TOKEN": f"Bearer {SECRET}",
    "PERFPLAT_ALERT_SLACK_API_URL": f"https://slack.example/api/#{SECRET}",
    "PERFPLAT_ALERT_SNS_TOPIC_ARN": "perfplat-alerts",
    "AWS_ENDPOINT_URL_SNS": f"https://sns:{SECRET}@sns.example",
    "PERFPLAT_UI_URL": "http://perfplat.opg.example",
    "PERFPLAT_ALERT_ON_SUCCESS": "sometimes",
    "PERFPLAT_ALERT_INTERVAL_SECONDS": "0",
    "PERFPLAT_DATA_DIR": "data",
    "PERFPLAT_COMPUTE_LOGS_BUCKET": "logs_bucket",
    "PERFPLAT_SATISFACTION_METHODS": "2021-03:mean",
    "PERFPLAT_CHECK_MINIMUM_RESPONSES": "many",
    "PERFPLAT_CHECK_UNKNOWN_RATINGS_MAX_PERCENT": "101",
    "PERFPLAT_CKAN_DATASET": "Make A LPA",
    "PERFPLAT_PUBLICATION_DEADLINE": "11:00 on the 1st",
    **_per_service(good=False),
}


@pytest.fixture
def deployment(every_service: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """GOOD, and nothing else from the outside that the code location reads."""
    for name in ["GOOGLE_APPLICATION_CREDENTIALS", *(n for n in GOOD if n.startswith("AWS_"))]:
        monkeypatch.delenv(name, raising=False)
    for name, value in GOOD.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("PERFPLAT_DATA_DIR", str(every_service))
    yield


def _forms(secret: str) -> set[str]:
    return {secret, quote(secret, safe=""), quote(secret)}


def test_a_deployment_with_every_setting_valid_loads(deployment):
    resources = build_resources()
    assert resources["make_an_lpa__publisher"].dry_run is True
    assert {"use_an_lpa__ratings", "deputy_reporting__ratings"} <= set(resources)


@pytest.mark.parametrize("variable", sorted(BAD))
def test_a_bad_value_is_refused_at_load_naming_the_variable_without_its_secret(
    deployment, monkeypatch, variable
):
    monkeypatch.setenv(variable, BAD[variable])
    if variable in LEGACY:  # read while the new name is unset; both set is refused as such
        monkeypatch.delenv(LEGACY[variable])
    with pytest.raises(SettingError) as refused:
        build_resources()
    message = str(refused.value)
    assert variable in message
    assert "\n" not in message and not message.endswith("..")
    everything = "".join(traceback.format_exception(refused.value))
    for form in _forms(SECRET):
        assert form not in everything, f"the secret appears in the refusal of {variable}: {message}"


def _documented() -> set[str]:
    """Every variable docs/configuration.md's table and deploy/ecs/dagster.yaml name, each service's own
    (`PERFPLAT_<SERVICE>_...`) for every service."""
    readme = (ROOT / "docs" / "configuration.md").read_text()
    table = readme.split("| variable | used for | default |", 1)[1].split("\n\n", 1)[0]
    names = set()
    for row in table.splitlines()[2:]:
        for name in re.findall(r"`([A-Z][A-Z0-9_<>]+)`", row.split("|")[1]):
            names |= {name.replace("PERFPLAT_<SERVICE>_", s.setting_prefix) for s in SERVICES}
    ecs = (ROOT / "deploy" / "ecs" / "dagster.yaml").read_text()
    names |= set(re.findall(r"\b(?:PERFPLAT|AWS)_[A-Z0-9_]+\b", ecs))
    return names


def test_every_documented_setting_has_a_bad_value_here():
    documented = _documented()
    assert len(documented) > 60 and "PERFPLAT_DEPUTY_REPORTING_CKAN_DATASET" in documented
    assert documented - set(BAD) == set()
    assert set(LEGACY) <= set(BAD)


def test_ckan_without_a_public_base_url_never_links_through_plain_http(deployment, monkeypatch):
    """The S3 endpoint may be plain http (AWS signs requests), but CKAN would give the link to the world."""
    monkeypatch.delenv("PERFPLAT_PUBLIC_BASE_URL")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://aws:4566")
    with pytest.raises(SettingError) as refused:
        build_resources()
    assert str(refused.value).startswith("set PERFPLAT_PUBLIC_BASE_URL to the https URL the files are served")
    assert "through AWS_ENDPOINT_URL_S3 (http://aws:4566), plain http off this machine" in str(refused.value)


def test_docker_composes_environment_loads(every_service, monkeypatch):
    """The compose file's settings (plain http to its own AWS stand-in, `aws:4566`) are valid."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    for name, value in compose["x-perfplat"]["environment"].items():
        if name.startswith(("PERFPLAT_", "AWS_")):
            monkeypatch.setenv(name, value)
    assert build_resources()["sqs_queue"].configured


@pytest.mark.parametrize(
    ("url", "plain_http", "problem"),
    [
        ("https://data.gov.uk", "loopback", None),
        ("http://127.0.0.1:5000/ckan", "loopback", None),
        ("http://[::1]:8080/", "loopback", None),
        ("http://localhost:3000", "loopback", None),
        ("http://aws:4566", "anywhere", None),
        ("http://127.0.0.1.example.org/", "loopback", "must use https unless it is on this machine"),
        ("https://host:0/", "loopback", "with a port from 1 to 65535, not https://host:0"),
        ("https://host:99999/", "loopback", "with a port from 1 to 65535"),
        ("https://exa mple.org/", "loopback", "with a host name or address"),
        ("https://[::1/", "loopback", "its value is not one (not shown"),
        ("https://host/?", "loopback", "it carries a query or fragment"),
        (f"https://{SECRET}@host/", "anywhere", "it carries credentials (user:password@, not shown)"),
        ("file:///etc/passwd", "anywhere", "its value is not one"),
        ("gopher://host/", "anywhere", "not a gopher: URL (gopher://host)"),
    ],
)
def test_the_url_rule(url, plain_http, problem):
    found = url_problem(url, plain_http)
    assert (found is None) if problem is None else (found is not None and problem in found), found


# What a run reads is its own environment: the checks at load are made again where a URL leaves perfplat.


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_ckan_url_with_credentials_read_by_a_run_is_never_said(every_service):
    port = _closed_port()
    ckan = CkanCatalogue(service="make_an_lpa", url=f"http://ckanuser:{SECRET}@127.0.0.1:{port}/ckan")
    with pytest.raises(PublicationFailed) as refused:
        ckan.check_access()
    message = str(refused.value)
    assert message.startswith(f"CKAN package_show: cannot reach http://***@127.0.0.1:{port}/ckan: ")
    for form in _forms(SECRET):
        assert form not in "".join(traceback.format_exception(refused.value))


@pytest.mark.parametrize(
    ("base", "bucket", "endpoint", "made_from", "problem"),
    [
        (
            "javascript:alert(document.domain)//",
            None,
            None,
            "PERFPLAT_PUBLIC_BASE_URL",
            "its value is not one",
        ),
        (f"https://u:{SECRET}@files.example/", None, None, "PERFPLAT_PUBLIC_BASE_URL", "carries credentials"),
        (None, "opg-performance-data", "http://aws:4566", "AWS_ENDPOINT_URL_S3", "must use https"),
    ],
)
def test_only_a_safe_url_reaches_ckan_whatever_a_run_reads(
    every_service, base, bucket, endpoint, made_from, problem
):
    from dagster_aws.s3 import S3Resource

    store = MetricsStore(data_dir=str(every_service))
    publisher = DataGovUkPublisher(
        service="make_an_lpa",
        store=store,
        directory=PublicationDirectory(
            path=str(every_service / "publish"), store=store, service="make_an_lpa"
        ),
        s3=S3Publication(service="make_an_lpa", s3=S3Resource(endpoint_url=endpoint), bucket=bucket),
        ckan=CkanCatalogue(service="make_an_lpa", url="http://127.0.0.1:9/"),
        public_base_url=base,
    )
    with pytest.raises(PublicationFailed) as refused:
        publisher.refuse_unpublishable_settings()
    message = str(refused.value)
    assert f"data.csv's public URL for CKAN, made from {made_from}, " in message and problem in message
    assert message.endswith("Nothing was published") and SECRET not in message


def test_a_data_dir_that_is_a_file_fails_the_run_at_its_start(tmp_path):
    """Only a run's machine can tell (the code server may not share its filesystem): checked first."""
    not_a_directory = tmp_path / "data"
    not_a_directory.write_text("x\n")
    run_start = RunStart(publish_dir=str(tmp_path / "publish"), data_dir=str(not_a_directory))
    with pytest.raises(Failure) as refused:
        run_start.check(build_asset_context())
    assert str(refused.value.description) == (
        f"PERFPLAT_DATA_DIR: {not_a_directory} is a regular file, not a directory. Nothing was asked of any "
        "source; nothing was published."
    )
