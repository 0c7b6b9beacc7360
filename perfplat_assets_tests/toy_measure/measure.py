"""Average processing days, a toy: its sample's figure is worked out from the month alone, so a test knows
it by hand (10 days, plus a tenth of a day per calendar month: 10.5 in May)."""

from __future__ import annotations

from sqlalchemy import Column, Float

from perfplat_assets.common.measure import Bounds, DataType, Measure
from perfplat_assets.metrics_store.tables import measure_table
from perfplat_assets_tests.toy_measure.calculation import ProcessingDays
from perfplat_assets_tests.toy_measure.checks import CHECKS

NAME = "average_processing_days"

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
    checks=CHECKS,
    note="Days from an application's receipt to its registration, averaged over the month's registrations",
)
