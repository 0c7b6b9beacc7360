"""The Make an LPA database's own view of completion: LPAs created over LPAs started, per month.

An independent signal for the GA4 figure: it counts applications, not sessions, so it cannot exceed 100.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Column, Connection, DateTime, Integer, MetaData, Table, func, select

from perfplat_assets.common.months import Month, contiguous
from perfplat_assets.common.rounding import percentage
from perfplat_assets.common.sql import month_bucket, window


@dataclass(frozen=True)
class ApplicationCounts:
    started: int = 0
    created: int = 0

    def as_row(self) -> dict[str, int | float | None]:
        """The database's own completion figure, stored beside GA4's: LPAs created per 100 started."""
        rate = float(percentage(self.created, self.started, 1)) if self.started else None
        return {
            "database_lpas_started": self.started,
            "database_lpas_created": self.created,
            "database_completion_rate_percent": rate,
        }


# When the database has no applications table to compare with.
NO_DATABASE_FIGURE: dict[str, int | float | None] = dict.fromkeys(
    ("database_lpas_started", "database_lpas_created", "database_completion_rate_percent")
)


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
