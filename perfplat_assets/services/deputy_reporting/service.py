"""Complete the deputy report, declared once: OPG has published its satisfaction since April 2023, from
the digideps service's `satisfaction` table."""

from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service, Uses

DEPUTY_REPORTING = Service(
    name="deputy_reporting",
    service="deputy-reporting",
    title="Complete the deputy report",
    short_title="Complete the deputy report",
    stem="complete_the_deputy_report",
    first_month=Month.of(2023, 4),
    measures=(Uses("user_satisfaction", source="deputy_reporting_database"),),
    ckan_dataset="complete-the-deputy-report-service-performance",
)
