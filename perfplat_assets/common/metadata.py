"""Materialization metadata for a run of one month or many."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from dagster import MetadataValue, TableColumn, TableSchema
from sqlalchemy import Boolean, Float, Integer, Table


def frame_metadata(frame: pd.DataFrame) -> dict[str, object]:
    """The run's rows as a table people can read, whatever the number of months."""
    return {"months": MetadataValue.md(frame.to_markdown(index=False))}


def month_figures(row: Mapping[str, Any]) -> dict[str, Any]:
    """A month's values (percentages and counts as plain numbers, flags, methods, reasons), recorded on that
    month's materialization, so that the UI's Plots tab charts each numeric series across months, in a
    range run as in a single one."""
    figures = {}
    for column, value in row.items():
        plain = value.item() if hasattr(value, "item") else value
        if column != "month" and plain is not None and not (isinstance(plain, float) and pd.isna(plain)):
            figures[column] = plain
    return figures


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


def per_month(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each row's figures by its partition key."""
    return {str(row["month"]): month_figures(row) for row in rows}
