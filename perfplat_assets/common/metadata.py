"""Materialization metadata for a run of one month or many."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from dagster import MetadataValue, TableColumn, TableSchema
from sqlalchemy import Boolean, Float, Integer, Table

from perfplat_assets.common.columns import to_row

# Every line break str.splitlines knows: markdown ends a line at \r or \n; the others are dropped too.
_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]+")


def markdown_cell(text: str) -> str:
    """Text from a file or a source (a note, a reason) as one cell of a markdown table, or one list item:
    a raw `|` would split the cell and a line break the row. Backslashes are doubled first, so that the
    text's own `\\|` cannot turn the escaped pipe back into a cell break; each run of line breaks is a space.
    """
    return _LINE_BREAKS.sub(" ", text.replace("\\", "\\\\").replace("|", "\\|"))


def figures_table(figures: Sequence[Any]) -> MetadataValue:
    """The run's months as a table people can read, whatever the number of months: text in a cell cannot
    break the table, and a missing value is an empty cell."""
    import pandas as pd  # a table for people: pandas draws it

    rows = [
        {
            column: markdown_cell(value) if isinstance(value, str) else value
            for column, value in to_row(item).items()
        }
        for item in figures
    ]
    # dtype object: pandas keeps None as None, which the table shows empty, not as "nan".
    return MetadataValue.md(pd.DataFrame(rows, dtype=object).to_markdown(index=False))


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
