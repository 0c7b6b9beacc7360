"""Source databases as the real systems define them, for tests that build their own copies."""

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import create_engine, insert, text

from perfplat_assets.user_satisfaction.queries.make_an_lpa_database import feedback_table

# The Make an LPA service's own DDL, not SQLAlchemy's idea of it.
FEEDBACK_DDL = (
    "CREATE TABLE feedback (id serial PRIMARY KEY, received timestamptz NOT NULL, message jsonb NOT NULL);"
    "CREATE INDEX feedback_received ON feedback (received)"
)


def create_postgres_feedback(url: str, rows: Sequence[dict]) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in FEEDBACK_DDL.split(";"):
            connection.execute(text(statement))
        connection.execute(insert(feedback_table()), list(rows))
    engine.dispose()


def create_sqlite_feedback(path, rows: Sequence[dict]) -> str:
    """A SQLite Make an LPA database holding `rows` of feedback (JSON stored as text); returns its URL."""
    url = f"sqlite:///{path}"
    table = feedback_table()
    engine = create_engine(url)
    table.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(table), list(rows))
    engine.dispose()
    return url


def feedback(received: datetime, rating: str | None, **personal: str) -> dict:
    message: dict[str, str] = dict(personal)
    if rating is not None:
        message["rating"] = rating
    return {"received": received, "message": message}


def create_sirius(url: str, cases: Sequence[tuple[str, date, str | None]]) -> None:
    """A Sirius `cases` table on the default contract, holding (case_type, receipt_date, online_lpa_id)."""
    engine = create_engine(url)
    with engine.begin() as connection:
        key = "serial PRIMARY KEY" if connection.dialect.name == "postgresql" else "integer PRIMARY KEY"
        connection.execute(
            text(f"CREATE TABLE cases (id {key}, case_type text, receipt_date date, online_lpa_id text)")
        )
        connection.execute(
            text(
                "INSERT INTO cases (case_type, receipt_date, online_lpa_id) VALUES (:kind, :received, :ref)"
            ),
            [{"kind": k, "received": d, "ref": r} for k, d, r in cases],
        )
    engine.dispose()
