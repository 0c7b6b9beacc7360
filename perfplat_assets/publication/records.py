"""OPG's published record format and how a month's measures become records. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from perfplat_assets.common.months import Month
from perfplat_assets.user_satisfaction.scoring import PUBLISHED_RATING_NAMES

SERVICE, CHANNEL, PERIOD = "make-a-lpa", "digital", "month"
RATING_DATA_TYPES = tuple(PUBLISHED_RATING_NAMES.values())
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


def month_measures(
    satisfaction: Mapping[str, Any] | None,
    take_up: Mapping[str, Any] | None,
    completion: Mapping[str, Any] | None,
    availability: Mapping[str, Any] | None,
) -> tuple[dict[str, float], dict[str, str]]:
    """A month's values by dataType, and the reason each measure left out is missing.

    A measure without data is left out, never published as 0.
    """
    values: dict[str, float] = {}
    missing: dict[str, str] = {}
    if satisfaction is None or satisfaction.get("satisfaction_percent") is None:
        missing["user-satisfaction"] = _reason(
            satisfaction, "user satisfaction was not computed for this month"
        )
    else:
        values["user-satisfaction-percent"] = satisfaction["satisfaction_percent"]
        for data_type in RATING_DATA_TYPES:
            values[data_type] = satisfaction[data_type.replace("-", "_")]
    if take_up is None or take_up.get("take_up_percent") is None:
        missing["digital-take-up"] = _reason(take_up, "digital take-up was not computed for this month")
    else:
        values["digital-take-up"] = take_up["take_up_percent"]
    if completion is None or completion.get("completion_rate_percent") is None:
        missing["completion-rate"] = _reason(
            completion, "the completion rate was not computed for this month"
        )
    else:
        values["completion-rate"] = completion["completion_rate_percent"]
    if availability is None or availability.get("uptime_percent") is None:
        missing["uptime"] = _reason(availability, "uptime was not computed for this month")
    else:
        values["uptime-percent"] = availability["uptime_percent"]
    return values, missing


def _reason(row: Mapping[str, Any] | None, default: str) -> str:
    return (row or {}).get("not_available_reason") or default


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
        by_month.setdefault(item["_timestamp"][:7], {})[item["dataType"]] = item["count"]
    rows = [[month, *(values.get(t, "") for t in DATA_TYPES)] for month, values in sorted(by_month.items())]
    return header, rows
