"""SQLAlchemy engines for the sources and the metrics store, with errors that never reveal a password."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError


class SourceUnavailable(RuntimeError):
    """A configured database could not be reached; the message says which and how to fix it."""


def parse_url(url: str, setting: str) -> URL:
    try:
        return make_url(url)
    except ArgumentError:
        # SQLAlchemy's own message repeats the whole URL, password included.
        raise ValueError(
            f"{setting} is not a database URL; expected e.g. postgresql://user:password@host:5432/db "
            "or sqlite:////path/to/file.sqlite"
        ) from None


def redacted(url: str | URL) -> str:
    """The URL as it may appear in logs and metadata: no password."""
    return (url if isinstance(url, URL) else make_url(url)).render_as_string(hide_password=True)


def engine_for(url: str | URL, setting: str) -> Engine:
    parsed = url if isinstance(url, URL) else parse_url(url, setting)
    options: dict[str, object] = {"pool_pre_ping": True}
    if parsed.get_backend_name() == "sqlite":
        # Several run processes may write the embedded SQLite files at once: wait for the lock.
        options["connect_args"] = {"timeout": 60}
    try:
        return create_engine(parsed, **options)
    except NoSuchModuleError:
        raise ValueError(
            f"{setting} names a database driver that is not installed: {redacted(parsed)}"
        ) from None


@contextmanager
def connect(engine: Engine, setting: str, *, transaction: bool = False) -> Iterator[Connection]:
    """A connection whose failure to connect names the setting and the (redacted) address."""
    try:
        connection = engine.connect()
    except OperationalError as error:
        raise SourceUnavailable(
            f"Cannot connect to the database in {setting} ({redacted(engine.url)}): "
            f"{str(error.orig).strip().splitlines()[0] if error.orig else error}. "
            f"Check that the server is up and reachable and that {setting} is right."
        ) from None
    with connection:
        if transaction:
            with connection.begin():
                yield connection
        else:
            yield connection
