"""OPG's published record format and how a month's measures become records. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perfplat_assets.common.months import Month
from perfplat_assets.user_satisfaction.scoring import Rating

SERVICE, CHANNEL, PERIOD = "make-a-lpa", "digital", "month"
RECORD_FIELDS = ("_timestamp", "service", "channel", "count", "dataType", "period")  # in this order

# The files a publication writes besides the month files (`month_file_name`).
RECORDS_JSON, CUMULATIVE_CSV = "data.json", "data.csv"  # the public records; the series as a table
CSVW_METADATA, REVISIONS_CSV = f"{CUMULATIVE_CSV}-metadata.json", "revisions.csv"
NOTES_MD, REPORT_HTML = "notes.md", "report.html"
CUMULATIVE_FILES = (RECORDS_JSON, CUMULATIVE_CSV, CSVW_METADATA, REVISIONS_CSV, NOTES_MD, REPORT_HTML)
SATISFACTION_PERCENT = "user-satisfaction-percent"
RATING_DATA_TYPES = tuple(rating.data_type for rating in Rating)
# Column order of data.csv: how people read the series.
DATA_TYPES = (
    SATISFACTION_PERCENT,
    *RATING_DATA_TYPES,
    "digital-take-up",
    "completion-rate",
    "uptime-percent",
)
# No month of Make an LPA comes near a billion responses: a count at or above it is a defect (an import once
# took `1e300` and published a 301-digit integer).
COUNT_CEILING = 10**9


@dataclass(frozen=True)
class Bounds:
    """What a dataType's value may be: `low..high` inclusive, and whether it is a whole number."""

    low: int
    high: int
    whole: bool
    what: str  # how a message names the value: "a percentage", "a rating count"

    def problem(self, count: float) -> str | None:
        """Why `count` is outside the bounds, naming the bound; None when it is within them."""
        shown = _shown(count)
        if count < self.low:
            below = "negative" if self.low == 0 else f"below {self.low}"
            return f"count {shown} is {below}: {self.low} is the least {self.what} can be"
        if count > self.high:
            return f"count {shown} is above {self.high}, the most {self.what} can be"
        if self.whole and not float(count).is_integer():
            return f"count {shown} is not a whole number, as {self.what} must be"
        return None


def _shown(count: float) -> str:
    """A count as people read it: `5000` for 5000.0, `1e+300` kept short."""
    return (
        str(int(count))
        if isinstance(count, float) and count.is_integer() and abs(count) < 1e15
        else str(count)
    )


PERCENTAGE = Bounds(0, 100, whole=False, what="a percentage")
# The bounds of every dataType, stated once. The satisfaction percentage must also agree with its month's
# five counts where they are published (quality.rules.satisfaction_inconsistencies).
BOUNDS: Mapping[str, Bounds] = {
    SATISFACTION_PERCENT: Bounds(0, 100, whole=True, what="a satisfaction percentage"),
    **{
        data_type: Bounds(0, COUNT_CEILING - 1, whole=True, what="a rating count")
        for data_type in RATING_DATA_TYPES
    },
    "digital-take-up": PERCENTAGE,
    "completion-rate": PERCENTAGE,
    "uptime-percent": PERCENTAGE,
}
# Counts and the satisfaction percentage are whole numbers; the rates carry their decimals (rounded where
# they are computed; published history keeps the decimals it was published with).
WHOLE_NUMBER_DATA_TYPES = frozenset(data_type for data_type, bounds in BOUNDS.items() if bounds.whole)
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
    """The record as OPG publishes it, its fields in RECORD_FIELDS' order."""
    values = (month.published_timestamp, SERVICE, CHANNEL, count_value(data_type, value), data_type, PERIOD)
    return dict(zip(RECORD_FIELDS, values, strict=True))


@dataclass(frozen=True)
class DatasetValue:
    """A month's value under one published dataType: what the `performance_dataset` asset holds."""

    month: Month
    data_type: str
    count: float
    blocked_by: str | None = None  # why the dataset's own check withholds the month


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
