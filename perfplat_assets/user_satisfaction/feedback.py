"""The one query perfplat runs on the feedback table: ratings counted per month, in SQL.

Only the rating and the received timestamp are ever touched: `message` also holds free text, email and
phone, which must never reach Python.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import JSON, Column, Connection, DateTime, Integer, MetaData, Select, Table, func, select
from sqlalchemy.dialects.postgresql import JSONB

from perfplat_assets.common.months import Month, contiguous
from perfplat_assets.common.sql import month_bucket, window
from perfplat_assets.user_satisfaction.scoring import FORM_RATINGS, RatingCounts


def feedback_table(metadata: MetaData | None = None, name: str = "feedback") -> Table:
    """The service's table: `id`, `received timestamptz` (indexed), `message jsonb`."""
    return Table(
        name,
        metadata or MetaData(),
        Column("id", Integer, primary_key=True),
        Column("received", DateTime(timezone=True), nullable=False, index=True),
        Column("message", JSON().with_variant(JSONB(), "postgresql"), nullable=False),
    )


def rating_counts_query(table: Table, months: Sequence[Month]) -> Select:
    months = contiguous(months)
    received = table.c.received
    bucket = month_bucket(received, months).label("month")
    rating = table.c.message["rating"].as_string().label("rating")
    return (
        select(bucket, rating, func.count().label("responses"))
        .where(window(received, months))
        .group_by(bucket, rating)
    )


def rated_responses_query(table: Table, months: Sequence[Month]) -> Select:
    """Responses with one of the five ratings, counted apart from the per-rating counts to reconcile them."""
    months = contiguous(months)
    bucket = month_bucket(table.c.received, months).label("month")
    rating = table.c.message["rating"].as_string()
    return (
        select(bucket, func.count().label("responses"))
        .where(window(table.c.received, months), rating.in_(FORM_RATINGS))
        .group_by(bucket)
    )


def read_rating_counts(
    connection: Connection, months: Sequence[Month], table_name: str = "feedback"
) -> dict[Month, RatingCounts]:
    """Counts for every month asked for; a month with no feedback gets all zeros."""
    table = feedback_table(name=table_name)
    by_month: dict[str, dict[str | None, int]] = defaultdict(dict)
    for month_key, rating, responses in connection.execute(rating_counts_query(table, months)):
        by_month[month_key][rating] = by_month[month_key].get(rating, 0) + responses
    rated = {key: responses for key, responses in connection.execute(rated_responses_query(table, months))}
    return {
        month: RatingCounts.from_form_values(by_month.get(month.key, {}), rated.get(month.key, 0))
        for month in months
    }
