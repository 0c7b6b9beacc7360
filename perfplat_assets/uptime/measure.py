"""Uptime, declared once: its table in the metrics store (a month's hours with data and the share found
healthy) and what is published from it."""

from __future__ import annotations

from sqlalchemy import Column, Float, Integer

from perfplat_assets.common.measure import PERCENTAGE, DataType, Measure
from perfplat_assets.metrics_store.tables import measure_table
from perfplat_assets.uptime.calculation import Uptime
from perfplat_assets.uptime.checks import CHECKS

NAME = "uptime"

table = measure_table(
    NAME,
    Uptime,
    Column("hours_in_month", Integer, nullable=False, comment="Hours in the month (743 to 745 in London)."),
    Column("hours_with_data", Integer, nullable=False, comment="Hours with health-check data."),
    Column("uptime_percent", Float, comment="The share of the month found healthy, two decimal places."),
)


def _values(month: Uptime) -> dict[str, float] | None:
    return None if month.uptime_percent is None else {"uptime-percent": month.uptime_percent}


UPTIME = Measure(
    name=NAME,
    home=__package__,
    title="Uptime",
    figures=Uptime,
    table=table,
    data_types=(
        DataType(
            "uptime-percent",
            "Uptime",
            "per cent",
            PERCENTAGE,
            whole_when_integral=True,  # OPG has always published a whole month up as `100`
        ),
    ),
    values=_values,
    checks=CHECKS,
    note="The share of the month in which the service's Route 53 health check (HTTPS, every 30 seconds from "
    "three regions) found it healthy, from CloudWatch's hourly averages, two decimal places. A month without "
    "health-check data for most of its hours is left out",
)
