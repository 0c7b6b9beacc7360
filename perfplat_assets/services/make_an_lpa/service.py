"""Make a lasting power of attorney, declared once."""

from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service
from perfplat_assets.user_satisfaction.calculation import DEFAULT_METHOD_SCHEDULE

MAKE_AN_LPA = Service(
    name="make_an_lpa",
    service="make-a-lpa",
    title="Make a lasting power of attorney",
    short_title="Make an LPA",
    stem="make_a_lasting_power_of_attorney",
    first_month=Month.of(2021, 3),
    measures=("user_satisfaction", "digital_take_up", "completion_rate", "uptime"),
    ckan_dataset="make-a-lasting-power-of-attorney-service-performance",
    default_methods=DEFAULT_METHOD_SCHEDULE,
    inherits_single_service_layout=True,
)
