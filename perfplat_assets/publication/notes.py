"""The notes published beside the data: how each figure is made, so a reader sees methods change."""

from __future__ import annotations

from collections.abc import Mapping
from itertools import pairwise

from perfplat_assets.common.months import Month

SATISFACTION_NOTE = "From the feedback form at the end of a session, rounded to a whole number."

METHOD_DESCRIPTIONS = {
    "weighted-gds": "weighted GDS score: (0 x very dissatisfied + 25 x dissatisfied + 50 x neither "
    "+ 75 x satisfied + 100 x very satisfied) / responses",
    "top-two-box": "top-two-box share: 100 x (satisfied + very satisfied) / responses",
}


COMPLETION_RATE_NOTE = (
    "Sessions that reached the 'who is applying' page (the LPA is created) per 100 sessions that reached a "
    "page starting a new LPA, from Google Analytics 4, one decimal place. GA4 counts sessions, not journeys, "
    "so users who return to finish an LPA can push the ratio up; a month over 100 is withheld"
)
UPTIME_NOTE = (
    "The share of the month in which the service's Route 53 health check (HTTPS, every 30 seconds from three "
    "regions) found it healthy, from CloudWatch's hourly averages, two decimal places. A month without "
    "health-check data for most of its hours is left out"
)
DIGITAL_TAKE_UP_NOTE = (
    "LPA applications made from a form produced by Make an LPA, as a percentage of all LPA applications "
    "received in the month, from OPG's case-management system, one decimal place. Often revised one to three "
    "months later"
)


def methods_heading(methods: Mapping[Month, str]) -> str:
    """What introduces the list of methods: a warning when they changed."""
    if method_changes(methods):
        return "The method changed, so figures either side of a change are not directly comparable:"
    return "The method used:"


def method_periods(methods: Mapping[Month, str]) -> list[tuple[Month, Month, str]]:
    """Runs of consecutive published months that used the same satisfaction method."""
    periods: list[tuple[Month, Month, str]] = []
    for month in sorted(methods):
        method = methods[month]
        if periods and periods[-1][2] == method and periods[-1][1].next() == month:
            periods[-1] = (periods[-1][0], month, method)
        else:
            periods.append((month, month, method))
    return periods


def method_name(method: str) -> str:
    """How a sentence names a method: "weighted GDS score" (its description up to the formula)."""
    return METHOD_DESCRIPTIONS.get(method, method).partition(":")[0]


def method_changes(methods: Mapping[Month, str]) -> list[tuple[Month, str, str]]:
    """(month, method before, method from then) for each month whose method differs from the one of the
    latest earlier month that has one: a gap between months of one method is no change."""
    ordered = sorted(methods.items())
    return [(month, before, method) for (_, before), (month, method) in pairwise(ordered) if method != before]


def notes_markdown(methods: Mapping[Month, str]) -> str:
    lines = [
        "# Make an LPA: monthly service performance data",
        "",
        "Published by the Office of the Public Guardian. One record per month and dataType in `data.json`;",
        "one row per month in `data.csv`. A measure without data for a month is left out, never shown as 0.",
        "",
        "## User satisfaction (`user-satisfaction-percent`)",
        "",
        f"{SATISFACTION_NOTE} {methods_heading(methods)}",
        "",
    ]
    for first, last, method in method_periods(methods):
        span = str(first) if first == last else f"{first} to {last}"
        lines.append(f"- {span}: {METHOD_DESCRIPTIONS.get(method, method)}")
    lines += [
        "",
        "## Completion rate (`completion-rate`)",
        "",
        COMPLETION_RATE_NOTE + ".",
        "",
        "## Digital take-up (`digital-take-up`)",
        "",
        DIGITAL_TAKE_UP_NOTE + "; every change to a published value is listed in `revisions.csv`.",
        "",
        "## Uptime (`uptime-percent`)",
        "",
        UPTIME_NOTE + ".",
        "",
    ]
    return "\n".join(lines)
