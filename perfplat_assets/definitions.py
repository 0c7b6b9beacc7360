"""The perfplat code location. Importing it reads the environment and nothing else: no connections."""

from dagster import Definitions

from perfplat_assets.completion_rate.assets import completion_rate
from perfplat_assets.configuration import (
    build_resources,
    monthly_cron,
    queue_configured,
    queue_sensor_interval,
)
from perfplat_assets.digital_take_up.assets import digital_take_up
from perfplat_assets.publication.assets import data_gov_uk_publication, performance_dataset
from perfplat_assets.publication.jobs import import_published_series
from perfplat_assets.queue.sensor import build_queue_sensor
from perfplat_assets.schedules.definitions import build_schedules
from perfplat_assets.uptime.assets import uptime
from perfplat_assets.user_satisfaction.assets import user_satisfaction

assets = [
    user_satisfaction,
    digital_take_up,
    completion_rate,
    uptime,
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
