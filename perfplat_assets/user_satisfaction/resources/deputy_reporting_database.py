"""digideps' API database: the source of Complete the deputy report's user satisfaction."""

from collections.abc import Sequence

from pydantic import Field

from perfplat_assets.common.months import Month
from perfplat_assets.common.sql_source import SqlSource
from perfplat_assets.user_satisfaction.calculation import RatingCounts
from perfplat_assets.user_satisfaction.queries.deputy_reporting_database import read_rating_counts


class DeputyReportingDatabase(SqlSource):
    """The digideps API database (ministryofjustice/opg-digideps), through a read-only role; only the
    aggregate query reads it, and no row, nor the `comments` column, leaves it. The role needs SELECT on
    `score`, `created_at`, `report_id` (and `ndr_id` while the table has it) and nothing else: a column
    grant that leaves `comments` out is enough."""

    setting = "PERFPLAT_DEPUTY_REPORTING_DB_URL"
    satisfaction_table: str = Field(
        default="satisfaction", description="Name of digideps' satisfaction table."
    )

    def rating_counts(self, months: Sequence[Month]) -> dict[Month, RatingCounts]:
        """Responses linked to a report, per London month and rating, in one read-only transaction."""
        with self.connection(months) as connection:
            return read_rating_counts(connection, months, self.satisfaction_table)
