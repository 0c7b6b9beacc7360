"""SQLAlchemy engines for the sources and the metrics store, with errors that never reveal a password."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError, SQLAlchemyError

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


def _secret_key(name: str) -> bool:
    """Query parameters that carry secrets: password, passwd, sslpassword and the like, tokens, and
    libpq's `options`, which can carry any setting."""
    lowered = name.lower()
    return lowered == "options" or any(mark in lowered for mark in ("pass", "pwd", "secret", "token"))


def redacted(url: str | URL, setting: str = "the database URL") -> str:
    """The URL as it may appear in logs, metadata and errors: no password, wherever it was given."""
    parsed = url if isinstance(url, URL) else parse_url(url, setting)
    query = {key: ("***" if _secret_key(key) else value) for key, value in parsed.query.items()}
    return parsed.set(query=query).render_as_string(hide_password=True).replace("%2A%2A%2A", "***")


def secrets_in(url: str | URL) -> list[str]:
    """Every secret value the URL holds, as given and percent-encoded."""
    try:
        parsed = url if isinstance(url, URL) else make_url(url)
    except (ArgumentError, ValueError):
        return []
    values = [parsed.password or ""]
    for key, value in parsed.query.items():
        if _secret_key(key):
            values += [value] if isinstance(value, str) else list(value)
    found = {text for value in values if value for text in (str(value), quote(str(value), safe=""))}
    return sorted(found, key=len, reverse=True)


def scrubbed(text: str, url: str | URL) -> str:
    """`text` with every secret of `url` replaced: for a driver's message that echoes its parameters."""
    for secret in secrets_in(url):
        text = text.replace(secret, "***")
    return text


_LOST_CONNECTION = (
    "server closed the connection",
    "terminating connection",
    "connection already closed",
    "connection has been closed",
    "could not receive data",
    "connection was closed",
    "consuming input failed",
)


@dataclass(frozen=True)
class MissingRight:
    """A right a database role lacks, in words (`what`) and as the statement that gives it (`remedy`)."""

    what: str
    remedy: str


# Per setting, what its role lacks, asked of the database itself: an insufficient_privilege names only the
# first refusal, and an administrator wants every missing right at once.
RightsAudit = Callable[[Connection], list[MissingRight]]
_RIGHTS_AUDITS: dict[str, RightsAudit] = {}


def audit_rights_with(setting: str, audit: RightsAudit) -> None:
    """Have `failure` list what `setting`'s role lacks, by `audit`, when the database refuses a right."""
    _RIGHTS_AUDITS[setting] = audit


def insufficient_privilege(error: BaseException) -> bool:
    """PostgreSQL's SQLSTATE 42501, as psycopg 3 (`sqlstate`) or psycopg2 (`pgcode`) reports it."""
    original = getattr(error, "orig", None)
    return "42501" in (getattr(original, "sqlstate", None), getattr(original, "pgcode", None))


def _missing_rights(setting: str, url: str | URL) -> list[MissingRight]:
    """What the role lacks, asked on a connection of its own (the failed one is done for); nothing when
    there is no audit for `setting` or the database cannot answer."""
    audit = _RIGHTS_AUDITS.get(setting)
    if audit is None:
        return []
    # Bounded like the store's own calls: a database that stops answering after a refusal costs seconds.
    bounded = Timeouts(connect_seconds=5, statement_seconds=15, lock_seconds=15)
    engine = engine_for(url, setting, timeouts=bounded)
    try:
        with engine.connect() as connection:
            return audit(connection)
    except SQLAlchemyError:
        return []
    finally:
        engine.dispose()


def _refused_right(detail: str, setting: str, url: str | URL, doing: str) -> str:
    parsed = url if isinstance(url, URL) else parse_url(url, setting)
    role = f"The role {parsed.username}" if parsed.username else "The database role"
    where = f"{role} in {setting} ({redacted(parsed)})"
    missing = _missing_rights(setting, parsed)
    if not missing:
        return f"{where} lacks a right needed for {doing}: {detail}. Have an administrator grant it."
    return (
        f"{where} lacks rights perfplat needs ({doing} was refused: {detail}): "
        f"{'; '.join(right.what for right in missing)}. An administrator can give them: "
        f"{' '.join(right.remedy for right in missing)}"
    )


def _sqlstate(error: BaseException) -> str:
    """PostgreSQL's SQLSTATE, as psycopg 3 (`sqlstate`) or psycopg2 (`pgcode`) reports it; "" for none."""
    original = getattr(error, "orig", None)
    return str(getattr(original, "sqlstate", None) or getattr(original, "pgcode", None) or "")


def _kind(error: DBAPIError, detail: str) -> str:
    """What a database error is, by SQLSTATE (PostgreSQL) or by SQLite's own words."""
    state, lowered = _sqlstate(error), detail.lower()
    if state == "53100" or "database or disk is full" in lowered or "no space left on device" in lowered:
        return "disk full"
    if state.startswith("53"):  # out of memory, too many connections, other resources
        return "resources"
    if (state == "57014" and "timeout" in lowered) or state == "55P03" or "database is locked" in lowered:
        return "timeout"
    if error.connection_invalidated or any(mark in lowered for mark in _LOST_CONNECTION):
        return "lost"
    if state.startswith("42") or "no such table" in lowered or "no such column" in lowered:
        return "schema"
    return "other"


def failure(error: DBAPIError, setting: str, url: str | URL, doing: str) -> str:
    """What went wrong, by kind, in one sentence naming what to fix: a full disk, a database that did not
    answer in time, a lost connection and a missing right are not schema problems."""
    detail = scrubbed(first_line(error), url).rstrip(". ")
    where = f"The database in {setting} ({redacted(url)})"
    if insufficient_privilege(error):
        return _refused_right(detail, setting, url, doing)
    match _kind(error, detail):
        case "disk full":
            return (
                f"{where} has no disk space left for {doing} ({detail}): free space on the database's disk "
                "or grow its volume; nothing of this transaction was written."
            )
        case "resources":
            return f"{where} ran out of resources while {doing} ({detail}): check its memory and connections."
        case "timeout":
            return (
                f"{where} did not finish {doing} in time ({detail}): check what holds its locks or loads it; "
                "nothing of this transaction was written."
            )
        case "lost":
            return (
                f"The connection to the database in {setting} ({redacted(url)}) was lost while {doing}: "
                f"{detail}. Nothing was read from a half-done query; re-run once the database is reachable."
            )
        case "schema":
            return (
                f"{where} refused {doing}: {detail}. Check that {setting} names the right database and that "
                "its tables and columns are as configured."
            )
    return f"{where} failed while {doing}: {detail}."


@dataclass(frozen=True)
class Timeouts:
    """How long one call to a database may wait, so that a database that accepts connections and never
    answers costs seconds, not the minutes of the operating system's own TCP timeouts. PostgreSQL: the
    whole connection (TCP, TLS and authentication: libpq's `connect_timeout`, whole seconds, at least 2)
    and each statement, lock waits included (`statement_timeout`, sent as `options=-c ...`, so that it
    holds for every session the pool opens). SQLite has no statement timeout, and a local file has nothing
    to connect to: its wait is for another writer's lock (the busy timeout). A URL that sets
    `connect_timeout` or a `statement_timeout` in `options` itself keeps its own."""

    connect_seconds: int
    statement_seconds: float
    lock_seconds: float


def _postgres_timeouts(parsed: URL, timeouts: Timeouts) -> dict[str, object]:
    """libpq's connection parameters for `timeouts`, alongside whatever `options` the URL gives."""
    given = parsed.query.get("options")
    options = " ".join(given) if isinstance(given, tuple) else (given or "")
    args: dict[str, object] = {}
    if "connect_timeout" not in parsed.query:
        args["connect_timeout"] = max(2, int(timeouts.connect_seconds))
    if "statement_timeout" not in options:
        milliseconds = int(timeouts.statement_seconds * 1000)
        args["options"] = f"{options} -c statement_timeout={milliseconds}".strip()
    return args


def engine_for(
    url: str | URL, setting: str, *, write_lock_on_begin: bool = False, timeouts: Timeouts | None = None
) -> Engine:
    """An engine for `url`. `write_lock_on_begin` makes SQLite take its write lock when a transaction
    begins, so concurrent read-then-write transactions queue rather than fail as deadlocked. `timeouts`
    bound every call (see `Timeouts`); without them, SQLite waits up to 60 s for a lock and PostgreSQL as
    long as the driver does."""
    parsed = url if isinstance(url, URL) else parse_url(url, setting)
    options: dict[str, object] = {"pool_pre_ping": True}
    backend = parsed.get_backend_name()
    sqlite = backend == "sqlite"
    if sqlite:
        # Several run processes may write the embedded SQLite files at once: wait for the lock.
        options["connect_args"] = {"timeout": timeouts.lock_seconds if timeouts else 60}
    elif backend == "postgresql" and timeouts is not None:
        options["connect_args"] = _postgres_timeouts(parsed, timeouts)
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
            f"Cannot connect to the database in {setting} ({redacted(engine.url)}): "
            f"{scrubbed(first_line(error), engine.url).rstrip('. ')}. Check that the server is up, reachable "
            f"and answering, and that {setting} is right."
        ) from None
    with connection:
        if transaction:
            with connection.begin():
                yield connection
        else:
            yield connection
