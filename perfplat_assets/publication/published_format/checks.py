"""OPG's published record format as rules: what every record perfplat publishes or imports must be, and the
dataset's check that holds them. Pure: no Dagster.

A record is in the format when its fields, service, channel, period and `_timestamp` are exactly OPG's, its
dataType is one perfplat publishes, and its count is within that dataType's bounds (its measure's).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from perfplat_assets.common.months import Month, last_closed_month
from perfplat_assets.measures import measure_of, measures
from perfplat_assets.publication.published_format.records import (
    CHANNEL,
    DATA_TYPES,
    PERIOD,
    RECORD_FIELDS,
    DatasetValue,
)
from perfplat_assets.quality.rules import Check, Finding, Limits

DATA_TYPE_PATTERN = re.compile(r"[a-z]+(-[a-z]+)*")
# The `service` the dataset's check writes its values' records with: whose service they are is the
# publication's to say; this check holds every other field and the bounds.
_DATASET = "dataset"


def records_in_published_format(dataset: Sequence[DatasetValue], limits: Limits) -> list[Finding]:
    """The dataset's values as the records they are published as, in OPG's format and within their
    dataType's bounds. The count is the value as computed, before it is written as a whole number, so that
    a fraction where a whole number belongs is caught rather than cut off."""
    records = [
        {
            "_timestamp": value.month.published_timestamp,
            "service": _DATASET,
            "channel": CHANNEL,
            "count": value.count if isinstance(value.count, int) else float(value.count),
            "dataType": value.data_type,
            "period": PERIOD,
        }
        for value in dataset
        if not value.blocked_by  # a measure already withheld is not published: it cannot break the format
    ]
    return published_format_findings(records, limits.last_closed or last_closed_month(), _DATASET)


def record_problems(item: Mapping[str, Any], last_closed: Month, service: str) -> list[str]:
    """Why a record is not in OPG's published format as the service whose `service` value is `service`
    publishes it; empty when it is."""
    problems = [fields] if (fields := fields_problem(item)) else []
    count = item.get("count")
    # An infinite count is a number beyond every bound (JSON's 1e999, or digits past what a float holds).
    number = not isinstance(count, bool) and isinstance(count, int | float) and not math.isnan(count)
    if not number:
        problems.append(f"count {_brief(count)} is not a number")
    data_type = item.get("dataType")
    if not isinstance(data_type, str) or not DATA_TYPE_PATTERN.fullmatch(data_type):
        problems.append(f"dataType {_brief(data_type)} is not letters and dashes")
    elif data_type not in DATA_TYPES:
        problems.append(f"dataType {_brief(data_type)} is not one perfplat publishes")
    elif number and (outside := DATA_TYPES[data_type].bounds.problem(count)):
        problems.append(outside)
    elif number and not math.isfinite(count):  # beyond the bounds of a dataType that has none
        problems.append(f"count {count} is not a finite number")
    timestamp = item.get("_timestamp")
    if not isinstance(timestamp, str) or not re.fullmatch(r"\d{4}-\d{2}-01T00:00:00\+00:00", timestamp):
        problems.append(f"_timestamp {_brief(timestamp)} is not the first of a month at T00:00:00+00:00")
    elif (month := _month_of(item)) is None:
        problems.append(_not_a_month(timestamp))
    elif month > last_closed:
        problems.append(f"_timestamp {timestamp} is a month that has not closed")
    for name, expected in (("service", service), ("channel", CHANNEL), ("period", PERIOD)):
        if item.get(name) != expected:
            problems.append(f"{name} is {_brief(item.get(name))}, not {expected!r}")
    return problems


def fields_problem(item: Mapping[str, Any]) -> str | None:
    """Why a record's fields are not exactly OPG's, in OPG's order; None when they are."""
    if list(item) == list(RECORD_FIELDS):
        return None
    return f"fields are [{', '.join(map(_brief, sorted(item)))}], expected exactly {list(RECORD_FIELDS)}"


MAX_SHOWN = 40  # characters of a value a refusal shows: a file's megabyte string is named, not copied


def _brief(value: object) -> str:
    """A value as a refusal shows it: its repr, cut short with its length when long."""
    shown = repr(value)
    return shown if len(shown) <= MAX_SHOWN else f"{shown[: MAX_SHOWN - 8]}… ({len(shown):,} characters)"


def implausible_measures(
    values: Mapping[tuple[Month, str], float],
    method_for: Mapping[str, MethodFor],
    adopted: Collection[tuple[Month, str]] = (),
) -> dict[tuple[Month, str], list[str]]:
    """Each (month, measure) holding a value outside its dataType's bounds, or values that disagree with each
    other (a satisfaction percentage its counts do not give), with each value at fault and the bound it
    breaks: the measure's values of that month are withheld together."""
    found: dict[tuple[Month, str], list[str]] = {}
    for (month, data_type), value in sorted(values.items()):
        known, measure = DATA_TYPES.get(data_type), measure_of(data_type)
        if known is None or measure is None:
            continue
        problem = (
            f"count {value!r} is not a number" if not math.isfinite(value) else known.bounds.problem(value)
        )
        if problem:
            found.setdefault((month, measure.name), []).append(f"{data_type} {problem}")
    for month, data_type, problem in inconsistencies(values, method_for):
        if (month, data_type) in adopted:  # the record as OPG published it, marked as such in notes.md
            continue
        measure = measure_of(data_type)
        found.setdefault((month, measure.name if measure else data_type), []).append(problem)
    return found


def taken_over_as_published(
    values: Mapping[tuple[Month, str], float],
    method_for: Mapping[str, MethodFor],
    taken_over: Collection[tuple[Month, str]],
) -> dict[tuple[Month, str], str]:
    """The months of OPG's series taken over as published (`taken_over`, by (month, headline dataType)) whose
    values disagree with each other under the method the published files state for them (`method_for`,
    imported months included), with why: published as they stand, so the notes must say so. Computed afresh
    by each publication, whatever the schedule was when the month was imported, so that the notes never state
    a method that a published figure does not follow without naming it."""
    return {
        (month, data_type): why
        for month, data_type, why in inconsistencies(values, method_for)
        if (month, data_type) in taken_over
    }


def inconsistencies(
    values: Mapping[tuple[Month, str], float], method_for: Mapping[str, MethodFor]
) -> list[tuple[Month, str, str]]:
    """Every registered measure's rule across its published dataTypes, broken: the month, the measure's
    headline dataType and why. `method_for` gives each measure's method of a month (None: not known)."""
    return [
        (month, measure.headline.name, problem)
        for measure in measures()
        if measure.consistency
        for month, problem in measure.consistency(values, method_for.get(measure.name, _unknown))
    ]


MethodFor = Callable[[Month], str | None]


def _unknown(_: Month) -> None:
    return None


def _not_a_month(timestamp: str) -> str:
    """Why a `_timestamp` of the right shape names no month: its month, or its year, is out of range."""
    if not 1 <= int(timestamp[5:7]) <= 12:
        return f"_timestamp {timestamp} has month {timestamp[5:7]}, where a month is 01 to 12"
    return f"_timestamp {timestamp} has year {timestamp[:4]}, where a year is 0001 to 9999"


def _month_of(item: Mapping[str, Any]) -> Month | None:
    try:
        return Month.from_timestamp(item.get("_timestamp"))
    except ValueError:
        return None


def published_format_findings(
    records: Sequence[Mapping[str, Any]], last_closed: Month, service: str
) -> list[Finding]:
    """Every record not in OPG's format as `service` publishes it, and every (_timestamp, dataType)
    published more than once."""
    findings = []
    for item in records:
        problems = record_problems(item, last_closed, service)
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


CHECKS: tuple[Check[DatasetValue], ...] = (
    Check(
        records_in_published_format,
        "Every record is exactly in OPG's published format and within its dataType's bounds (percentages "
        "0..100, counts whole and below 10^9), (_timestamp, dataType) is unique, and every month has closed.",
        blocks_publication=True,
    ),
)
