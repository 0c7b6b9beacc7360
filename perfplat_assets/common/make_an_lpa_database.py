"""The Make an LPA service's database: feedback for user satisfaction, applications for a cross-check."""

from collections.abc import Callable, Sequence
from typing import TypeVar

from pydantic import Field
from sqlalchemy import Connection

from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service
from perfplat_assets.common.settings import Settings, database_url, is_set, service_variable
from perfplat_assets.common.sql_source import SqlSource

Answer = TypeVar("Answer")


class MakeAnLpaDatabase(SqlSource):
    """Read with each measure's aggregate query only; no row, and no column but a timestamp or a rating,
    leaves it.

    It serves two measures, so it sits with what they share and runs the query each measure keeps beside
    itself (`read`): the database imports neither measure, and neither measure imports the other.
    """

    setting = "PERFPLAT_MAKE_AN_LPA_DB_URL"  # PERFPLAT_LPA_DB_URL before perfplat published several services
    feedback_table: str = Field(default="feedback", description="Name of the feedback table.")
    applications_table: str = Field(default="applications", description="Name of the applications table.")

    def read(
        self,
        query: Callable[[Connection, Sequence[Month], str], Answer],
        months: Sequence[Month],
        table: str,
    ) -> Answer:
        """`query`'s answer on the table named `table` for `months`, in one read-only transaction."""
        with self.connection(months) as connection:
            return query(connection, months, table)


def make_an_lpa_database(settings: Settings, service: Service) -> MakeAnLpaDatabase:
    """The service's database at PERFPLAT_MAKE_AN_LPA_DB_URL (its earlier name PERFPLAT_LPA_DB_URL works
    too), else the embedded default's copy: the source two measures read, built alike for each."""
    url = service_variable(service, "DB_URL", legacy="PERFPLAT_LPA_DB_URL")
    return settings.source(MakeAnLpaDatabase, is_set(url), url=database_url(url), variable=url)
