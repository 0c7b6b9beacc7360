"""Every resource perfplat runs with, from the environment: the README's configuration table mirrors this
module and each registered measure's `sources` module, which reads its own sources' settings.

Values that may hold secrets are passed as `EnvVar`s, so Dagster reads them at run time and never shows or
stores them; a variable that is unset selects the embedded sample for its source where the sample is installed
(`common.settings.sample_stand_ins`), and is refused at load where it is not.
"""

from __future__ import annotations

import os
import re
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dagster._utils.schedules import is_valid_cron_string
from dagster_aws.s3 import S3Resource

from perfplat_assets.alerts.resources import SLACK_API_URL, Alerting
from perfplat_assets.alerts.sensors import INTERVAL_SECONDS
from perfplat_assets.common.run_start import RunStart
from perfplat_assets.common.service import Service
from perfplat_assets.common.settings import (
    SettingError,
    Settings,
    absolute_path,
    aws_region,
    database_url,
    env,
    flag,
    given,
    http_url,
    is_set,
    named,
    number,
    s3_bucket,
    s3_prefix,
    service_variable,
    shown_url,
    text_of,
    token,
    url_problem,
)
from perfplat_assets.common.sources import sample_settings
from perfplat_assets.common.sql_source import DEFAULT_DATA_DIR
from perfplat_assets.measures import service_measures
from perfplat_assets.metrics_store.io_manager import MetricsStoreIOManager
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.partitions import resource_key
from perfplat_assets.publication.deadline import DEFAULT_DEADLINE
from perfplat_assets.publication.freshness import PublicationDeadline, valid_deadline
from perfplat_assets.publication.targets.ckan import CkanCatalogue
from perfplat_assets.publication.targets.directory import PublicationDirectory
from perfplat_assets.publication.targets.publisher import DataGovUkPublisher
from perfplat_assets.publication.targets.s3 import S3Publication
from perfplat_assets.queue.resources import SqsQueue
from perfplat_assets.services.registry import services
from perfplat_assets.store_schema import STORED_TABLES

__all__ = [
    "SettingError",
    "alert_interval",
    "alert_on_success",
    "alerts_configured",
    "build_resources",
    "monthly_cron",
    "published_services",
    "queue_configured",
    "queue_sensor_interval",
]


def data_dir() -> str:
    """The home of the embedded default's files: an absolute path when set (checked now; whether it can be
    written is checked at the start of each run that uses it), else `.perfplat` in the working directory."""
    given_dir = absolute_path("PERFPLAT_DATA_DIR", "directory", "/var/lib/perfplat")
    return str(Path(given_dir or DEFAULT_DATA_DIR).resolve())


def queue_configured() -> bool:
    return is_set("PERFPLAT_SQS_QUEUE_URL") or is_set("PERFPLAT_SQS_QUEUE_NAME")


def queue_sensor_interval() -> int:
    return number("PERFPLAT_SQS_SENSOR_INTERVAL_SECONDS", 30, int, low=1, high=86_400)


# The 1st at 07:00 London time: the month file is in the bucket hours before OPG's automation reads it.
MONTHLY_CRON = "0 7 1 * *"


def monthly_cron() -> str:
    """When the `monthly` schedule runs (Europe/London), read now so that a typo fails the code location."""
    cron = os.environ.get("PERFPLAT_MONTHLY_CRON", "").strip() or MONTHLY_CRON
    if not is_valid_cron_string(cron):
        raise SettingError(
            f"PERFPLAT_MONTHLY_CRON must be a cron expression such as {MONTHLY_CRON!r}, not {cron!r}"
        )
    return cron


def publication_deadline(service: Service) -> str:
    """By when (a cron in UTC) the service's month that just closed must be published, read now so that a
    typo fails the code location."""
    variable = service_variable(service, "PUBLICATION_DEADLINE")
    cron = os.environ.get(variable, "").strip() or service.deadline
    if not valid_deadline(cron):
        raise SettingError(
            f"{variable} must be a cron expression in UTC such as {DEFAULT_DEADLINE!r} (11:00 on the 1st), "
            f"not {cron!r}"
        )
    return cron


SERVICES = "PERFPLAT_SERVICES"


def published_services() -> tuple[Service, ...]:
    """The services this deployment runs (PERFPLAT_SERVICES: their names, comma-separated), in the
    registry's order; unset, every registered one. Only these load, and only their sources need setting."""
    registered = services()
    text = os.environ.get(SERVICES, "").strip()
    if not text:
        return registered
    names = [name.strip() for name in text.split(",") if name.strip()]
    known = [service.name for service in registered]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise SettingError(
            f"{SERVICES} must name services perfplat publishes, comma-separated, from {', '.join(known)} "
            f"(e.g. {SERVICES}={known[0]}), not {text!r}"
        )
    return tuple(service for service in registered if service.name in names)


def alerts_configured() -> bool:
    """A channel is set: Slack (a channel and its token) or SNS. Checked at load (`alerting`)."""
    return (is_set("PERFPLAT_ALERT_SLACK_CHANNEL") and is_set("PERFPLAT_ALERT_SLACK_TOKEN")) or is_set(
        "PERFPLAT_ALERT_SNS_TOPIC_ARN"
    )


def alert_interval() -> int:
    """Seconds between two ticks of the alert sensor."""
    return number("PERFPLAT_ALERT_INTERVAL_SECONDS", INTERVAL_SECONDS, int, low=1, high=3600)


def alert_on_success() -> bool:
    """Whether a scheduled publication that went out is summarised on the channels (default true)."""
    return not is_set("PERFPLAT_ALERT_ON_SUCCESS") or flag("PERFPLAT_ALERT_ON_SUCCESS")


_SNS_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$")  # standard topics
# A channel's name (lower case, at most 80 characters, no blank or dot: Slack's rules) or its id.
_SLACK_CHANNEL = re.compile(r"#?[^\sA-Z.,#@]{1,80}|[CGD][A-Z0-9]{8,20}")


def alerting(metrics_store: MetricsStore) -> Alerting:
    """The alert channels, each checked now: Slack needs its channel and token together."""
    has_channel, has_token = is_set("PERFPLAT_ALERT_SLACK_CHANNEL"), is_set("PERFPLAT_ALERT_SLACK_TOKEN")
    if has_channel != has_token:
        missing = "PERFPLAT_ALERT_SLACK_TOKEN" if has_channel else "PERFPLAT_ALERT_SLACK_CHANNEL"
        raise SettingError(
            f"Slack alerts need PERFPLAT_ALERT_SLACK_CHANNEL (e.g. #opg-perfplat-alerts) and "
            f"PERFPLAT_ALERT_SLACK_TOKEN (a bot token) together: set {missing}, or unset the other"
        )
    topic = os.environ.get("PERFPLAT_ALERT_SNS_TOPIC_ARN", "").strip()
    if topic and not _SNS_ARN.match(topic):
        raise SettingError(
            "PERFPLAT_ALERT_SNS_TOPIC_ARN must be a standard (not FIFO) SNS topic ARN such as "
            f"arn:aws:sns:eu-west-1:123456789012:perfplat-alerts, not {topic!r}"
        )
    alert_on_success(), alert_interval()  # checked now too
    slack_api_url = http_url("PERFPLAT_ALERT_SLACK_API_URL", SLACK_API_URL, example=SLACK_API_URL)
    ui_url = http_url("PERFPLAT_UI_URL", example="https://perfplat.opg.example/")
    return Alerting(
        slack_channel=named(
            "PERFPLAT_ALERT_SLACK_CHANNEL",
            _SLACK_CHANNEL,
            "a Slack channel, #name (lower case, no blank or dot, at most 80 characters) or its id, e.g. "
            "#opg-perfplat-alerts",
        ),
        slack_token=token("PERFPLAT_ALERT_SLACK_TOKEN", starts="xox", what="a Slack bot token"),
        # slack_sdk joins method names to it: without the slash it drops "api".
        slack_api_url=slack_api_url.rstrip("/") + "/" if slack_api_url else None,
        sns_topic_arn=topic or None,
        ui_url=ui_url.rstrip("/") + "/" if ui_url else None,
        store=metrics_store,
    )


# AWS endpoints may be plain http off this machine (docker compose's http://aws:4566): AWS signs requests, so
# no secret crosses them. Every other URL perfplat sends something to is https, or plain http on loopback.
AWS_ENDPOINTS = {
    "AWS_ENDPOINT_URL": "http://localhost:4566",
    "AWS_ENDPOINT_URL_S3": "https://s3.eu-west-1.amazonaws.com",
    "AWS_ENDPOINT_URL_SQS": "https://sqs.eu-west-1.amazonaws.com",
    "AWS_ENDPOINT_URL_SNS": "https://sns.eu-west-1.amazonaws.com",
    "AWS_ENDPOINT_URL_CLOUDWATCH": "https://monitoring.us-east-1.amazonaws.com",
}
QUEUE_URLS = ("PERFPLAT_SQS_QUEUE_URL", "PERFPLAT_SQS_DLQ_URL")
# `https://sqs.<region>.amazonaws.com/<account>/<queue>`: an account id, and a queue name of at most 80
# characters (a FIFO queue's ending in .fifo).
_QUEUE_NAME = re.compile(r"(?=[^/]{1,80}$)[A-Za-z0-9_-]+(\.fifo)?")
_QUEUE_PATH = re.compile(r"/\d{12}/" + _QUEUE_NAME.pattern)
_CKAN_NAME = re.compile(r"[a-z0-9_-]{2,100}")  # CKAN's rule for a name; an id (a UUID) keeps it too
QUEUE_EXAMPLE = "https://sqs.eu-west-1.amazonaws.com/123456789012/perfplat-queue.fifo"
CKAN_URL, PUBLIC_BASE_URL, S3_ENDPOINT = (
    "PERFPLAT_CKAN_URL",
    "PERFPLAT_PUBLIC_BASE_URL",
    "AWS_ENDPOINT_URL_S3",
)


def check_shared_settings() -> None:
    """Every setting the services share, checked now, before any resource is built: the AWS region and
    endpoints, the queue, the stores, the publication's targets, the schedule, Google's credentials."""
    aws_region("AWS_REGION")
    for name, example in AWS_ENDPOINTS.items():
        http_url(name, example=example, plain_http="anywhere")
    for name in QUEUE_URLS:
        url = http_url(name, example=QUEUE_EXAMPLE, plain_http="anywhere")
        if url and not _QUEUE_PATH.fullmatch(urlsplit(url).path):
            raise SettingError(
                f"{name} must be an SQS queue URL, its path /<12-digit account id>/<queue name>, e.g. "
                f"{QUEUE_EXAMPLE}"
            )
    named(
        "PERFPLAT_SQS_QUEUE_NAME",
        _QUEUE_NAME,
        "an SQS queue name (at most 80 letters, digits, - and _, a FIFO queue's ending in .fifo), e.g. "
        "perfplat-queue.fifo",
    )
    queue_sensor_interval()
    database_url("PERFPLAT_METRICS_DB_URL")
    absolute_path("PERFPLAT_PUBLISH_DIR", "directory", "/srv/perfplat/publish")
    absolute_path("GOOGLE_APPLICATION_CREDENTIALS", "file", "/secrets/ga4.json")
    s3_bucket("PERFPLAT_S3_BUCKET")
    s3_bucket("PERFPLAT_COMPUTE_LOGS_BUCKET", "opg-perfplat-compute-logs")  # deploy/ecs/dagster.yaml's
    s3_prefix("PERFPLAT_S3_PREFIX")
    http_url(CKAN_URL, example="https://data.gov.uk")
    token("PERFPLAT_CKAN_API_TOKEN", what="a CKAN API token")
    public_base_url()
    monthly_cron()


def public_base_url() -> str | None:
    """Where the top of the publication is served, which CKAN links to: https, or plain http on this
    machine, without credentials. Without it CKAN links to S3's object, whose endpoint must be as safe."""
    public = http_url(PUBLIC_BASE_URL, example="https://performance-data.opg.service.justice.gov.uk/")
    endpoint = text_of(S3_ENDPOINT)  # checked already, but for plain http off this machine, which AWS may use
    if (
        is_set(CKAN_URL)
        and not public
        and is_set("PERFPLAT_S3_BUCKET")
        and endpoint
        and url_problem(endpoint)
    ):
        raise SettingError(
            f"set {PUBLIC_BASE_URL} to the https URL the files are served from: {CKAN_URL} is set, and "
            f"without it CKAN would link data.csv through {S3_ENDPOINT} ({shown_url(endpoint)}), plain http "
            "off this machine"
        )
    return public


def build_resources() -> dict[str, Any]:
    """Every resource: those every service shares, then each published service's own, under its name
    (`partitions.resource_key`). A service's publisher is told which of its settings are unset by its source
    resources themselves, found by type, so that a new source cannot slip past its guard."""
    assert STORED_TABLES  # imported so that the store below creates every stored asset's table
    home = data_dir()
    check_shared_settings()
    inheriting = next((s.name for s in services() if s.inherits_single_service_layout), None)
    metrics_store = MetricsStore(
        url=database_url("PERFPLAT_METRICS_DB_URL"), data_dir=home, carry_over_to=inheriting
    )
    resources: dict[str, Any] = {
        "sqs_queue": SqsQueue(
            queue_url=env("PERFPLAT_SQS_QUEUE_URL"),
            queue_name=env("PERFPLAT_SQS_QUEUE_NAME"),
            dead_letter_queue_url=env("PERFPLAT_SQS_DLQ_URL"),
            region_name=env("AWS_REGION"),
            endpoint_url=env("AWS_ENDPOINT_URL_SQS"),
        ),
        "metrics_store": metrics_store,
        "metrics_store_io_manager": MetricsStoreIOManager(store=metrics_store),
    }
    publish_dir = env("PERFPLAT_PUBLISH_DIR", str(Path(home) / "publish"))
    resources["alerting"] = alerting(metrics_store)
    settings = Settings(data_dir=home)
    uses_data_dir = not is_set("PERFPLAT_METRICS_DB_URL")
    unset: dict[str, list[str]] = {}
    for service in published_services():
        own = service_sources(settings, service)
        unset[service.name] = sample_settings(own.values())
        uses_data_dir = uses_data_dir or bool(unset[service.name])
        own["publisher"] = _publisher(service, publish_dir, unset[service.name], metrics_store)
        own["publication_deadline"] = PublicationDeadline(
            service=service.name, cron=publication_deadline(service)
        )
        resources |= {resource_key(service, role): resource for role, resource in own.items()}
    # The data directory is checked at a run's start only where something is kept in it: the SQLite store,
    # or a source the embedded sample stands in for.
    resources["run_start"] = RunStart(
        publish_dir=publish_dir,
        data_dir=home if uses_data_dir else None,
        store=metrics_store,
        sample_settings=unset,
        allow_sample_data=flag("PERFPLAT_ALLOW_SAMPLE_DATA"),
    )
    return resources


def service_sources(settings: Settings, service: Service) -> dict[str, Any]:
    """By role, the resources the service's measures read, from each measure's `<home>.sources` module (a
    measure without one reads no source); a source two measures read (Make an LPA's database) is built
    once. In the order the publication guard names those serving the sample: the measures'."""
    found: dict[str, Any] = {}
    for measure in service_measures(service):
        module = f"{measure.home}.sources"
        if find_spec(module) is None:
            continue
        for role, resource in import_module(module).sources(settings, service).items():
            found.setdefault(role, resource)
    return found


def _publisher(
    published: Service, publish_dir: Any, sample_sources: list[str], metrics_store: MetricsStore
) -> DataGovUkPublisher:
    service = published.name
    dataset = service_variable(published, "CKAN_DATASET")
    named(
        dataset,
        _CKAN_NAME,
        "a CKAN dataset's name or id (2 to 100 lower-case letters, digits, - and _), e.g. "
        f"{published.ckan_dataset}",
    )
    return DataGovUkPublisher(
        service=service,
        store=metrics_store,
        directory=PublicationDirectory(path=publish_dir, store=metrics_store, service=service),
        s3=S3Publication(
            service=service,
            s3=S3Resource(region_name=env("AWS_REGION"), endpoint_url=env("AWS_ENDPOINT_URL_S3")),
            bucket=env("PERFPLAT_S3_BUCKET"),
            taken_over=flag(f"{published.setting_prefix}S3_TAKEN_OVER"),
            **given(prefix="PERFPLAT_S3_PREFIX"),
        ),
        ckan=CkanCatalogue(
            service=service,
            url=env("PERFPLAT_CKAN_URL"),
            api_token=env("PERFPLAT_CKAN_API_TOKEN"),
            **given(dataset=dataset),
        ),
        public_base_url=env("PERFPLAT_PUBLIC_BASE_URL"),
        sample_sources=sample_sources,
        allow_sample_data=flag("PERFPLAT_ALLOW_SAMPLE_DATA"),
        dry_run=flag("PERFPLAT_DRY_RUN"),
    )
