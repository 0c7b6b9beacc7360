"""Source tables as the real systems define them, for tests that build their own copies."""

from collections.abc import Sequence

from sqlalchemy import create_engine, insert, text

from perfplat_assets.user_satisfaction.feedback import feedback_table

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
