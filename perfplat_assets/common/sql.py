"""SQL building blocks shared by the sources: a month bucket that is the same in every dialect."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, literal

from perfplat_assets.common.months import Month


def month_bucket(
    column: ColumnElement[Any], months: Sequence[Month], *, dates: bool = False
) -> ColumnElement[str]:
    """`CASE WHEN column in month 1 THEN '2025-05-01' ...`: Europe/London months without dialect-specific
    time-zone functions, because the windows are computed here.

    `dates=True` for a `date` column, which is bucketed by calendar day rather than by instant.
    """

    def bounds(month: Month) -> tuple[date | datetime, date | datetime]:
        return (month.first_day, month.next().first_day) if dates else (month.start, month.end)

    whens = []
    for month in months:
        start, end = bounds(month)
        whens.append((and_(column >= start, column < end), literal(month.key)))
    return case(*whens, else_=None)


def window(
    column: ColumnElement[Any], months: Sequence[Month], *, dates: bool = False
) -> ColumnElement[bool]:
    """The half-open window covering every month, for the WHERE clause (so an index on `column` is used)."""
    first, last = months[0], months[-1]
    if dates:
        return and_(column >= first.first_day, column < last.next().first_day)
    return and_(column >= first.start, column < last.end)
