"""A month's uptime from the health check's hourly averages, and CloudWatch's answer checked before any of it
is used. Pure: no I/O.

Route 53 records `HealthCheckStatus` (1 healthy, 0 unhealthy) for every check; CloudWatch's hourly average
is the share of the hour's checks that passed. The month's uptime is the mean of its hours, as a percentage
rounded half-up to two decimals. A month whose hours are not covered well enough is left out, never
published as 100; so is a month CloudWatch answered wrongly, with why.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from perfplat_assets.common.answers import Answer, AnswerCheck, is_share, shown
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


def _hour(moment: datetime) -> datetime:
    """The start of the moment's hour, in UTC (a moment without a zone is UTC, as CloudWatch's are)."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.replace(minute=0, second=0, microsecond=0)


def _at(hour: datetime) -> str:
    return f"{hour:%Y-%m-%d %H:%M} UTC"


def hourly_answer(
    points: Iterable[tuple[datetime, object]], months: Sequence[Month]
) -> Answer[dict[datetime, float]]:
    """CloudWatch's hourly averages (each hour's timestamp and value) for `months`, checked: each value a
    number from 0 to 1 (an average of 1s and 0s), each hour once, and only hours inside the months asked for
    (others are ignored and reported). A month breaking either rule is wrong, said once however many of its
    hours do; every month asked for has its hours, none when CloudWatch had no data."""
    check = AnswerCheck(months)
    hourly: dict[Month, dict[datetime, float]] = {month: {} for month in months}
    outside: list[datetime] = []
    bad: dict[Month, list[tuple[datetime, object]]] = defaultdict(list)
    twice: dict[Month, set[datetime]] = defaultdict(set)
    read: set[datetime] = set()
    ordered = sorted(months)
    starts, ends = [month.start for month in ordered], [month.end for month in ordered]
    for moment, value in points:
        hour = _hour(moment)
        at = bisect_right(starts, hour) - 1  # the month it falls in, if any: in its window, London's
        month = ordered[at] if at >= 0 and hour < ends[at] else None
        if month is None:
            outside.append(hour)
            continue
        if hour in read:
            twice[month].add(hour)
            continue
        read.add(hour)
        if is_share(value):
            hourly[month][hour] = float(value)  # type: ignore[arg-type]
        else:
            bad[month].append((hour, value))
    for month, values in bad.items():
        (hour, value), count = values[0], len(values)
        said = f"the average {shown(value)} for {_at(hour)}"
        if count > 1:
            said = f"{count} hourly averages outside 0 to 1 (the first {shown(value)}, for {_at(hour)})"
        check.fault(month, f"has {said}, and an hour's average must be a number from 0 to 1")
    for month, hours in twice.items():
        more = f" and {len(hours) - 1} other hours" if len(hours) > 1 else ""
        check.fault(month, f"has {_at(min(hours))}{more} more than once, and each hour must come once")
    if outside:
        check.ignore(
            f"answered {len(outside)} hours outside the months asked for (the first {_at(min(outside))})"
        )
    return check.answer(hourly)


def wrong_uptime(month: Month, reason: str) -> Uptime:
    """A month CloudWatch answered wrongly: no uptime, never 100, with why."""
    return Uptime(month, hours_in(month), 0, None, reason)
