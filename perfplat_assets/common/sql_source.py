"""A source database reached through SQLAlchemy (the embedded sample's SQLite copies: `perfplat_sample`)."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from pydantic import Field
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from perfplat_assets.common.database import connect, engine_for, failure, redacted
from perfplat_assets.common.errors import SourceUnavailable
from perfplat_assets.common.months import Month
from perfplat_assets.common.sources import SourceResource

DEFAULT_DATA_DIR = ".perfplat"


class SqlSource(SourceResource):
    url: str | None = Field(default=None, description="SQLAlchemy URL, from the source's setting.")

    @property
    def embedded(self) -> bool:
        return False

    @property
    def sample_setting(self) -> str | None:
        """Without a URL there are no figures at all: the guard names the setting all the same."""
        return None if self.url else self.setting_name

    def _engine(self, months: Sequence[Month]) -> Engine:
        """The database holding `months` (the embedded sample seeds them first)."""
        return engine_for(self.url or "", self.setting_name)

    @contextmanager
    def connection(self, months: Sequence[Month]) -> Iterator[Connection]:
        """A read-only transaction on the source for `months`.

        On Postgres it is REPEATABLE READ, so the queries of one run see one snapshot and reconcile.
        A query the database refuses (a missing table or column) is reported with the setting to check.
        """
        engine = self._engine(months)
        try:
            with connect(engine, self.setting_name) as connection:
                if connection.dialect.name == "postgresql":
                    connection.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
                with connection.begin():
                    yield connection
        except DBAPIError as error:
            raise SourceUnavailable(
                failure(error, self.setting_name, engine.url, "perfplat's query")
            ) from None
        finally:
            engine.dispose()

    def describe(self) -> str:
        """For metadata and logs: where the figures came from, without credentials."""
        return redacted(self.url or "", self.setting_name)

    def table_named(self, table: str) -> str:
        """A table of it as a message about the table's answer names it: the table, and the setting naming
        the database (never its URL, which may hold a password)."""
        return f"the {table} table of the database at {self.setting_name}"
