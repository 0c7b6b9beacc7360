"""Each quality rule as a plain function from a month's figures to the findings that break it. No Dagster.

A finding names the month, says what is wrong in a sentence a product manager can act on, and carries the
offending values.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from perfplat_assets.common.months import Month
from perfplat_assets.publication.records import CHANNEL, DATA_TYPES, PERIOD, SERVICE

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Finding:
    month: str
    message: str
    values: dict[str, Any] = field(default_factory=dict)


def _month(row: Row) -> str:
    return Month.parse(row["month"]).label


def _outside_0_100(value: float | None) -> bool:
    return value is not None and not (0 <= value <= 100)


# completion_rate


def completion_rate_within_range(rows: Iterable[Row]) -> list[Finding]:
    return [
        Finding(
            _month(r),
            f"completion rate {_month(r)} is {r['completion_rate_percent']}%, outside 0..100 "
            f"({r['sessions_completed']} sessions reached the applicant page, {r['sessions_started']} "
            "a start page): the session count over-counts returning users; the figure is not publishable",
            {k: r[k] for k in ("completion_rate_percent", "sessions_started", "sessions_completed")},
        )
        for r in rows
        if _outside_0_100(r["completion_rate_percent"])
    ]


def completion_rate_available(rows: Iterable[Row]) -> list[Finding]:
    return [
        Finding(
            _month(r),
            f"completion rate {_month(r)} is not available "
            f"({r.get('not_available_reason') or 'no sessions reached a start page'}); "
            "it is left out of the publication, never published as 0",
            {"sessions_started": r["sessions_started"], "sessions_completed": r["sessions_completed"]},
        )
        for r in rows
        if r["completion_rate_percent"] is None
    ]


GA4_FLAGS = ("subject_to_thresholding", "sampled", "data_loss_from_other_row")


def ga4_response_exact(rows: Iterable[Row]) -> list[Finding]:
    """GA4's own flags; `data_truncated` (GA4's data_truncation_reasons) is named, with the reasons, when
    raised (rows stored before it was recorded have it as None)."""
    findings = []
    for r in rows:
        raised = [flag for flag in GA4_FLAGS if r[flag]]
        values = {flag: bool(r[flag]) for flag in GA4_FLAGS}
        if r.get("data_truncated"):
            reasons = r.get("data_truncation_reasons") or "no reason given"
            raised.append(f"data_truncated ({reasons})")
            values |= {"data_truncated": True, "data_truncation_reasons": reasons}
        if raised:
            findings.append(
                Finding(
                    _month(r),
                    f"GA4 flagged its response for this run's months ({_month(r)} among them) as not "
                    f"exact: {', '.join(raised)}",
                    values,
                )
            )
    return findings


def completion_rate_agrees_with_applications(rows: Iterable[Row], max_gap_points: float) -> list[Finding]:
    """GA4's rate against the Make an LPA database's LPAs created per 100 started, stored beside it."""
    findings = []
    for r in rows:
        rate, database_rate = r["completion_rate_percent"], r["database_completion_rate_percent"]
        if r["database_lpas_started"] is None:
            findings.append(
                Finding(
                    _month(r), f"completion rate {_month(r)} cannot be cross-checked: no applications table"
                )
            )
            continue
        if rate is None or database_rate is None:
            continue
        gap = round(abs(rate - database_rate), 1)
        if gap > max_gap_points:
            started, created = r["database_lpas_started"], r["database_lpas_created"]
            findings.append(
                Finding(
                    _month(r),
                    f"completion rate {_month(r)}: GA4 says {rate}%, the Make an LPA database "
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

RATING_COLUMNS = ("very_satisfied", "satisfied", "neither", "dissatisfied", "very_dissatisfied")


def rating_counts_add_up(rows: Iterable[Row]) -> list[Finding]:
    findings = []
    for r in rows:
        counted = sum(r[c] for c in RATING_COLUMNS)
        if counted != r["total_responses"]:
            findings.append(
                Finding(
                    _month(r),
                    f"user satisfaction {_month(r)}: the five rating counts add up to {counted}, "
                    f"but the database counts {r['total_responses']} rated responses",
                    {**{c: r[c] for c in RATING_COLUMNS}, "total_responses": r["total_responses"]},
                )
            )
    return findings


def unknown_ratings_within_share(rows: Iterable[Row], max_share_percent: float) -> list[Finding]:
    findings = []
    for r in rows:
        responses = r["total_responses"] + r["unknown_ratings"]
        share = 100 * r["unknown_ratings"] / responses if responses else 0.0
        if share > max_share_percent:
            findings.append(
                Finding(
                    _month(r),
                    f"user satisfaction {_month(r)}: {r['unknown_ratings']} of {responses} responses "
                    f"({share:.1f}%) have a rating that is none of the five "
                    f"(more than {max_share_percent}%): has the feedback form changed?",
                    {
                        "unknown_ratings": r["unknown_ratings"],
                        "responses": responses,
                        "share": round(share, 2),
                    },
                )
            )
    return findings


def enough_responses(rows: Iterable[Row], minimum: int) -> list[Finding]:
    return [
        Finding(
            _month(r),
            f"user satisfaction {_month(r)} rests on {r['total_responses']} responses, fewer than {minimum}: "
            "the percentage is not a reliable statistic",
            {"total_responses": r["total_responses"], "minimum": minimum},
        )
        for r in rows
        if r["total_responses"] < minimum
    ]


# digital_take_up


def digital_within_total(rows: Iterable[Row]) -> list[Finding]:
    findings = []
    for r in rows:
        digital, total, percent = r["digital_applications"], r["total_applications"], r["take_up_percent"]
        if digital is not None and total is not None and digital > total:
            message = f"more digital applications ({digital}) than applications in all ({total})"
        elif _outside_0_100(percent):
            message = f"take-up of {percent}% is outside 0..100"
        else:
            continue
        findings.append(
            Finding(
                _month(r),
                f"digital take-up {_month(r)} ({r['source']}): {message}",
                {"digital_applications": digital, "total_applications": total, "take_up_percent": percent},
            )
        )
    return findings


# performance_dataset

RECORD_FIELDS = ("_timestamp", "service", "channel", "count", "dataType", "period")
DATA_TYPE_PATTERN = re.compile(r"[a-z]+(-[a-z]+)*")


# uptime


def uptime_within_range(rows: Iterable[Row]) -> list[Finding]:
    return [
        Finding(
            _month(row),
            f"uptime {row['uptime_percent']}% is outside 0..100",
            {"uptime": row["uptime_percent"]},
        )
        for row in rows
        if _outside_0_100(row["uptime_percent"])
    ]


def uptime_has_enough_data(rows: Iterable[Row]) -> list[Finding]:
    return [
        Finding(
            _month(row),
            row["not_available_reason"],
            {"hours_with_data": row["hours_with_data"], "hours_in_month": row["hours_in_month"]},
        )
        for row in rows
        if row["uptime_percent"] is None
    ]


# the published records


def record_problems(item: Mapping[str, Any], last_closed: Month) -> list[str]:
    """Why a record is not in OPG's published format; empty when it is."""
    problems = []
    if list(item) != list(RECORD_FIELDS):
        problems.append(f"fields are {sorted(item)}, expected exactly {list(RECORD_FIELDS)}")
    count = item.get("count")
    if isinstance(count, bool) or not isinstance(count, int | float) or not math.isfinite(count):
        problems.append(f"count {count!r} is not a number")
    elif count < 0:
        problems.append(f"count {count} is negative")
    data_type = item.get("dataType")
    if not isinstance(data_type, str) or not DATA_TYPE_PATTERN.fullmatch(data_type):
        problems.append(f"dataType {data_type!r} is not letters and dashes")
    elif data_type not in DATA_TYPES:
        problems.append(f"dataType {data_type!r} is not one perfplat publishes")
    timestamp = item.get("_timestamp")
    if not isinstance(timestamp, str) or not re.fullmatch(r"\d{4}-\d{2}-01T00:00:00\+00:00", timestamp):
        problems.append(f"_timestamp {timestamp!r} is not the first of a month at T00:00:00+00:00")
    elif Month.parse(timestamp[:10]) > last_closed:
        problems.append(f"_timestamp {timestamp} is a month that has not closed")
    for name, expected in (("service", SERVICE), ("channel", CHANNEL), ("period", PERIOD)):
        if item.get(name) != expected:
            problems.append(f"{name} is {item.get(name)!r}, not {expected!r}")
    return problems


def records_in_published_format(records: Sequence[Mapping[str, Any]], last_closed: Month) -> list[Finding]:
    findings = []
    for item in records:
        problems = record_problems(item, last_closed)
        if problems:
            month = str(item.get("_timestamp", "?"))[:7]
            findings.append(
                Finding(
                    month,
                    f"record {item.get('dataType')!r} of {month}: {'; '.join(problems)}",
                    {"record": dict(item)},
                )
            )
    duplicates = Counter((r.get("_timestamp"), r.get("dataType")) for r in records)
    for (timestamp, data_type), times in duplicates.items():
        if times > 1:
            findings.append(
                Finding(
                    str(timestamp)[:7],
                    f"{data_type!r} appears {times} times for {timestamp}",
                    {"_timestamp": timestamp, "dataType": data_type, "times": times},
                )
            )
    return findings
