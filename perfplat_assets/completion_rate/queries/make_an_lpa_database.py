"""The Make an LPA database's own view of completion: LPAs created over LPAs started, per month.

An independent signal for the GA4 figure: it counts applications, not sessions, so it cannot exceed 100.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Column, Connection, DateTime, Integer, MetaData, Table, func, inspect, select

from perfplat_assets.common.months import Month, contiguous
from perfplat_assets.common.sql import month_bucket, window
from perfplat_assets.completion_rate.calculation import ApplicationCounts


def applications_table(name: str = "applications") -> Table:
    return Table(
        name,
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("startedAt", DateTime(timezone=True)),
        Column("createdAt", DateTime(timezone=True)),
    )


def read_application_counts(
    connection: Connection, months: Sequence[Month], table_name: str = "applications"
) -> dict[Month, ApplicationCounts]:
    """LPAs started in each month, and LPAs created in each month (by their own timestamps)."""
    months = contiguous(months)
    table = applications_table(table_name)
    counts: dict[str, dict[str, int]] = {month.key: {} for month in months}
    for kind, column in (("started", table.c.startedAt), ("created", table.c.createdAt)):
        bucket = month_bucket(column, months).label("month")
        query = (
            select(bucket, func.count().label("applications")).where(window(column, months)).group_by(bucket)
        )
        for key, applications in connection.execute(query):
            counts[key][kind] = applications
    return {month: ApplicationCounts(**counts[month.key]) for month in months}


def application_counts(
    connection: Connection, months: Sequence[Month], table_name: str = "applications"
) -> dict[Month, ApplicationCounts] | None:
    """`read_application_counts`, or None when the database has no applications table (the cross-check
    then says so)."""
    if not inspect(connection).has_table(table_name):
        return None
    return read_application_counts(connection, months, table_name)
