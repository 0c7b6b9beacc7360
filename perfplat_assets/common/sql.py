"""SQL building blocks shared by the sources: a month bucket that is the same in every dialect.

A month's bounds take the form of the column they are compared with, so that no dialect converts either side
through a session time zone: instants (`timestamptz`, or UTC in SQLite) by default; calendar days for a
`date` column (`dates=True`); London wall-clock times for a `timestamp without time zone` column written in
London time (`wall_clock=True`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, DateTime, Integer, and_, case, func, literal
from sqlalchemy.dialects.postgresql import array

from perfplat_assets.common.months import Month


def bounds(month: Month, *, dates: bool = False, wall_clock: bool = False) -> tuple[date | datetime, ...]:
    """The month's half-open `[start, end)` in the column's own form: aware UTC instants (`Month.start`,
    `Month.end`), first days (`dates`), or naive London wall-clock midnights (`wall_clock`)."""
    if dates and wall_clock:
        raise ValueError("a column holds dates or wall-clock times, not both")
    if dates:
        return month.first_day, month.next().first_day
    if wall_clock:
        return month.wall_clock_start, month.wall_clock_end
    return month.start, month.end


def month_bucket(
    column: ColumnElement[Any], months: Sequence[Month], *, dates: bool = False, wall_clock: bool = False
) -> ColumnElement[str]:
    """`CASE WHEN column in month 1 THEN '2025-05-01' ...`: Europe/London months without dialect-specific
    time-zone functions, because the windows are computed here.

    `dates=True` for a `date` column, which is bucketed by calendar day rather than by instant;
    `wall_clock=True` for a `timestamp without time zone` column holding London wall-clock times.
    """
    whens = []
    for month in months:
        start, end = bounds(month, dates=dates, wall_clock=wall_clock)
        whens.append((and_(column >= start, column < end), literal(month.key)))
    return case(*whens, else_=None)


def window(
    column: ColumnElement[Any], months: Sequence[Month], *, dates: bool = False, wall_clock: bool = False
) -> ColumnElement[bool]:
    """The half-open window covering every month, for the WHERE clause (so an index on `column` is used)."""
    start = bounds(months[0], dates=dates, wall_clock=wall_clock)[0]
    end = bounds(months[-1], dates=dates, wall_clock=wall_clock)[1]
    return and_(column >= start, column < end)


def month_index(
    column: ColumnElement[Any], months: Sequence[Month], dialect: str, *, wall_clock: bool = False
) -> ColumnElement[int]:
    """Which of `months` (1, 2, ...) the instant in `column` falls in, for rows inside their window.

    Measured on 10 million rows (docs/PERFORMANCE.md): one month needs no bucket at all; on Postgres,
    `width_bucket` over the months' starts is a binary search in C, the cheapest exact London bucket (a CASE
    per month, or `date_trunc` on the London time, cost two to three times more); elsewhere, a CASE.

    `wall_clock=True` for a `timestamp without time zone` column holding London wall-clock times: the starts
    are then naive London midnights, typed `timestamp`, so Postgres compares them as they are (bound as
    `timestamptz`, they would make it read the column in the session's time zone).
    """
    if len(months) == 1:
        return literal(1, Integer)
    if dialect == "postgresql":
        starts = [bounds(month, wall_clock=wall_clock)[0] for month in months]
        return func.width_bucket(
            column, array([literal(start, DateTime(timezone=not wall_clock)) for start in starts])
        )
    return case(
        *(
            (and_(column >= start, column < end), literal(i, Integer))
            for i, (start, end) in enumerate((bounds(m, wall_clock=wall_clock) for m in months), 1)
        ),
        else_=None,
    )
