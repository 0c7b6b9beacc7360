"""Uptime's checks: each rule, and the check that holds it. Pure: no Dagster."""

from __future__ import annotations

from collections.abc import Sequence

from perfplat_assets.quality.rules import Check, Finding, Limits, outside_0_100
from perfplat_assets.uptime.calculation import Uptime


def uptime_within_range(uptime: Sequence[Uptime], _: Limits) -> list[Finding]:
    return [
        Finding(
            month.month, f"uptime {month.uptime_percent}% is outside 0..100", {"uptime": month.uptime_percent}
        )
        for month in uptime
        if outside_0_100(month.uptime_percent)
    ]


def uptime_has_enough_data(uptime: Sequence[Uptime], _: Limits) -> list[Finding]:
    return [
        Finding(
            month.month,
            month.not_available_reason or "no health-check data",
            {"hours_with_data": month.hours_with_data, "hours_in_month": month.hours_in_month},
        )
        for month in uptime
        if month.uptime_percent is None
    ]


CHECKS: tuple[Check[Uptime], ...] = (
    Check(uptime_within_range, "Uptime is within 0..100.", blocks_publication=True),
    Check(
        uptime_has_enough_data,
        "The health check has data for enough of the month's hours. With too few there is no uptime figure, "
        "so the month is published without one (never as 0); this check says so.",
    ),
)
