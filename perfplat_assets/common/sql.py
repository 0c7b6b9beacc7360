"""SQL building blocks shared by the sources: a month bucket that is the same in every dialect."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Integer, and_, case, func, literal
from sqlalchemy.dialects.postgresql import array

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


def month_index(column: ColumnElement[Any], months: Sequence[Month], dialect: str) -> ColumnElement[int]:
    """Which of `months` (1, 2, ...) the instant in `column` falls in, for rows inside their window.

    Measured on 10 million rows (docs/PERFORMANCE.md): one month needs no bucket at all; on Postgres,
    `width_bucket` over the months' starts is a binary search in C, the cheapest exact London bucket (a CASE
    per month, or `date_trunc` on the London time, cost two to three times more); elsewhere, a CASE.
    """
    if len(months) == 1:
        return literal(1, Integer)
    if dialect == "postgresql":
        bounds = array([literal(month.start, DateTime(timezone=True)) for month in months])
        return func.width_bucket(column, bounds)
    return case(
        *((and_(column >= m.start, column < m.end), literal(i, Integer)) for i, m in enumerate(months, 1)),
        else_=None,
    )
