"""The PostgreSQL server the tests use: conftest's `postgres_server` and the CKAN fixture read the same
variable, so they cannot disagree."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import OperationalError

POSTGRES_URL_VARIABLE = "PERFPLAT_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> URL:
    """The server's URL, as a user that may create databases."""
    return make_url(os.environ.get(POSTGRES_URL_VARIABLE, DEFAULT_POSTGRES_URL))


def why_unreachable(url: URL) -> str | None:
    """The driver's reason the server at `url` does not answer `select 1`, or None when it does."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("select 1"))
    except OperationalError as error:
        return str(error.orig).strip()
    finally:
        engine.dispose()
    return None
