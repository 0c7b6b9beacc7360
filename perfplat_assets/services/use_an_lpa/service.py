"""Use a lasting power of attorney, declared once: OPG has published its satisfaction since March 2021,
from the ratings on GOV.UK's done page (`/done/use-lasting-power-of-attorney`)."""

from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service, Uses

USE_AN_LPA = Service(
    name="use_an_lpa",
    service="use-an-lpa",
    title="Use a lasting power of attorney",
    short_title="Use an LPA",
    stem="use_a_lasting_power_of_attorney",
    first_month=Month.of(2021, 3),
    measures=(Uses("user_satisfaction", source="feedback_exports"),),
    ckan_dataset="use-a-lasting-power-of-attorney-service-performance",
    note="User satisfaction counts the ratings given on GOV.UK's done page of the service "
    "(/done/use-lasting-power-of-attorney), from GOV.UK's Feedback Explorer exports. GOV.UK keeps and "
    "totals its ratings by day in UTC, so a month here is the UTC days of its dates, an hour apart from "
    "London's in summer. An export leaves out a response whose comment GOV.UK suspects of holding personal "
    "data until its day has been totalled",
)
