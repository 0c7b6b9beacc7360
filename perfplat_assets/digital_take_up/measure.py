"""Digital take-up, declared once: its table in the metrics store (a month's applications and where they
were counted) and what is published from it."""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer, String, Text

from perfplat_assets.common.measure import PERCENTAGE, DataType, Measure
from perfplat_assets.digital_take_up.calculation import DigitalTakeUp
from perfplat_assets.digital_take_up.checks import CHECKS
from perfplat_assets.metrics_store.tables import measure_table

NAME = "digital_take_up"

table = measure_table(
    NAME,
    DigitalTakeUp,
    Column("digital_applications", Integer, comment="LPA applications made from a Make an LPA form."),
    Column("total_applications", Integer, comment="LPA applications received in the month."),
    Column("take_up_percent", Float, comment="Digital applications per 100, one decimal place."),
    Column("source", String(40), nullable=False, comment="Sirius, or the product team's figures file."),
    Column("note", Text, nullable=False, comment="The figures file's note for the month."),
)


def _values(month: DigitalTakeUp) -> dict[str, float] | None:
    percent = month.take_up_percent
    return None if percent is None else {"digital-take-up": percent}


DIGITAL_TAKE_UP = Measure(
    name=NAME,
    home=__package__,
    title="Digital take-up",
    figures=DigitalTakeUp,
    table=table,
    data_types=(
        DataType(
            "digital-take-up",
            "Digital take-up",
            "per cent",
            PERCENTAGE,
        ),
    ),
    values=_values,
    checks=CHECKS,
    note="LPA applications made from a form produced by Make an LPA, as a percentage of all LPA applications "
    "received in the month, from OPG's case-management system, one decimal place. Often revised one to three "
    "months later",
    revised_months=3,  # OPG's take-up figures are revised for up to three months
)
