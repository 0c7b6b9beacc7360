"""Take-up figures: a month's applications, and the share of them made online, and Sirius's answer checked
before any of it is used. Pure: no Dagster, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from perfplat_assets.common.answers import Answer, AnswerCheck
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


def applications_answer(
    rows: Iterable[tuple[object, object, object]], months: Sequence[Month]
) -> Answer[TakeUpFigures]:
    """Sirius's answer (rows of the month's key `YYYY-MM-01`, digital applications, all applications) for
    `months`, checked: each count a whole number, 0 or more, each month once, and only the months asked for
    (another is ignored and reported). A month Sirius holds no LPA receipts for has no row."""
    check = AnswerCheck(months)
    found: dict[Month, TakeUpFigures] = {}
    for key, digital, total in rows:
        month = check.month_named(key)
        if month is None or not check.once(month):
            continue
        found[month] = TakeUpFigures(
            check.count(month, digital, "digital applications"), check.count(month, total, "applications")
        )
    return check.answer(found)


def digital_take_up(month: Month, figures: TakeUpFigures | str | None, source: str) -> DigitalTakeUp:
    """The share to one decimal place, half-up; no applications at all is 'not available', not 0, and so is
    a month its source answered wrongly (`figures` the reason)."""
    if isinstance(figures, str):
        return DigitalTakeUp(month, None, None, None, source, "", figures)
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
