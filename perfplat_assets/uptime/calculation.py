"""A month's uptime from the health check's hourly averages. Pure: no I/O.

Route 53 records `HealthCheckStatus` (1 healthy, 0 unhealthy) for every check; CloudWatch's hourly average
is the share of the hour's checks that passed. The month's uptime is the mean of its hours, as a percentage
rounded half-up to two decimals. A month whose hours are not covered well enough is left out, never
published as 100.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction

from perfplat_assets.common.months import Month
from perfplat_assets.common.rounding import round_half_up

# Hours of the month that must have data: below this the month is left out rather than guessed.
MINIMUM_COVERAGE = Fraction(95, 100)


@dataclass(frozen=True)
class Uptime:
    """A month of the `uptime` asset: what flows to the dataset and is kept in the metrics store."""

    month: Month
    hours_in_month: int
    hours_with_data: int
    uptime_percent: float | None
    not_available_reason: str | None
    blocked_by: str | None = None  # why a blocking check withholds the month from publication


def hours_in(month: Month) -> int:
    """743, 744 or 745: London months gain or lose an hour when the clocks change."""
    return int((month.end - month.start) / timedelta(hours=1))


def hour_starts(month: Month) -> list[datetime]:
    """The start of every hour of the month, in UTC."""
    return [month.start + timedelta(hours=hour) for hour in range(hours_in(month))]


def uptime(month: Month, hourly: Mapping[datetime, float], where: str) -> Uptime:
    """The month's uptime from `hourly` (start of hour, UTC, to that hour's average status)."""
    # Each average as the decimal CloudWatch sent, so that rounding half-up sees 99.995 as 99.995.
    values = [Fraction(str(value)) for moment, value in hourly.items() if month.start <= moment < month.end]
    total = hours_in(month)
    if len(values) < MINIMUM_COVERAGE * total:
        reason = (
            f"only {len(values)} of the month's {total} hours have health-check data in {where} (at least "
            f"{float(MINIMUM_COVERAGE):.0%} are needed), so uptime is left out rather than guessed"
        )
        return Uptime(month, total, len(values), None, reason)
    percent = round_half_up(Fraction(100) * sum(values) / len(values), 2)
    return Uptime(month, total, len(values), percent, None)
