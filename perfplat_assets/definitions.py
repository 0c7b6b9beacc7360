"""The perfplat code location. Importing it reads the environment and nothing else: no connections."""

from importlib import import_module

from dagster import AssetsDefinition, Definitions, in_process_executor

from perfplat_assets.alerts.sensors import build_alert_sensor
from perfplat_assets.configuration import (
    alert_interval,
    alert_on_success,
    alerts_configured,
    build_resources,
    monthly_cron,
    queue_configured,
    queue_sensor_interval,
)
from perfplat_assets.measures import measures
from perfplat_assets.publication.assets import data_gov_uk_publication, performance_dataset
from perfplat_assets.publication.freshness import build_deadline_sensor
from perfplat_assets.publication.history.jobs import import_published_series
from perfplat_assets.queue.sensor import build_queue_sensor
from perfplat_assets.schedules.definitions import PUBLISHING_SCHEDULES, build_schedules


def measure_asset(name: str, home: str) -> AssetsDefinition:
    """A registered measure's asset: `<home>.assets.<name>`, where its folder declares it."""
    found = getattr(import_module(f"{home}.assets"), name, None)
    if not isinstance(found, AssetsDefinition):
        raise TypeError(f"the measure {name} is registered, but {home}.assets has no asset named {name}")
    return found


assets = [
    *(measure_asset(measure.name, measure.home) for measure in measures()),
    performance_dataset,
    data_gov_uk_publication,
]

resources = build_resources()
schedules = build_schedules(assets, monthly_cron())
jobs = [import_published_series]
# With no alert channel configured there is no alert sensor (the README says so); the deadline is still
# checked and shown on data_gov_uk_publication.
alert_sensors = (
    [
        build_alert_sensor(
            [asset.key for asset in assets],
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
        build_queue_sensor(assets, running=queue_configured(), interval_seconds=queue_sensor_interval()),
        build_deadline_sensor(),
        *alert_sensors,
    ],
    resources=resources,
    # Every step in the run's own process: a month's steps are short waits on their sources, and a process
    # per step spent most of a run starting Python and importing Dagster and perfplat again (4 to 5 s a step,
    # two at a time). Pools and run-tag limits hold all the same (docs/PERFORMANCE.md, "A month's run").
    executor=in_process_executor,
)
