"""Average processing days, a toy: its sample's figure is worked out from the month alone, so a test knows
it by hand (10 days, plus a tenth of a day per calendar month: 10.5 in May)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Column, Float

from perfplat_assets.common.measure import Bounds, DataType, Measure
from perfplat_assets.common.months import Month
from perfplat_assets.metrics_store.tables import measure_table
from perfplat_assets.quality.rules import Check, Finding, Limits

NAME = "average_processing_days"


@dataclass(frozen=True)
class ProcessingDays:
    month: Month
    average_days: float | None
    not_available_reason: str | None = None
    blocked_by: str | None = None


def processing_days_within_a_year(months: Sequence[ProcessingDays], _: Limits) -> list[Finding]:
    return [
        Finding(m.month, f"{m.average_days} days is more than a year", {"days": m.average_days})
        for m in months
        if m.average_days is not None and m.average_days > 365
    ]


table = measure_table(
    NAME,
    ProcessingDays,
    Column("average_days", Float, comment="Days from receipt to registration, on average."),
)

AVERAGE_PROCESSING_DAYS = Measure(
    name=NAME,
    home=__package__,
    title="Average processing days",
    figures=ProcessingDays,
    table=table,
    data_types=(
        DataType(
            "average-processing-days",
            "Average processing days",
            "days",
            Bounds(0, 365, whole=False, what="a number of days"),
        ),
    ),
    values=lambda m: None if m.average_days is None else {"average-processing-days": m.average_days},
    checks=(
        Check(processing_days_within_a_year, "No month averages more than a year.", blocks_publication=True),
    ),
    note="Days from an application's receipt to its registration, averaged over the month's registrations",
)
