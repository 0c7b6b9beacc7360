"""Each quality rule as a plain function from the run's months of one asset to the findings that break it,
and each check as its rule with what it is for. No Dagster.

A finding names the month, says what is wrong in a sentence a product manager can act on, and carries the
offending values. A `Check` is named by its rule, so a check without a rule cannot be declared.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from perfplat_assets.common.months import Month, last_closed_month
from perfplat_assets.publication.records import (
    BOUNDS,
    CHANNEL,
    DATA_TYPES,
    PERIOD,
    SATISFACTION_PERCENT,
    SERVICE,
    DatasetValue,
    record,
)
from perfplat_assets.user_satisfaction.scoring import METHODS, Rating, RatingCounts

if TYPE_CHECKING:  # the figures each rule reads
    from perfplat_assets.completion_rate.rate import CompletionRate
    from perfplat_assets.digital_take_up.take_up import DigitalTakeUp
    from perfplat_assets.uptime.availability import Uptime
    from perfplat_assets.user_satisfaction.scoring import UserSatisfaction

Figures = TypeVar("Figures")


@dataclass(frozen=True)
class Finding:
    month: Month | None  # None: a published record whose month cannot be read
    message: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    """The judgement calls the warning checks use (the `QualityThresholds` resource), and the month that
    closed last, which no published record may be after."""

    completion_rate_max_gap_points: float = 10.0
    unknown_ratings_max_percent: float = 2.0
    minimum_responses: int = 100
    last_closed: Month | None = None


Rule = Callable[[Sequence[Figures], Limits], list[Finding]]


@dataclass(frozen=True)
class Check(Generic[Figures]):
    """A quality check: its rule, what it makes sure of, and whether failing it withholds the month."""

    rule: Rule[Figures]
    description: str
    blocks_publication: bool = False

    @property
    def name(self) -> str:
        return self.rule.__name__

    def findings(self, figures: Sequence[Figures], limits: Limits) -> list[Finding]:
        return self.rule(figures, limits)


def _outside_0_100(value: float | None) -> bool:
    return value is not None and not (0 <= value <= 100)


# completion_rate


def completion_rate_within_range(rates: Sequence[CompletionRate], _: Limits) -> list[Finding]:
    return [
        Finding(
            r.month,
            f"completion rate {r.month} is {r.completion_rate_percent}%, outside 0..100 "
            f"({r.sessions_completed} sessions reached the applicant page, {r.sessions_started} "
            "a start page): the session count over-counts returning users; the figure is not publishable",
            {
                "completion_rate_percent": r.completion_rate_percent,
                "sessions_started": r.sessions_started,
                "sessions_completed": r.sessions_completed,
            },
        )
        for r in rates
        if _outside_0_100(r.completion_rate_percent)
    ]


def completion_rate_available(rates: Sequence[CompletionRate], _: Limits) -> list[Finding]:
    return [
        Finding(
            r.month,
            f"completion rate {r.month} is not available "
            f"({r.not_available_reason or 'no sessions reached a start page'}); "
            "it is left out of the publication, never published as 0",
            {"sessions_started": r.sessions_started, "sessions_completed": r.sessions_completed},
        )
        for r in rates
        if r.completion_rate_percent is None
    ]


def ga4_response_exact(rates: Sequence[CompletionRate], _: Limits) -> list[Finding]:
    """GA4's own flags; `data_truncated` (GA4's data_truncation_reasons) is named, with the reasons, when
    raised."""
    findings = []
    for r in rates:
        flags = {
            "subject_to_thresholding": r.flags.subject_to_thresholding,
            "sampled": r.flags.sampled,
            "data_loss_from_other_row": r.flags.data_loss_from_other_row,
        }
        raised = [flag for flag, up in flags.items() if up]
        values: dict[str, Any] = dict(flags)
        if r.flags.data_truncated:
            reasons = "; ".join(r.flags.data_truncation_reasons)
            raised.append(f"data_truncated ({reasons})")
            values |= {"data_truncated": True, "data_truncation_reasons": reasons}
        if raised:
            findings.append(
                Finding(
                    r.month,
                    f"GA4 flagged its response for this run's months ({r.month} among them) as not "
                    f"exact: {', '.join(raised)}",
                    values,
                )
            )
    return findings


def completion_rate_agrees_with_applications(
    rates: Sequence[CompletionRate], limits: Limits
) -> list[Finding]:
    """GA4's rate against the Make an LPA database's LPAs created per 100 started, stored beside it."""
    findings = []
    max_gap_points = limits.completion_rate_max_gap_points
    for r in rates:
        if r.applications is None:
            findings.append(
                Finding(r.month, f"completion rate {r.month} cannot be cross-checked: no applications table")
            )
            continue
        rate, database_rate = r.completion_rate_percent, r.applications.completion_rate_percent
        if rate is None or database_rate is None:
            continue
        gap = round(abs(rate - database_rate), 1)
        if gap > max_gap_points:
            started, created = r.applications.started, r.applications.created
            findings.append(
                Finding(
                    r.month,
                    f"completion rate {r.month}: GA4 says {rate}%, the Make an LPA database "
                    f"{database_rate}% ({created} LPAs created / {started} started), {gap} points apart "
                    f"(more than {max_gap_points})",
                    {
                        "ga4_completion_rate": rate,
                        "database_completion_rate": database_rate,
                        "lpas_started": started,
                        "lpas_created": created,
                        "gap_points": gap,
                    },
                )
            )
    return findings


# user_satisfaction


def rating_counts_add_up(satisfaction: Sequence[UserSatisfaction], _: Limits) -> list[Finding]:
    findings = []
    for month in satisfaction:
        counts = month.counts
        if counts.total != counts.database_total:
            findings.append(
                Finding(
                    month.month,
                    f"user satisfaction {month.month}: the five rating counts add up to {counts.total}, "
                    f"but the database counts {counts.database_total} rated responses",
                    {
                        **{rating.column: counts.count(rating) for rating in Rating},
                        "total_responses": counts.database_total,
                    },
                )
            )
    return findings


def unknown_ratings_within_share(satisfaction: Sequence[UserSatisfaction], limits: Limits) -> list[Finding]:
    findings = []
    max_share_percent = limits.unknown_ratings_max_percent
    for month in satisfaction:
        unknown = month.counts.unknown
        responses = month.counts.database_total + unknown
        share = 100 * unknown / responses if responses else 0.0
        if share > max_share_percent:
            findings.append(
                Finding(
                    month.month,
                    f"user satisfaction {month.month}: {unknown} of {responses} responses "
                    f"({share:.1f}%) have a rating that is none of the five "
                    f"(more than {max_share_percent}%): has the feedback form changed?",
                    {"unknown_ratings": unknown, "responses": responses, "share": round(share, 2)},
                )
            )
    return findings


def enough_responses(satisfaction: Sequence[UserSatisfaction], limits: Limits) -> list[Finding]:
    minimum = limits.minimum_responses
    return [
        Finding(
            month.month,
            f"user satisfaction {month.month} rests on {month.counts.database_total} responses, fewer than "
            f"{minimum}: the percentage is not a reliable statistic",
            {"total_responses": month.counts.database_total, "minimum": minimum},
        )
        for month in satisfaction
        if month.counts.database_total < minimum
    ]


# digital_take_up


def digital_within_total(take_up: Sequence[DigitalTakeUp], _: Limits) -> list[Finding]:
    findings = []
    for r in take_up:
        digital, total, percent = r.digital_applications, r.total_applications, r.take_up_percent
        if digital is not None and total is not None and digital > total:
            message = f"more digital applications ({digital}) than applications in all ({total})"
        elif _outside_0_100(percent):
            message = f"take-up of {percent}% is outside 0..100"
        else:
            continue
        findings.append(
            Finding(
                r.month,
                f"digital take-up {r.month} ({r.source}): {message}",
                {"digital_applications": digital, "total_applications": total, "take_up_percent": percent},
            )
        )
    return findings


# uptime


def uptime_within_range(uptime: Sequence[Uptime], _: Limits) -> list[Finding]:
    return [
        Finding(
            month.month, f"uptime {month.uptime_percent}% is outside 0..100", {"uptime": month.uptime_percent}
        )
        for month in uptime
        if _outside_0_100(month.uptime_percent)
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


# performance_dataset

RECORD_FIELDS = ("_timestamp", "service", "channel", "count", "dataType", "period")
DATA_TYPE_PATTERN = re.compile(r"[a-z]+(-[a-z]+)*")


def records_in_published_format(dataset: Sequence[DatasetValue], limits: Limits) -> list[Finding]:
    """The dataset's values as the records they are published as, in OPG's format and within their
    dataType's bounds. The count is the value as computed, before it is written as a whole number, so that
    a fraction where a whole number belongs is caught rather than cut off."""
    records = [
        record(value.month, value.data_type, 0)
        | {"count": value.count if isinstance(value.count, int) else float(value.count)}
        for value in dataset
    ]
    return published_format_findings(records, limits.last_closed or last_closed_month())


# the published records


def record_problems(item: Mapping[str, Any], last_closed: Month) -> list[str]:
    """Why a record is not in OPG's published format; empty when it is."""
    problems = []
    if list(item) != list(RECORD_FIELDS):
        problems.append(f"fields are {sorted(item)}, expected exactly {list(RECORD_FIELDS)}")
    count = item.get("count")
    number = not isinstance(count, bool) and isinstance(count, int | float) and math.isfinite(count)
    if not number:
        problems.append(f"count {count!r} is not a number")
    data_type = item.get("dataType")
    if not isinstance(data_type, str) or not DATA_TYPE_PATTERN.fullmatch(data_type):
        problems.append(f"dataType {data_type!r} is not letters and dashes")
    elif data_type not in DATA_TYPES:
        problems.append(f"dataType {data_type!r} is not one perfplat publishes")
    elif number and (outside := BOUNDS[data_type].problem(count)):
        problems.append(outside)
    timestamp = item.get("_timestamp")
    if not isinstance(timestamp, str) or not re.fullmatch(r"\d{4}-\d{2}-01T00:00:00\+00:00", timestamp):
        problems.append(f"_timestamp {timestamp!r} is not the first of a month at T00:00:00+00:00")
    elif Month.from_timestamp(timestamp) > last_closed:
        problems.append(f"_timestamp {timestamp} is a month that has not closed")
    for name, expected in (("service", SERVICE), ("channel", CHANNEL), ("period", PERIOD)):
        if item.get(name) != expected:
            problems.append(f"{name} is {item.get(name)!r}, not {expected!r}")
    return problems


# OPG rounded the satisfaction percentage by hand: a published percentage may be this far from its counts'.
SATISFACTION_TOLERANCE_POINTS = 1


def satisfaction_inconsistencies(
    values: Mapping[tuple[Month, str], float], method_for: Callable[[Month], str | None]
) -> list[tuple[Month, str]]:
    """Months whose satisfaction percentage is more than a point from what its five published counts give
    under the month's method, with why. A month without all five counts, or whose method is not known
    (`method_for` gives None), cannot be checked and is not named."""
    found = []
    for month in sorted({month for month, data_type in values if data_type == SATISFACTION_PERCENT}):
        pairs = [(month, SATISFACTION_PERCENT), *((month, rating.data_type) for rating in Rating)]
        if not all(pair in values and math.isfinite(values[pair]) for pair in pairs):
            continue
        method = method_for(month)
        counts = RatingCounts(**{rating.column: int(values[(month, rating.data_type)]) for rating in Rating})
        if method is None or counts.total == 0:
            continue
        score, percent = METHODS[method](counts), values[(month, SATISFACTION_PERCENT)]
        gap = abs(Fraction(percent) - score)
        if gap > SATISFACTION_TOLERANCE_POINTS:
            found.append(
                (
                    month,
                    f"{SATISFACTION_PERCENT} {percent:g} is {float(gap):.2f} points from {float(score):.2f}, "
                    f"the {method} score of {month}'s five rating counts: more than the "
                    f"{SATISFACTION_TOLERANCE_POINTS} point its rounding allows",
                )
            )
    return found


def implausible_months(
    values: Mapping[tuple[Month, str], float], method_for: Callable[[Month], str | None]
) -> dict[Month, list[str]]:
    """Months holding a value outside its dataType's bounds, or a satisfaction percentage its counts do not
    give, with each value at fault and the bound it breaks."""
    found: dict[Month, list[str]] = {}
    for (month, data_type), value in sorted(values.items()):
        bounds = BOUNDS.get(data_type)
        problem = (
            (f"count {value!r} is not a number" if not math.isfinite(value) else bounds.problem(value))
            if bounds
            else None
        )
        if problem:
            found.setdefault(month, []).append(f"{data_type} {problem}")
    for month, problem in satisfaction_inconsistencies(values, method_for):
        found.setdefault(month, []).append(problem)
    return found


def _month_of(item: Mapping[str, Any]) -> Month | None:
    try:
        return Month.from_timestamp(item.get("_timestamp"))
    except ValueError:
        return None


def published_format_findings(records: Sequence[Mapping[str, Any]], last_closed: Month) -> list[Finding]:
    """Every record not in OPG's format, and every (_timestamp, dataType) published more than once."""
    findings = []
    for item in records:
        problems = record_problems(item, last_closed)
        if problems:
            month = _month_of(item)
            findings.append(
                Finding(
                    month,
                    f"record {item.get('dataType')!r} of {month or '?'}: {'; '.join(problems)}",
                    {"record": dict(item)},
                )
            )
    duplicates = Counter((r.get("_timestamp"), r.get("dataType")) for r in records)
    for (timestamp, data_type), times in duplicates.items():
        if times > 1:
            findings.append(
                Finding(
                    _month_of({"_timestamp": timestamp}),
                    f"{data_type!r} appears {times} times for {timestamp}",
                    {"_timestamp": timestamp, "dataType": data_type, "times": times},
                )
            )
    return findings
