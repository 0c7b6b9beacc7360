"""OPG's published record format and how a month's measures become records. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from perfplat_assets.common.months import Month
from perfplat_assets.completion_rate.rate import CompletionRate
from perfplat_assets.digital_take_up.take_up import DigitalTakeUp
from perfplat_assets.uptime.availability import Uptime
from perfplat_assets.user_satisfaction.scoring import Rating, UserSatisfaction

SERVICE, CHANNEL, PERIOD = "make-a-lpa", "digital", "month"
RATING_DATA_TYPES = tuple(rating.data_type for rating in Rating)
# Column order of data.csv: how people read the series.
DATA_TYPES = (
    "user-satisfaction-percent",
    *RATING_DATA_TYPES,
    "digital-take-up",
    "completion-rate",
    "uptime-percent",
)
# Counts and the satisfaction percentage are whole numbers; the rates carry their decimals (rounded where
# they are computed; published history keeps the decimals it was published with).
WHOLE_NUMBER_DATA_TYPES = frozenset({"user-satisfaction-percent", *RATING_DATA_TYPES})
# Published as a whole number when it is one, as OPG always has: `100`, not `100.0`.
WHOLE_WHEN_INTEGRAL_DATA_TYPES = frozenset({"uptime-percent"})

Record = dict[str, Any]


def count_value(data_type: str, value: float) -> int | float:
    """The JSON number for a dataType: `8424`, never `8424.0` or `"8424"`."""
    if data_type in WHOLE_NUMBER_DATA_TYPES:
        return int(value)
    if data_type in WHOLE_WHEN_INTEGRAL_DATA_TYPES and float(value).is_integer():
        return int(value)
    return float(value)


def record(month: Month, data_type: str, value: float) -> Record:
    return {
        "_timestamp": month.published_timestamp,
        "service": SERVICE,
        "channel": CHANNEL,
        "count": count_value(data_type, value),
        "dataType": data_type,
        "period": PERIOD,
    }


@dataclass(frozen=True)
class DatasetValue:
    """A month's value under one published dataType: what the `performance_dataset` asset holds."""

    month: Month
    data_type: str
    count: float
    blocked_by: str | None = None  # why the dataset's own check withholds the month


Measure = UserSatisfaction | DigitalTakeUp | CompletionRate | Uptime


def month_measures(
    satisfaction: UserSatisfaction | None,
    take_up: DigitalTakeUp | None,
    completion: CompletionRate | None,
    availability: Uptime | None,
) -> tuple[dict[str, float], dict[str, str]]:
    """A month's values by dataType, and the reason each measure left out is missing.

    A measure without data is left out, never published as 0.
    """
    values: dict[str, float] = {}
    missing: dict[str, str] = {}
    if satisfaction is None or satisfaction.satisfaction_percent is None:
        missing["user-satisfaction"] = _reason(
            satisfaction, "user satisfaction was not computed for this month"
        )
    else:
        values["user-satisfaction-percent"] = satisfaction.satisfaction_percent
        values |= satisfaction.counts.published()
    if take_up is None or take_up.take_up_percent is None:
        missing["digital-take-up"] = _reason(take_up, "digital take-up was not computed for this month")
    else:
        values["digital-take-up"] = take_up.take_up_percent
    if completion is None or completion.completion_rate_percent is None:
        missing["completion-rate"] = _reason(
            completion, "the completion rate was not computed for this month"
        )
    else:
        values["completion-rate"] = completion.completion_rate_percent
    if availability is None or availability.uptime_percent is None:
        missing["uptime"] = _reason(availability, "uptime was not computed for this month")
    else:
        values["uptime-percent"] = availability.uptime_percent
    return values, missing


def _reason(figures: Measure | None, default: str) -> str:
    return (figures.not_available_reason if figures else None) or default


def dataset_values(
    months: Sequence[Month],
    satisfaction: Sequence[UserSatisfaction],
    take_up: Sequence[DigitalTakeUp],
    completion: Sequence[CompletionRate],
    availability: Sequence[Uptime],
) -> tuple[list[DatasetValue], dict[str, str]]:
    """The months' values by published dataType, and notes for people: each month withheld because a check
    blocked one of its measures upstream (it gets no values at all), and each measure left out, with why."""
    measures = [
        {item.month: item for item in items} for items in (satisfaction, take_up, completion, availability)
    ]
    values: list[DatasetValue] = []
    notes: dict[str, str] = {}
    for month in months:
        upstream = [by_month.get(month) for by_month in measures]
        blocked = [figures.blocked_by for figures in upstream if figures and figures.blocked_by]
        if blocked:
            notes[f"withheld {month}"] = "; ".join(blocked)
            continue
        found, missing = month_measures(*upstream)  # type: ignore[arg-type]
        values += [DatasetValue(month, data_type, value) for data_type, value in found.items()]
        notes.update({f"left out {month} {measure}": reason for measure, reason in missing.items()})
    return values, notes


def sort_records(records: Iterable[Record]) -> list[Record]:
    """The published order: by `_timestamp`, then `dataType`."""
    return sorted(records, key=lambda r: (r["_timestamp"], r["dataType"]))


def month_file_name(month: Month) -> str:
    """The name OPG's monthly automation picks up, e.g. `make_a_lasting_power_of_attorney_26_06.json`."""
    return f"make_a_lasting_power_of_attorney_{month.first_day:%y_%m}.json"


def wide_table(records: Sequence[Record]) -> tuple[list[str], list[list[int | float | str]]]:
    """One row per month, a column per dataType; empty where a measure is not available."""
    header = ["month", *DATA_TYPES]
    by_month: dict[str, dict[str, int | float]] = {}
    for item in records:
        by_month.setdefault(Month.from_timestamp(item["_timestamp"]).label, {})[item["dataType"]] = item[
            "count"
        ]
    rows = [[month, *(values.get(t, "") for t in DATA_TYPES)] for month, values in sorted(by_month.items())]
    return header, rows
