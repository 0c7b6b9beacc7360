"""The Make an LPA service's database: feedback for user satisfaction, applications for a cross-check."""

from collections.abc import Sequence

from pydantic import Field
from sqlalchemy import Engine, inspect

from perfplat_assets.common.months import Month
from perfplat_assets.common.sql_source import SqlSource
from perfplat_assets.completion_rate.applications import ApplicationCounts, read_application_counts
from perfplat_assets.user_satisfaction.feedback import read_rating_counts
from perfplat_assets.user_satisfaction.scoring import RatingCounts


class MakeAnLpaDatabase(SqlSource):
    """Read with two aggregate queries only; no row, and no column but a timestamp or a rating, leaves it."""

    setting = "PERFPLAT_LPA_DB_URL"
    feedback_table: str = Field(default="feedback", description="Name of the feedback table.")
    applications_table: str = Field(default="applications", description="Name of the applications table.")

    def _embedded(self, months: Sequence[Month]) -> Engine:
        from perfplat_assets.embedded.seed import lpa_database  # the sample only, and only when asked for

        return lpa_database(self.data_dir, months)

    def rating_counts(self, months: Sequence[Month]) -> dict[Month, RatingCounts]:
        with self.connection(months) as connection:
            return read_rating_counts(connection, months, self.feedback_table)

    def application_counts(self, months: Sequence[Month]) -> dict[Month, ApplicationCounts] | None:
        """None when the database has no applications table (the cross-check then says so)."""
        with self.connection(months) as connection:
            if not inspect(connection).has_table(self.applications_table):
                return None
            return read_application_counts(connection, months, self.applications_table)
