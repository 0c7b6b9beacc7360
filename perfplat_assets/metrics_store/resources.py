"""The metrics store: SQLite under PERFPLAT_DATA_DIR by default, Postgres in production."""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagster import ConfigurableResource
from pydantic import Field, PrivateAttr
from sqlalchemy import (
    Boolean,
    Connection,
    Engine,
    Float,
    Integer,
    Table,
    delete,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from perfplat_assets.common.columns import from_row, to_row
from perfplat_assets.common.database import (
    Timeouts,
    audit_rights_with,
    connect,
    engine_for,
    failure,
    redacted,
)
from perfplat_assets.common.errors import SourceUnavailable
from perfplat_assets.common.months import Month
from perfplat_assets.common.sql_source import DEFAULT_DATA_DIR
from perfplat_assets.metrics_store.rights import missing_columns, missing_rights
from perfplat_assets.metrics_store.tables import STORED_ASSETS, metadata, table_name, templates

if TYPE_CHECKING:
    import pandas as pd

SETTING = "PERFPLAT_METRICS_DB_URL"
log = logging.getLogger(__name__)
# Postgres advisory lock key of the publication: one publisher at a time per store.
PUBLICATION_LOCK_KEY = 0x70657266  # "perf"
SCHEMA_LOCK_KEY = 0x70657267
_DTYPES = {Integer: "Int64", Float: "Float64", Boolean: "boolean"}

# A refused right names the setting and every right the role lacks, wherever the store is used.
audit_rights_with(SETTING, missing_rights)


def _frame(table: Table, rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    import pandas as pd  # a table for people: only `read` draws one

    frame = pd.DataFrame([dict(row) for row in rows], columns=list(table.columns.keys()))
    for column in table.columns:
        dtype = next((d for kind, d in _DTYPES.items() if isinstance(column.type, kind)), None)
        if dtype:
            frame[column.name] = frame[column.name].astype(dtype)
    return frame


def _add_missing_columns(connection: Connection) -> None:
    """A store made by an earlier perfplat gains the (nullable) columns added since; nothing is dropped."""
    for table, columns in missing_columns(connection).items():
        for column in columns:
            kind = column.type.compile(dialect=connection.dialect)
            connection.execute(text(f'ALTER TABLE "{table}" ADD COLUMN "{column.name}" {kind}'))


def _carry_over(connection: Connection, service: str) -> list[str]:
    """A store written before services were declared keeps one service's tables under the templates' own
    names (`published_records`): each is renamed to that service's (`<service>__published_records`), rows,
    keys and all, unless the service has its own already. Returns what moved."""
    present = set(inspect(connection).get_table_names())
    moved = []
    for template in templates.tables:
        own = table_name(service, template)
        if template in present and own not in present:
            connection.execute(text(f'ALTER TABLE "{template}" RENAME TO "{own}"'))
            moved.append(f"{template} -> {own}")
    return moved


def _create_schema(connection: Connection, carry_over_to: str | None) -> list[str]:
    """The tables, created or upgraded, once: the steps of a run start at once, and on a fresh store only
    one may create them. Returns the tables carried over to `carry_over_to` (`_carry_over`)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK_KEY})
    moved = _carry_over(connection, carry_over_to) if carry_over_to else []
    metadata.create_all(connection)
    _add_missing_columns(connection)
    return moved


# The stores (their URL, and the tables known) whose schema this process has made or upgraded.
_SCHEMAS_MADE: set[tuple[str, tuple[str, ...]]] = set()


class MetricsStore(ConfigurableResource):
    """Where every month's results are kept. Writing a month replaces it, in one transaction."""

    url: str | None = Field(default=None, description="SQLAlchemy URL; unset: SQLite in data_dir.")
    data_dir: str = Field(default=DEFAULT_DATA_DIR, description="Home of the embedded default's files.")
    carry_over_to: str | None = Field(
        default=None,
        description="The service that a store written before services were declared belongs to: its "
        "tables are carried over to that service's on first use.",
    )
    # Every call to the store is bounded (see `Timeouts`), so that a store that accepts connections and never
    # answers costs a sensor tick seconds, not minutes: connecting plus one statement stays within 20 s of
    # Dagster's 60-second sensor deadline, and a tick stops calling a store that failed it once. A run's
    # statements are small and quick; the one long wait, for another publication's lock, is exempt.
    connect_timeout_seconds: int = Field(
        default=5, description="PostgreSQL: how long connecting may take (libpq's connect_timeout)."
    )
    statement_timeout_seconds: float = Field(
        default=15.0, description="PostgreSQL: how long one statement may take, lock waits included."
    )
    lock_timeout_seconds: float = Field(
        default=15.0, description="SQLite: how long a write waits for another writer's lock."
    )

    _engine: Engine | None = PrivateAttr(default=None)

    def engine(self) -> Engine:
        if self._engine is None:
            url = self.url or f"sqlite:///{Path(self.data_dir).resolve() / 'metrics.sqlite'}"
            if not self.url:
                Path(self.data_dir).mkdir(parents=True, exist_ok=True)
            engine = engine_for(url, SETTING, write_lock_on_begin=True, timeouts=self.timeouts)
            # A process makes the schema of a store once, for the tables it knows (a run's steps each build
            # the resource again; a service's tables made later are made then).
            made = (engine.url.render_as_string(hide_password=False), tuple(sorted(metadata.tables)))
            try:
                moved = []
                if made not in _SCHEMAS_MADE:
                    with connect(engine, SETTING, transaction=True) as connection:
                        moved = _create_schema(connection, self.carry_over_to)
                    _SCHEMAS_MADE.add(made)
            except DBAPIError as error:
                engine.dispose()
                raise SourceUnavailable(
                    failure(error, SETTING, engine.url, "creating or upgrading perfplat's tables")
                ) from None
            self._engine = engine
            if moved:
                log.warning(
                    f"The metrics store was written before services were declared: its tables are now "
                    f"{self.carry_over_to}'s, nothing else changed ({', '.join(moved)})"
                )
        return self._engine

    @property
    def timeouts(self) -> Timeouts:
        return Timeouts(
            self.connect_timeout_seconds, self.statement_timeout_seconds, self.lock_timeout_seconds
        )

    @property
    def call_seconds(self) -> float:
        """The longest one store call can wait before it fails, whichever the database: connecting and one
        statement (PostgreSQL), or another writer's lock (SQLite)."""
        return max(self.connect_timeout_seconds + self.statement_timeout_seconds, self.lock_timeout_seconds)

    @contextmanager
    def _worded(self, doing: str) -> Iterator[None]:
        """A database error as one sentence naming the setting (and any missing right), not a traceback."""
        try:
            yield
        except DBAPIError as error:
            raise SourceUnavailable(failure(error, SETTING, self.engine().url, doing)) from None

    def describe(self) -> str:
        return redacted(self.engine().url)

    @contextmanager
    def transaction(self, *, exclusive: Table | None = None, commit: bool = True) -> Iterator[Connection]:
        """A transaction; with `exclusive`, concurrent writers of that table wait their turn. With
        `commit=False` everything done in it is rolled back at the end (a dry run)."""
        with connect(self.engine(), SETTING) as connection:
            transaction = connection.begin()
            try:
                if exclusive is not None and connection.dialect.name == "postgresql":
                    connection.execute(text(f'LOCK TABLE "{exclusive.name}" IN SHARE ROW EXCLUSIVE MODE'))
                yield connection
            except BaseException:
                transaction.rollback()
                raise
            if commit:
                transaction.commit()
            else:
                transaction.rollback()

    @contextmanager
    def publication_lock(self) -> Iterator[Callable[[], bool]]:
        """Held for a whole publication, so that one publisher at a time writes the targets. Yields a
        check that says whether the lock is still held: on Postgres it lives on a connection of its own,
        which a terminated backend takes with it; on SQLite it is a file lock beside the database."""
        engine = self.engine()
        if engine.dialect.name == "postgresql":
            with connect(engine, SETTING) as connection:
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
                # Waiting for another publication to finish is no hung statement: no timeout on the wait.
                connection.execute(text("SET statement_timeout = 0"))
                try:
                    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PUBLICATION_LOCK_KEY})
                except BaseException:
                    connection.invalidate()  # never back to the pool without its statement timeout
                    raise
                connection.execute(text("RESET statement_timeout"))

                lost: list[bool] = []

                def held() -> bool:
                    if not lost:
                        try:
                            connection.execute(text("SELECT 1"))
                        except SQLAlchemyError:
                            lost.append(True)
                    return not lost

                try:
                    yield held
                finally:
                    if held():
                        connection.execute(
                            text("SELECT pg_advisory_unlock(:key)"), {"key": PUBLICATION_LOCK_KEY}
                        )
            return
        database = engine.url.database
        if not database or database == ":memory:":
            yield lambda: True
            return
        with open(f"{database}.publication-lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield lambda: True
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def replace_months(
        self, connection: Connection, table: Table, months: Sequence[str], rows: Sequence[dict[str, Any]]
    ) -> None:
        """Delete-then-insert: the months' previous rows go, the new ones arrive, atomically."""
        stray = {row["month"] for row in rows} - set(months)
        if stray:
            raise ValueError(f"rows for {sorted(stray)} cannot be written in a run for {list(months)}")
        connection.execute(delete(table).where(table.c.month.in_(months)))
        if rows:
            connection.execute(insert(table), list(rows))

    def write_months(self, table: Table, months: Sequence[str], rows: Sequence[dict[str, Any]]) -> list[str]:
        """Replace the months' rows, except where the source now has nothing for a month whose figures are
        stored: those are kept, and returned. The service deletes feedback after two years; this store is
        the history, and a re-run or a backfill must not erase it."""
        with self._worded(f"writing {table.name}"), self.transaction(exclusive=table) as connection:
            kept: list[str] = []
            if "not_available_reason" in table.c:
                stored = select(table.c.month).where(
                    table.c.month.in_(months), table.c.not_available_reason.is_(None)
                )
                available = set(connection.execute(stored).scalars())
                kept = sorted(
                    r["month"] for r in rows if r.get("not_available_reason") and r["month"] in available
                )
            self.replace_months(
                connection,
                table,
                [m for m in months if m not in kept],
                [r for r in rows if r["month"] not in kept],
            )
            return kept

    def save(self, asset: str, months: Sequence[Month], figures: Sequence[Any]) -> list[Month]:
        """Store an asset's months in its table (`asset`: the table's name, `<service>__<asset>`) with
        `write_months`; the months whose stored figures were kept."""
        table, _ = STORED_ASSETS[asset]
        kept = self.write_months(table, [m.key for m in months], [to_row(item) for item in figures])
        return [Month.parse(key) for key in kept]

    def load(self, asset: str, months: Sequence[Month]) -> list[Any]:
        """An asset's stored figures for `months`, in month order."""
        table, kind = STORED_ASSETS[asset]
        return [from_row(kind, row) for row in self.rows(table, [m.key for m in months])]

    def rows(
        self, table: Table, months: Sequence[str] | None = None, connection: Connection | None = None
    ) -> list[Mapping[str, Any]]:
        """The rows of `months` (all months when None), ordered by the primary key."""
        query = select(table).order_by(*table.primary_key.columns)
        if months is not None:
            query = query.where(table.c.month.in_(months))
        with self._worded(f"reading {table.name}"):
            if connection is not None:
                return list(connection.execute(query).mappings().all())
            with connect(self.engine(), SETTING) as own:
                return list(own.execute(query).mappings().all())

    def read(self, table: Table, months: Sequence[str] | None = None) -> pd.DataFrame:
        """The rows as a table for people (a notebook, a test), typed by the table's columns."""
        return _frame(table, self.rows(table, months))
