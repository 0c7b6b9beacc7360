"""OPG's published record format and how a month's measures become records. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perfplat_assets.common.measure import DataType
from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service
from perfplat_assets.measures import data_types, service_data_types

CHANNEL, PERIOD = "digital", "month"  # the `service` field is the service's own (`Service.service`)
RECORD_FIELDS = ("_timestamp", "service", "channel", "count", "dataType", "period")  # in this order

# The files a publication writes besides the month files (`Service.month_file_name`).
RECORDS_JSON, CUMULATIVE_CSV = "data.json", "data.csv"  # the public records; the series as a table
CSVW_METADATA, REVISIONS_CSV = f"{CUMULATIVE_CSV}-metadata.json", "revisions.csv"
NOTES_MD, REPORT_HTML = "notes.md", "report.html"
CUMULATIVE_FILES = (RECORDS_JSON, CUMULATIVE_CSV, CSVW_METADATA, REVISIONS_CSV, NOTES_MD, REPORT_HTML)
# Every published dataType, in `data.csv`'s column order (how people read the series), by name.
DATA_TYPES: Mapping[str, DataType] = {data_type.name: data_type for data_type in data_types()}


Record = dict[str, Any]


def count_value(data_type: str, value: float) -> int | float:
    """The JSON number for a dataType: `8424`, never `8424.0` or `"8424"`."""
    return DATA_TYPES[data_type].published(value)


def record(service: Service, month: Month, data_type: str, value: float) -> Record:
    """The service's record as OPG publishes it, its fields in RECORD_FIELDS' order."""
    values = (
        month.published_timestamp,
        service.service,
        CHANNEL,
        count_value(data_type, value),
        data_type,
        PERIOD,
    )
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


def wide_table(
    service: Service, records: Sequence[Record]
) -> tuple[list[str], list[list[int | float | str]]]:
    """One row per month, a column per dataType the service publishes; empty where a measure is not
    available."""
    columns = [data_type.name for data_type in service_data_types(service)]
    header = ["month", *columns]
    by_month: dict[str, dict[str, int | float]] = {}
    for item in records:
        by_month.setdefault(Month.from_timestamp(item["_timestamp"]).label, {})[item["dataType"]] = item[
            "count"
        ]
    rows = [[month, *(values.get(t, "") for t in columns)] for month, values in sorted(by_month.items())]
    return header, rows
