"""The perfplat code location. Importing it reads the environment and nothing else: no connections."""

from importlib import import_module

from dagster import AssetsDefinition, Definitions

from perfplat_assets.configuration import (
    build_resources,
    monthly_cron,
    queue_configured,
    queue_sensor_interval,
)
from perfplat_assets.measures import measures
from perfplat_assets.publication.assets import data_gov_uk_publication, performance_dataset
from perfplat_assets.publication.jobs import import_published_series
from perfplat_assets.queue.sensor import build_queue_sensor
from perfplat_assets.schedules.definitions import build_schedules


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

defs = Definitions(
    assets=assets,
    schedules=build_schedules(assets, monthly_cron()),
    jobs=[import_published_series],
    sensors=[
        build_queue_sensor(assets, running=queue_configured(), interval_seconds=queue_sensor_interval())
    ],
    resources=build_resources(),
)
