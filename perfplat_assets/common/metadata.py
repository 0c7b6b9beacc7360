"""Materialization metadata for a run of one month or many."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dagster import MetadataValue, TableColumn, TableSchema
from sqlalchemy import Boolean, Float, Integer, Table

from perfplat_assets.common.columns import to_row


def figures_table(figures: Sequence[Any]) -> MetadataValue:
    """The run's months as a table people can read, whatever the number of months."""
    import pandas as pd  # a table for people: pandas draws it

    return MetadataValue.md(pd.DataFrame([to_row(item) for item in figures]).to_markdown(index=False))


def figures_metadata(figures: Any) -> dict[str, Any]:
    """A month's values (percentages and counts as plain numbers, flags, methods, reasons), recorded on that
    month's materialization, so that the UI's Plots tab charts each numeric series across months, in a
    range run as in a single one."""
    return {
        column: value for column, value in to_row(figures).items() if column != "month" and value is not None
    }


def column_schema(table: Table) -> TableSchema:
    """`dagster/column_schema` of a metrics-store table."""

    def kind(column: Any) -> str:
        for sql, name in ((Boolean, "boolean"), (Integer, "integer"), (Float, "float")):
            if isinstance(column.type, sql):
                return name
        return "string"

    return TableSchema(
        columns=[
            TableColumn(column.name, kind(column), description=column.comment or None)
            for column in table.columns
        ]
    )
