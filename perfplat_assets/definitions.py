"""The perfplat code location: a pipeline for each service this deployment publishes (PERFPLAT_SERVICES,
by default every registered one), side by side. Importing it reads the environment and nothing else: no
connections."""

from importlib import import_module

from dagster import AssetsDefinition, Definitions, in_process_executor

from perfplat_assets.alerts.sensors import build_alert_sensor
from perfplat_assets.common.service import Service
from perfplat_assets.configuration import (
    SERVICES,
    alert_interval,
    alert_on_success,
    alerts_configured,
    build_resources,
    monthly_cron,
    published_services,
    queue_configured,
    queue_sensor_interval,
)
from perfplat_assets.console import perfplat_console, say_failures_once
from perfplat_assets.measures import service_measures
from perfplat_assets.partitions import resource_key
from perfplat_assets.publication.assets import build_assets
from perfplat_assets.publication.freshness import build_deadline_sensor
from perfplat_assets.publication.history.jobs import build_import_job
from perfplat_assets.queue.sensor import build_queue_sensor
from perfplat_assets.schedules.definitions import PUBLISHING_SCHEDULES, build_schedules


def service_assets(service: Service) -> list[AssetsDefinition]:
    """The service's pipeline: each of its measures' assets (`<home>.assets.build_asset`, where the
    measure's folder declares it), its dataset and its publication."""
    measures = []
    for measure in service_measures(service):
        build = getattr(import_module(f"{measure.home}.assets"), "build_asset", None)
        if build is None:
            raise TypeError(
                f"the measure {measure.name} is registered, but {measure.home}.assets has no build_asset"
            )
        measures.append(build(service))
    return [*measures, *build_assets(service)]


say_failures_once()  # Dagster's console log: each failure perfplat knows once, in one line (console.py)
resources = build_resources()
services = published_services()
assets = [asset for service in services for asset in service_assets(service)]
schedules = build_schedules(services, monthly_cron())
jobs = [build_import_job(services, SERVICES)]
deadlines = {s.name: resources[resource_key(s, "publication_deadline")] for s in services}
# With no alert channel configured there is no alert sensor (the README says so); the deadline is still
# checked and shown on each service's data_gov_uk_publication.
alert_sensors = (
    [
        build_alert_sensor(
            services,
            [key for asset in assets for key in asset.keys],
            [*(schedule.job_name for schedule in schedules), *(job.name for job in jobs)],
            PUBLISHING_SCHEDULES,
            on_success=alert_on_success(),
            interval_seconds=alert_interval(),
        )
    ]
    if alerts_configured()
    else []
)

defs = Definitions(
    assets=assets,
    schedules=schedules,
    jobs=jobs,
    sensors=[
        build_queue_sensor(services, running=queue_configured(), interval_seconds=queue_sensor_interval()),
        build_deadline_sensor(deadlines, resources["metrics_store"]),
        *alert_sensors,
    ],
    resources=resources,
    # Every step in the run's own process: a month's steps are short waits on their sources, and a process
    # per step spent most of a run starting Python and importing Dagster and perfplat again (4 to 5 s a step,
    # two at a time). Pools and run-tag limits hold all the same (docs/PERFORMANCE.md, "A month's run").
    executor=in_process_executor,
    # Dagster's console log, with each failure perfplat knows said once, in one line (console.py).
    loggers={"console": perfplat_console},
)
