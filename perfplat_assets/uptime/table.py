"""Uptime's table in the metrics store: a month's hours with data and the share found healthy."""

from sqlalchemy import Column, Float, Integer, Table

from perfplat_assets.asset_names import UPTIME
from perfplat_assets.metrics_store.tables import (
    blocked_by_column,
    metadata,
    month_column,
    not_available_column,
    stored_asset,
)
from perfplat_assets.uptime.availability import Uptime

uptime_table = stored_asset(
    Table(
        UPTIME,
        metadata,
        month_column(),
        Column(
            "hours_in_month", Integer, nullable=False, comment="Hours in the month (743 to 745 in London)."
        ),
        Column("hours_with_data", Integer, nullable=False, comment="Hours with health-check data."),
        Column("uptime_percent", Float, comment="The share of the month found healthy, two decimal places."),
        not_available_column(),
        blocked_by_column(),
    ),
    Uptime,
)
