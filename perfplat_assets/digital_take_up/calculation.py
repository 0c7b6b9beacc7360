"""Take-up figures: a month's applications, and the share of them made online. Pure: no Dagster, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from perfplat_assets.common.months import Month
from perfplat_assets.common.rounding import percentage


@dataclass(frozen=True)
class TakeUpFigures:
    digital_applications: int
    total_applications: int
    note: str = ""


@dataclass(frozen=True)
class DigitalTakeUp:
    """A month of the `digital_take_up` asset: what flows to the dataset and is kept in the metrics store."""

    month: Month
    digital_applications: int | None
    total_applications: int | None
    take_up_percent: float | None
    source: str
    note: str
    not_available_reason: str | None
    blocked_by: str | None = None  # why a blocking check withholds the month from publication


def digital_take_up(month: Month, figures: TakeUpFigures | None, source: str) -> DigitalTakeUp:
    """The share to one decimal place, half-up; no applications at all is 'not available', not 0."""
    if figures is None:
        return DigitalTakeUp(month, None, None, None, source, "", f"{source} has no figures for {month}")
    if figures.total_applications == 0:
        return DigitalTakeUp(
            month,
            figures.digital_applications,
            0,
            None,
            source,
            figures.note,
            f"{source} recorded no LPA applications in {month}",
        )
    percent = float(percentage(figures.digital_applications, figures.total_applications, 1))
    return DigitalTakeUp(
        month, figures.digital_applications, figures.total_applications, percent, source, figures.note, None
    )
