"""Materialization metadata for a run of one month or many."""

from __future__ import annotations

import pandas as pd
from dagster import MetadataValue


def frame_metadata(frame: pd.DataFrame) -> dict[str, object]:
    """One month: each column as its own entry (plottable across partitions). Several: a table."""
    if len(frame) == 1:
        row = frame.iloc[0]
        return {
            column: (value.item() if hasattr(value, "item") else value)
            for column, value in row.items()
            if column != "month" and not pd.isna(value)
        }
    return {"months": MetadataValue.md(frame.to_markdown(index=False))}
