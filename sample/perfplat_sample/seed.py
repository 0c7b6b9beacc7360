"""SQLite stand-ins for the Make an LPA database, Sirius and digideps, seeded lazily, one month at a time.

A month is seeded the first time something asks for it, so the files never need rebuilding as months
close. Concurrent runs are safe: claiming a month and seeding it happen in one write transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import (
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from perfplat_assets.common.database import engine_for
from perfplat_assets.common.months import Month, last_closed_month
from perfplat_assets.digital_take_up.queries.sirius import DEFAULT_CONTRACT as SIRIUS
from perfplat_sample.sample_data import sample_cases, sample_feedback, sample_satisfaction, sample_sessions

LPA_DATABASE_FILE = "make-an-lpa.sqlite"
SIRIUS_DATABASE_FILE = "sirius.sqlite"
DEPUTY_REPORTING_DATABASE_FILE = "digideps.sqlite"

_lpa = MetaData()
feedback = Table(
    "feedback",
    _lpa,
    Column("id", Integer, primary_key=True),
    Column("received", DateTime(timezone=True), nullable=False, index=True),
    # SQLite has no jsonb: the service's JSON document is stored as text, as SQLAlchemy's JSON type does.
    Column("message", Text, nullable=False),
)
applications = Table(
    "applications",
    _lpa,
    Column("id", Integer, primary_key=True),
    Column("startedAt", DateTime(timezone=True), index=True),
    Column("createdAt", DateTime(timezone=True), index=True),
    Column("completedAt", DateTime(timezone=True)),
)
_lpa_seeded = Table("sample_months", _lpa, Column("month", String, primary_key=True))

_sirius = MetaData()
# The sample holds the contract perfplat assumes by default.
cases = Table(
    SIRIUS.table,
    _sirius,
    Column("id", Integer, primary_key=True),
    Column(SIRIUS.case_type_column, String, nullable=False),
    Column(SIRIUS.receipt_date_column, Date, nullable=False, index=True),
    Column(SIRIUS.online_id_column, String),
)
_sirius_seeded = Table("sample_months", _sirius, Column("month", String, primary_key=True))

_digideps = MetaData()
# digideps' table as its migrations leave it before April 2026 (Version310 then drops `ndr_id`).
# `created_at` is London wall-clock time without an offset, as digideps writes it; SQLite compares it as
# SQLAlchemy's DateTime text, which the query's bounds are rendered in too.
satisfaction = Table(
    "satisfaction",
    _digideps,
    Column("id", Integer, primary_key=True),
    Column("score", Integer, nullable=False),
    Column("deputy_role", String(50)),
    Column("report_type", String(9)),
    Column("created_at", DateTime(timezone=False), nullable=False),
    Column("comments", String(1200)),
    Column("report_id", Integer, unique=True),
    Column("ndr_id", Integer, unique=True),
)
_digideps_seeded = Table("sample_months", _digideps, Column("month", String, primary_key=True))


def _utc(moment: datetime) -> datetime:
    """SQLite keeps no offset: the sample stores UTC, as the queries compare in UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def _seed_feedback(connection: Connection, month: Month) -> None:
    rows = [
        {"received": _utc(item.received), "message": json.dumps(item.message())}
        for item in sample_feedback(month)
    ]
    connection.execute(insert(feedback), rows)
    created = []
    for session in sample_sessions(month):
        if session.started_lpa:
            started = session.started_at
            made = session.created_lpa
            created.append(
                {
                    "startedAt": _utc(started),
                    "createdAt": _utc(started + timedelta(minutes=14)) if made else None,
                    "completedAt": None,
                }
            )
    if created:
        connection.execute(insert(applications), created)


def _seed_cases(connection: Connection, month: Month) -> None:
    rows = [
        {
            SIRIUS.case_type_column: case.case_type,
            SIRIUS.receipt_date_column: case.receipt_date,
            SIRIUS.online_id_column: case.online_lpa_id,
        }
        for case in sample_cases(month)
    ]
    connection.execute(insert(cases), rows)


def _seed_satisfaction(connection: Connection, month: Month) -> None:
    rows = [
        {
            "score": row.score,
            "deputy_role": row.deputy_role,
            "report_type": row.report_type,
            "created_at": row.created_at,
            "comments": row.comments,
            "report_id": row.report_id,
            "ndr_id": row.ndr_id,
        }
        for row in sample_satisfaction(month)
    ]
    if rows:
        connection.execute(insert(satisfaction), rows)


def _ensure(
    path: Path,
    metadata: MetaData,
    seeded: Table,
    seed_month: Callable[[Connection, Month], None],
    months: Iterable[Month],
) -> Engine:
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = engine_for(f"sqlite:///{path}", str(path))
    metadata.create_all(engine)
    with engine.begin() as connection:
        for month in sorted(set(months)):
            claim = sqlite_insert(seeded).values(month=month.key).on_conflict_do_nothing()
            if connection.execute(claim).rowcount:
                seed_month(connection, month)
    return engine


def lpa_database(data_dir: str | Path, months: Sequence[Month]) -> Engine:
    """The sample Make an LPA database, holding at least `months`."""
    return _ensure(Path(data_dir) / LPA_DATABASE_FILE, _lpa, _lpa_seeded, _seed_feedback, months)


def sirius_database(data_dir: str | Path, months: Sequence[Month]) -> Engine:
    """The sample Sirius database, holding at least `months`."""
    return _ensure(Path(data_dir) / SIRIUS_DATABASE_FILE, _sirius, _sirius_seeded, _seed_cases, months)


def deputy_reporting_database(data_dir: str | Path, months: Sequence[Month]) -> Engine:
    """The sample digideps database, holding at least those of `months` that have closed: a month still
    open is neither seeded nor claimed, so it is seeded whole once it closes."""
    closed = [month for month in months if month <= last_closed_month()]
    path = Path(data_dir) / DEPUTY_REPORTING_DATABASE_FILE
    return _ensure(path, _digideps, _digideps_seeded, _seed_satisfaction, closed)
