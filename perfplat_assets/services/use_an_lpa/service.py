"""Use a lasting power of attorney, declared once: OPG has published its satisfaction since March 2021,
from the ratings on GOV.UK's done page (`/done/use-lasting-power-of-attorney`)."""

from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service
from perfplat_assets.user_satisfaction.calculation import DEFAULT_METHOD_SCHEDULE

USE_AN_LPA = Service(
    name="use_an_lpa",
    service="use-an-lpa",
    title="Use a lasting power of attorney",
    short_title="Use an LPA",
    stem="use_a_lasting_power_of_attorney",
    first_month=Month.of(2021, 3),
    measures=("user_satisfaction",),
    ckan_dataset="use-a-lasting-power-of-attorney-service-performance",
    default_methods=DEFAULT_METHOD_SCHEDULE,
)
