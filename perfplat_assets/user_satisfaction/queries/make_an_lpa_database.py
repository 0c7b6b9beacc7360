"""The one query perfplat runs on the feedback table: ratings counted per month, in SQL, in one pass.

Only the rating and the received timestamp are ever touched: `message` also holds free text, email and
phone, which must never reach Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import JSON, Column, Connection, DateTime, Integer, MetaData, Select, Table, func, select
from sqlalchemy.dialects.postgresql import JSONB

from perfplat_assets.common.answers import Answer
from perfplat_assets.common.months import Month, contiguous
from perfplat_assets.common.sql import month_index, window
from perfplat_assets.user_satisfaction.calculation import Rating, RatingCounts, counted_ratings


def feedback_table(metadata: MetaData | None = None, name: str = "feedback") -> Table:
    """The service's table: `id`, `received timestamptz` (indexed), `message jsonb`."""
    return Table(
        name,
        metadata or MetaData(),
        Column("id", Integer, primary_key=True),
        Column("received", DateTime(timezone=True), nullable=False, index=True),
        Column("message", JSON().with_variant(JSONB(), "postgresql"), nullable=False),
    )


def rating_counts_query(table: Table, months: Sequence[Month], dialect: str = "postgresql") -> Select:
    """One pass over the window: responses per month (by its position in `months`) and rating."""
    months = contiguous(months)
    received = table.c.received
    month = month_index(received, months, dialect).label("month")
    rating = table.c.message["rating"].as_string().label("rating")
    return (
        select(month, rating, func.count().label("responses"))
        .where(window(received, months))
        .group_by(month, rating)
    )


def read_rating_counts(
    connection: Connection, months: Sequence[Month], table_name: str = "feedback"
) -> Answer[RatingCounts]:
    """Counts for every month asked for, checked (`calculation.counted_ratings`); a month with no feedback
    gets all zeros. The rated responses the counts are reconciled against come from the same pass: the
    responses the database counted under one of the five ratings."""
    months = contiguous(months)
    table = feedback_table(name=table_name)
    rows = connection.execute(rating_counts_query(table, months, connection.dialect.name))
    return counted_ratings(
        ((position, rating, responses) for position, rating, responses in rows),
        months,
        Rating.from_form_value,
        _counts,
    )


def _counts(responses: Mapping[str | None, int]) -> RatingCounts:
    rated = sum(n for rating, n in responses.items() if Rating.from_form_value(rating))
    return RatingCounts.from_form_values(responses, rated)
