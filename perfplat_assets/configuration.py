"""Every resource perfplat runs with, from the environment: the README's configuration table mirrors this
module and each registered measure's `sources` module, which reads its own sources' settings.

Values that may hold secrets are passed as `EnvVar`s, so Dagster reads them at run time and never shows or
stores them; a variable that is unset selects the embedded default for its source.
"""

from __future__ import annotations

import os
from importlib import import_module
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from dagster._utils.schedules import is_valid_cron_string
from dagster_aws.s3 import S3Resource

from perfplat_assets.common.run_start import RunStart
from perfplat_assets.common.settings import SettingError, Settings, env, flag, given, is_set, number
from perfplat_assets.common.sources import sample_settings
from perfplat_assets.common.sql_source import DEFAULT_DATA_DIR
from perfplat_assets.embedded.resources import STAND_INS
from perfplat_assets.measures import measures
from perfplat_assets.metrics_store.io_manager import MetricsStoreIOManager
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.publication.directory import PublicationDirectory
from perfplat_assets.publication.resources import CkanCatalogue, DataGovUkPublisher, S3Publication
from perfplat_assets.queue.resources import SqsQueue
from perfplat_assets.store_schema import STORED_TABLES

__all__ = ["SettingError", "build_resources", "monthly_cron", "queue_configured", "queue_sensor_interval"]


def data_dir() -> str:
    return str(Path(os.environ.get("PERFPLAT_DATA_DIR") or DEFAULT_DATA_DIR).resolve())


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
        raise ValueError(
            f"PERFPLAT_MONTHLY_CRON must be a cron expression such as {MONTHLY_CRON!r}, not {cron!r}"
        )
    return cron


def build_resources() -> dict[str, Any]:
    """Every resource; the publisher is told which settings are unset by the source resources themselves,
    found by type, so that a new source cannot slip past its guard."""
    assert STORED_TABLES  # imported so that the store below creates every stored asset's table
    home = data_dir()
    metrics_store = MetricsStore(url=env("PERFPLAT_METRICS_DB_URL"), data_dir=home)
    # The sources in the order the publication guard names those serving the sample: the measures'.
    resources: dict[str, Any] = measure_sources(Settings(data_dir=home, samples=STAND_INS))
    resources |= {
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
    resources["run_start"] = RunStart(publish_dir=publish_dir)
    resources["publisher"] = _publisher(publish_dir, sample_settings(resources.values()), metrics_store)
    return resources


def measure_sources(settings: Settings) -> dict[str, Any]:
    """Every registered measure's source resources, from its `<home>.sources` module (a measure without one
    reads no source); a source two measures read (the service's database) is built once."""
    found: dict[str, Any] = {}
    for measure in measures():
        module = f"{measure.home}.sources"
        if find_spec(module) is None:
            continue
        for key, resource in import_module(module).sources(settings).items():
            found.setdefault(key, resource)
    return found


def _publisher(
    publish_dir: Any, sample_sources: list[str], metrics_store: MetricsStore
) -> DataGovUkPublisher:
    return DataGovUkPublisher(
        directory=PublicationDirectory(path=publish_dir, store=metrics_store),
        s3=S3Publication(
            s3=S3Resource(region_name=env("AWS_REGION"), endpoint_url=env("AWS_ENDPOINT_URL_S3")),
            bucket=env("PERFPLAT_S3_BUCKET"),
            **given(prefix="PERFPLAT_S3_PREFIX"),
        ),
        ckan=CkanCatalogue(
            url=env("PERFPLAT_CKAN_URL"),
            api_token=env("PERFPLAT_CKAN_API_TOKEN"),
            **given(dataset="PERFPLAT_CKAN_DATASET"),
        ),
        public_base_url=env("PERFPLAT_PUBLIC_BASE_URL"),
        sample_sources=sample_sources,
        allow_sample_data=flag("PERFPLAT_ALLOW_SAMPLE_DATA"),
        dry_run=flag("PERFPLAT_DRY_RUN"),
    )
