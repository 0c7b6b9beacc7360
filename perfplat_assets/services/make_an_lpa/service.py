"""Make a lasting power of attorney, declared once."""

from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service, Uses

MAKE_AN_LPA = Service(
    name="make_an_lpa",
    service="make-a-lpa",
    title="Make a lasting power of attorney",
    short_title="Make an LPA",
    stem="make_a_lasting_power_of_attorney",
    first_month=Month.of(2021, 3),
    measures=(
        Uses("user_satisfaction", source="make_an_lpa_database"),
        Uses("digital_take_up"),
        Uses("completion_rate"),
        Uses("uptime"),
    ),
    ckan_dataset="make-a-lasting-power-of-attorney-service-performance",
    inherits_single_service_layout=True,
)
