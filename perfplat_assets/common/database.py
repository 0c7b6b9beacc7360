"""SQLAlchemy engines for the sources and the metrics store, with errors that never reveal a password."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from perfplat_assets.common.errors import SourceUnavailable

EXPECTED_URL = "expected e.g. postgresql://user:password@host:5432/db or sqlite:////path/to/file.sqlite"


def parse_url(url: str, setting: str) -> URL:
    # SQLAlchemy's own messages repeat the whole URL, password included: never let them through.
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError(f"{setting} is not a database URL; {EXPECTED_URL}") from None
    if parsed.host and "@" in parsed.host:
        raise ValueError(f"{setting} has an '@' in its password: percent-encode it as %40")
    return parsed


def redacted(url: str | URL, setting: str = "the database URL") -> str:
    """The URL as it may appear in logs and metadata: no password."""
    return (url if isinstance(url, URL) else parse_url(url, setting)).render_as_string(hide_password=True)


def engine_for(url: str | URL, setting: str, *, write_lock_on_begin: bool = False) -> Engine:
    """An engine for `url`. `write_lock_on_begin` makes SQLite take its write lock when a transaction
    begins, so concurrent read-then-write transactions queue rather than fail as deadlocked."""
    parsed = url if isinstance(url, URL) else parse_url(url, setting)
    options: dict[str, object] = {"pool_pre_ping": True}
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite:
        # Several run processes may write the embedded SQLite files at once: wait for the lock.
        options["connect_args"] = {"timeout": 60}
    try:
        engine = create_engine(parsed, **options)
    except (NoSuchModuleError, ImportError):
        raise ValueError(
            f"{setting} names a database driver that is not installed: {redacted(parsed)}"
        ) from None
    if sqlite and write_lock_on_begin:

        @event.listens_for(engine, "connect")
        def _manual_transactions(dbapi_connection: Any, record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def first_line(error: BaseException) -> str:
    """The database's own complaint, without the statement and parameters SQLAlchemy appends."""
    original = getattr(error, "orig", None) or error
    return (str(original).strip().splitlines() or [type(original).__name__])[0]


@contextmanager
def connect(engine: Engine, setting: str, *, transaction: bool = False) -> Iterator[Connection]:
    """A connection whose failure to connect names the setting and the (redacted) address."""
    try:
        connection = engine.connect()
    except OperationalError as error:
        raise SourceUnavailable(
            f"Cannot connect to the database in {setting} ({redacted(engine.url)}): {first_line(error)}. "
            f"Check that the server is up and reachable and that {setting} is right."
        ) from None
    with connection:
        if transaction:
            with connection.begin():
                yield connection
        else:
            yield connection
