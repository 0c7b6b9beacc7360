"""The Make an LPA database and the satisfaction method schedule."""

from collections.abc import Sequence

from dagster import ConfigurableResource
from pydantic import Field
from sqlalchemy import Engine

from perfplat_assets.common.months import Month
from perfplat_assets.common.sql_source import SqlSource
from perfplat_assets.embedded import seed
from perfplat_assets.user_satisfaction.feedback import read_rating_counts
from perfplat_assets.user_satisfaction.scoring import DEFAULT_METHOD_SCHEDULE, MethodSchedule, RatingCounts


class MakeAnLpaDatabase(SqlSource):
    """The service's own database (Postgres), read for feedback ratings only."""

    setting = "PERFPLAT_LPA_DB_URL"
    feedback_table: str = Field(default="feedback", description="Name of the feedback table.")

    def _embedded(self, months: Sequence[Month]) -> Engine:
        return seed.lpa_database(self.data_dir, months)

    def rating_counts(self, months: Sequence[Month]) -> dict[Month, RatingCounts]:
        with self.connection(months) as connection:
            return read_rating_counts(connection, months, self.feedback_table)


class SatisfactionMethods(ConfigurableResource):
    """Which satisfaction method is in force from which month: `YYYY-MM:method,...`."""

    schedule: str = Field(default=DEFAULT_METHOD_SCHEDULE, description="e.g. " + DEFAULT_METHOD_SCHEDULE)

    def parsed(self) -> MethodSchedule:
        return MethodSchedule.parse(self.schedule)
