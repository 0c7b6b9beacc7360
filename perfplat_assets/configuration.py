"""Every setting perfplat reads, in one place: the README's configuration table mirrors this module.

Values that may hold secrets are passed as `EnvVar`s, so Dagster reads them at run time and never shows or
stores them; a variable that is unset selects the embedded default for its source.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dagster import EnvVar
from dagster._utils.schedules import is_valid_cron_string
from dagster_aws.s3 import S3Resource

from perfplat_assets.common.make_an_lpa_database import MakeAnLpaDatabase
from perfplat_assets.common.run_start import RunStart
from perfplat_assets.common.sources import sample_settings
from perfplat_assets.common.sql_source import DEFAULT_DATA_DIR
from perfplat_assets.completion_rate.resources import GoogleAnalytics
from perfplat_assets.digital_take_up.resources import SiriusDatabase, TakeUpFiguresFile
from perfplat_assets.embedded.resources import (
    EmbeddedGoogleAnalytics,
    EmbeddedMakeAnLpaDatabase,
    EmbeddedRoute53HealthCheck,
    EmbeddedSiriusDatabase,
)
from perfplat_assets.metrics_store.io_manager import MetricsStoreIOManager
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.publication.directory import PublicationDirectory
from perfplat_assets.publication.resources import CkanCatalogue, DataGovUkPublisher, S3Publication
from perfplat_assets.quality.resources import LIMITS, QualityThresholds
from perfplat_assets.queue.resources import SqsQueue
from perfplat_assets.store_schema import STORED_TABLES
from perfplat_assets.uptime.resources import Route53HealthCheck
from perfplat_assets.user_satisfaction.resources import SatisfactionMethods
from perfplat_assets.user_satisfaction.scoring import DEFAULT_METHOD_SCHEDULE, MethodSchedule


def _set(name: str) -> bool:
    return bool(os.environ.get(name, "").strip())


def _env(name: str, default: Any = None) -> Any:
    """The variable as an `EnvVar` when set (read at run time, never displayed), else the default."""
    return EnvVar(name) if _set(name) else default


def _given(**fields: str) -> dict[str, EnvVar]:
    """Resource fields whose variable is set, as `EnvVar`s; the others keep the resource's own default, so
    that a default is stated once, beside the field."""
    return {field: EnvVar(name) for field, name in fields.items() if _set(name)}


class SettingError(ValueError):
    """A setting that cannot work; the message names the variable and shows a valid example. Raised when
    the code location loads, before any source is asked for anything."""


def _number(
    name: str, default: float, kind: type[int] | type[float], low: float = 0, high: float | None = None
) -> Any:
    """A plain (non-secret) number within [low, high], read now so that a typo is reported at load."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    expected = "a whole number" if kind is int else "a number"
    span = f"from {low:g}" + (f" to {high:g}" if high is not None else "")
    try:
        value = kind(text)
    except ValueError:
        raise SettingError(f"{name} must be {expected}, not {text!r}: {span}, e.g. {default}") from None
    if not (low <= value and (high is None or value <= high)):  # NaN fails too
        raise SettingError(f"{name} must be {expected} {span}, not {text!r}: e.g. {default}")
    return value


TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")


def _flag(name: str) -> bool:
    """true/false, 1/0 or yes/no in any case; unset is false. Anything else is refused rather than read as
    false: `PERFPLAT_DRY_RUN=on` must not publish for real."""
    text = os.environ.get(name, "").strip().lower()
    if text in TRUE:
        return True
    if text in (*FALSE, ""):
        return False
    raise SettingError(
        f"{name} must be true or false (or 1/0, yes/no), not {os.environ[name]!r}: e.g. {name}=true"
    )


def _method_schedule() -> str:
    text = os.environ.get("PERFPLAT_SATISFACTION_METHODS", "").strip() or DEFAULT_METHOD_SCHEDULE
    try:
        MethodSchedule.parse(text)
    except ValueError as error:
        raise SettingError(
            f"PERFPLAT_SATISFACTION_METHODS: {error}. A valid schedule: {DEFAULT_METHOD_SCHEDULE}"
        ) from None
    return text


def _property_id() -> Any:
    """GA4's property id is digits (e.g. 123456789); checked now, handed over as an EnvVar."""
    text = os.environ.get("PERFPLAT_GA4_PROPERTY_ID", "").strip()
    if text and not text.isdigit():
        raise SettingError(
            f"PERFPLAT_GA4_PROPERTY_ID must be the numeric GA4 property id, e.g. 123456789, not {text!r} "
            "(GA4 admin, Property settings, Property ID)"
        )
    return _env("PERFPLAT_GA4_PROPERTY_ID")


def data_dir() -> str:
    return str(Path(os.environ.get("PERFPLAT_DATA_DIR") or DEFAULT_DATA_DIR).resolve())


def queue_configured() -> bool:
    return _set("PERFPLAT_SQS_QUEUE_URL") or _set("PERFPLAT_SQS_QUEUE_NAME")


def queue_sensor_interval() -> int:
    return _number("PERFPLAT_SQS_SENSOR_INTERVAL_SECONDS", 30, int, low=1, high=86_400)


# The 1st at 07:00 London time: the month file is in the bucket hours before OPG's automation reads it.
MONTHLY_CRON = "0 7 1 * *"


def monthly_cron() -> str:
    """When the `monthly` schedule runs (Europe/London), read now so that a typo fails the code location."""
    cron = os.environ.get("PERFPLAT_MONTHLY_CRON", "").strip() or MONTHLY_CRON
    if not is_valid_cron_string(cron):
        raise ValueError(
            f"PERFPLAT_MONTHLY_CRON must be a cron expression such as {MONTHLY_CRON!r}, not {cron!r}"
        )
    return cron


def build_resources() -> dict[str, Any]:
    """Every resource; the publisher is told which settings are unset by the source resources themselves,
    found by type, so that a new source cannot slip past its guard."""
    assert STORED_TABLES  # imported so that the store below creates every stored asset's table
    home = data_dir()
    metrics_store = MetricsStore(url=_env("PERFPLAT_METRICS_DB_URL"), data_dir=home)
    resources: dict[str, Any] = {
        # The sources in the order the publication guard names those serving the sample.
        "make_an_lpa_db": _make_an_lpa_database(home),
        "satisfaction_methods": SatisfactionMethods(schedule=_method_schedule()),
        "google_analytics": _google_analytics(),
        "sirius_db": _sirius_database(home),
        "takeup_figures_file": TakeUpFiguresFile(path=_env("PERFPLAT_TAKEUP_FIGURES_FILE")),
        "route53_health_check": _route53_health_check(),
        "quality_thresholds": QualityThresholds(
            completion_rate_max_gap_points=_number(
                "PERFPLAT_CHECK_COMPLETION_RATE_MAX_GAP",
                LIMITS.completion_rate_max_gap_points,
                float,
                high=100,
            ),
            unknown_ratings_max_percent=_number(
                "PERFPLAT_CHECK_UNKNOWN_RATINGS_MAX_PERCENT",
                LIMITS.unknown_ratings_max_percent,
                float,
                high=100,
            ),
            minimum_responses=_number("PERFPLAT_CHECK_MINIMUM_RESPONSES", LIMITS.minimum_responses, int),
        ),
        "sqs_queue": SqsQueue(
            queue_url=_env("PERFPLAT_SQS_QUEUE_URL"),
            queue_name=_env("PERFPLAT_SQS_QUEUE_NAME"),
            dead_letter_queue_url=_env("PERFPLAT_SQS_DLQ_URL"),
            region_name=_env("AWS_REGION"),
            endpoint_url=_env("AWS_ENDPOINT_URL_SQS"),
        ),
        "metrics_store": metrics_store,
        "metrics_store_io_manager": MetricsStoreIOManager(store=metrics_store),
    }
    publish_dir = _env("PERFPLAT_PUBLISH_DIR", str(Path(home) / "publish"))
    resources["run_start"] = RunStart(publish_dir=publish_dir)
    resources["publisher"] = _publisher(publish_dir, sample_settings(resources.values()), metrics_store)
    return resources


# Each source: its production class when its setting is set, else the embedded default's class, which
# serves the sample and says so to the publication guard.


def _make_an_lpa_database(home: str) -> MakeAnLpaDatabase:
    if not _set("PERFPLAT_LPA_DB_URL"):
        return EmbeddedMakeAnLpaDatabase(data_dir=home)
    return MakeAnLpaDatabase(url=EnvVar("PERFPLAT_LPA_DB_URL"))


def _google_analytics() -> GoogleAnalytics:
    property_id, api_endpoint = _property_id(), _env("PERFPLAT_GA4_API_ENDPOINT")
    if property_id is None and api_endpoint is None:
        return EmbeddedGoogleAnalytics()
    return GoogleAnalytics(property_id=property_id, api_endpoint=api_endpoint)


def _sirius_database(home: str) -> SiriusDatabase:
    contract = _given(
        cases_table="PERFPLAT_SIRIUS_CASES_TABLE",
        case_type_column="PERFPLAT_SIRIUS_CASE_TYPE_COLUMN",
        receipt_date_column="PERFPLAT_SIRIUS_RECEIPT_DATE_COLUMN",
        online_id_column="PERFPLAT_SIRIUS_ONLINE_ID_COLUMN",
        lpa_case_type="PERFPLAT_SIRIUS_LPA_CASE_TYPE",
    )
    if not _set("PERFPLAT_SIRIUS_DB_URL"):
        return EmbeddedSiriusDatabase(data_dir=home, **contract)
    return SiriusDatabase(url=EnvVar("PERFPLAT_SIRIUS_DB_URL"), **contract)


def _route53_health_check() -> Route53HealthCheck:
    if not _set("PERFPLAT_UPTIME_HEALTH_CHECK_ID"):
        return EmbeddedRoute53HealthCheck()
    return Route53HealthCheck(
        health_check_id=EnvVar("PERFPLAT_UPTIME_HEALTH_CHECK_ID"),
        endpoint_url=_env("AWS_ENDPOINT_URL_CLOUDWATCH"),
        **_given(region="PERFPLAT_UPTIME_REGION"),
    )


def _publisher(
    publish_dir: Any, sample_sources: list[str], metrics_store: MetricsStore
) -> DataGovUkPublisher:
    return DataGovUkPublisher(
        directory=PublicationDirectory(path=publish_dir, store=metrics_store),
        s3=S3Publication(
            s3=S3Resource(region_name=_env("AWS_REGION"), endpoint_url=_env("AWS_ENDPOINT_URL_S3")),
            bucket=_env("PERFPLAT_S3_BUCKET"),
            **_given(prefix="PERFPLAT_S3_PREFIX"),
        ),
        ckan=CkanCatalogue(
            url=_env("PERFPLAT_CKAN_URL"),
            api_token=_env("PERFPLAT_CKAN_API_TOKEN"),
            **_given(dataset="PERFPLAT_CKAN_DATASET"),
        ),
        public_base_url=_env("PERFPLAT_PUBLIC_BASE_URL"),
        sample_sources=sample_sources,
        allow_sample_data=_flag("PERFPLAT_ALLOW_SAMPLE_DATA"),
        dry_run=_flag("PERFPLAT_DRY_RUN"),
    )
