"""The one query perfplat runs on digideps' `satisfaction` table (Complete the deputy report): scores counted
per London month, in SQL, in one pass.

Only the score, the creation time and the report links are ever touched: `comments` holds the deputy's free
text, and perfplat's table object does not even declare it, so no statement built from it can select it.

**Time.** digideps' `created_at` is `timestamp(0) without time zone` (Doctrine's `datetime`, migration
Version215), written by Gedmo's Timestampable as PHP's `new \\DateTime()` in the process's default zone, which
the API's Kernel sets to Europe/London: the column holds London wall-clock times, to the second, with no
offset. A London month is therefore compared in that same form: from `YYYY-MM-01 00:00:00` to the next first's
`00:00:00`, as naive `timestamp` values (`common.sql`, `wall_clock=True`), never as `timestamptz` instants,
which Postgres would compare by reading the column in the session's `TimeZone` (an hour out in summer on a
UTC session). Wall-clock midnight on a first is exact: the UK's clocks change at 01:00 UTC on a Sunday, so
midnight on a first is neither skipped nor repeated, and the hour repeated in October lies within one month.

**Which rows.** Those linked to a report, as digideps' `SatisfactionRepository::getSatisfactionDataForPeriod`
counts them: `report_id IS NOT NULL`, and, while the table still has the column, `OR ndr_id IS NOT NULL`.
digideps dropped `ndr_id` with the new-deputy report (migration Version310, April 2026), so the column is
looked up in the catalogue (which needs no right on the table) before the query is built.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    DateTime,
    Integer,
    MetaData,
    Select,
    Table,
    func,
    inspect,
    or_,
    select,
)
from sqlalchemy.exc import NoSuchTableError

from perfplat_assets.common.answers import Answer
from perfplat_assets.common.months import Month, contiguous
from perfplat_assets.common.sql import month_index, window
from perfplat_assets.user_satisfaction.calculation import Rating, RatingCounts, counted_ratings

# digideps' scores: 1 very dissatisfied ... 5 very satisfied. Any other score counts as unknown.
SCORES: Mapping[int, Rating] = {
    1: Rating.VERY_DISSATISFIED,
    2: Rating.DISSATISFIED,
    3: Rating.NEITHER,
    4: Rating.SATISFIED,
    5: Rating.VERY_SATISFIED,
}


def satisfaction_table(name: str = "satisfaction", *, ndr_id: bool = False) -> Table:
    """The columns of digideps' table perfplat touches: `id`, `score integer`, `created_at timestamp(0)
    without time zone`, `report_id`, and `ndr_id` where the table still has it. Never `comments`."""
    columns = [
        Column("id", Integer, primary_key=True),
        Column("score", Integer, nullable=False),
        Column("created_at", DateTime(timezone=False), nullable=False),
        Column("report_id", Integer),
    ]
    if ndr_id:
        columns.append(Column("ndr_id", Integer))
    return Table(name, MetaData(), *columns)


def linked_to_a_report(table: Table) -> ColumnElement[bool]:
    """digideps' filter: a response given on submitting a report (or, before April 2026, a new-deputy one)."""
    linked = table.c.report_id.is_not(None)
    return or_(linked, table.c.ndr_id.is_not(None)) if "ndr_id" in table.c else linked


def rating_counts_query(table: Table, months: Sequence[Month], dialect: str = "postgresql") -> Select:
    """One pass over the window: responses per month (by its position in `months`) and score."""
    months = contiguous(months)
    created = table.c.created_at
    month = month_index(created, months, dialect, wall_clock=True).label("month")
    score = table.c.score.label("score")
    return (
        select(month, score, func.count().label("responses"))
        .where(linked_to_a_report(table), window(created, months, wall_clock=True))
        .group_by(month, score)
    )


def has_ndr_id(connection: Connection, table_name: str) -> bool:
    """Whether the table still has digideps' `ndr_id`, from the catalogue. A missing table says no here and
    is reported by the query itself, in the database's own words."""
    try:
        columns = inspect(connection).get_columns(table_name)
    except NoSuchTableError:
        return False
    return any(column["name"] == "ndr_id" for column in columns)


def counts_from_scores(responses: Mapping[int | None, int]) -> RatingCounts:
    """Responses per score as one month's counts; the rated responses are those the database counted under
    a score of 1 to 5."""
    known = {rating.column: 0 for rating in Rating}
    unknown = 0
    for score, count in responses.items():
        rating = SCORES.get(score) if score is not None else None
        if rating is None:
            unknown += count
        else:
            known[rating.column] += count
    rated = sum(count for score, count in responses.items() if score in SCORES)
    return RatingCounts(**known, unknown=unknown, rated_responses=rated)


def read_rating_counts(
    connection: Connection, months: Sequence[Month], table_name: str = "satisfaction"
) -> Answer[RatingCounts]:
    """Counts for every month asked for, checked (`calculation.counted_ratings`); a month with no responses
    gets all zeros."""
    months = contiguous(months)
    table = satisfaction_table(table_name, ndr_id=has_ndr_id(connection, table_name))
    rows = connection.execute(rating_counts_query(table, months, connection.dialect.name))
    return counted_ratings(
        ((position, score, responses) for position, score, responses in rows),
        months,
        lambda score: SCORES.get(score) if isinstance(score, int) else None,
        counts_from_scores,
    )
