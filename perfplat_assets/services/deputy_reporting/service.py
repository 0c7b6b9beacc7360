"""Complete the deputy report, declared once: OPG has published its satisfaction since April 2023, from
the digideps service's `satisfaction` table."""

from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service
from perfplat_assets.user_satisfaction.calculation import DEFAULT_METHOD_SCHEDULE

DEPUTY_REPORTING = Service(
    name="deputy_reporting",
    service="deputy-reporting",
    title="Complete the deputy report",
    short_title="Complete the deputy report",
    stem="complete_the_deputy_report",
    first_month=Month.of(2023, 4),
    measures=("user_satisfaction",),
    ckan_dataset="complete-the-deputy-report-service-performance",
    default_methods=DEFAULT_METHOD_SCHEDULE,
)
