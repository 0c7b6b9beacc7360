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
    note="User satisfaction counts the responses to the question asked on submitting a report, as the "
    "digideps service stores them, over London calendar months (from 00:00 on the 1st to 00:00 on the next "
    "1st). From April 2026 the figures published before perfplat published this series were counted from "
    "the time of day digideps' monthly task ran on the 1st (about 10:00 UTC) to the same time a month later, "
    "so a figure recounted by perfplat may differ from the one published by the responses of those hours; "
    "and digideps no longer records which responses were given on a new deputy report (its ndr_id, removed "
    "in April 2026), so a recount of an earlier month leaves those out",
)
