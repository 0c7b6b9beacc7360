"""Digital take-up's table in the metrics store: a month's applications and where they were counted."""

from sqlalchemy import Column, Float, Integer, String, Table, Text

from perfplat_assets.asset_names import DIGITAL_TAKE_UP
from perfplat_assets.digital_take_up.take_up import DigitalTakeUp
from perfplat_assets.metrics_store.tables import (
    blocked_by_column,
    metadata,
    month_column,
    not_available_column,
    stored_asset,
)

digital_take_up_table = stored_asset(
    Table(
        DIGITAL_TAKE_UP,
        metadata,
        month_column(),
        Column("digital_applications", Integer, comment="LPA applications made from a Make an LPA form."),
        Column("total_applications", Integer, comment="LPA applications received in the month."),
        Column("take_up_percent", Float, comment="Digital applications per 100, one decimal place."),
        Column("source", String(40), nullable=False, comment="Sirius, or the product team's figures file."),
        Column("note", Text, nullable=False, comment="The figures file's note for the month."),
        not_available_column(),
        blocked_by_column(),
    ),
    DigitalTakeUp,
)
