"""Every call to the metrics store is bounded, and its failures are said as what they are.

A store that accepts connections and never answers (a TCP hop gone silent), a statement waiting for a lock
another session holds, SQLite's lock held by another writer, and a full disk (PostgreSQL answering
`disk_full`, SQLite's own SQLITE_FULL): each fails the call within its timeout (1 or 2 s here, set on the
resource as a deployment could), in one sentence naming what to fix.
"""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import DBAPIError

from perfplat_assets.common.database import failure, redacted
from perfplat_assets.common.errors import SourceUnavailable
from perfplat_assets.common.months import Month
from perfplat_assets.digital_take_up.measure import table as digital_take_up_template
from perfplat_assets.metrics_store.resources import PUBLICATION_LOCK_KEY, MetricsStore
from perfplat_assets.metrics_store.tables import service_table
from perfplat_assets_tests.support.alerts import TcpHop

MAY = Month.parse("2025-05")
digital_take_up = service_table("make_an_lpa", digital_take_up_template)  # Make an LPA's own copy
ROW = {
    "month": MAY.key,
    "digital_applications": 10,
    "total_applications": 100,
    "take_up_percent": 10.0,
    "source": "sirius",
    "note": "",
    "not_available_reason": None,
}
SETTING = "PERFPLAT_METRICS_DB_URL"


def test_a_store_that_accepts_connections_and_never_answers_costs_seconds():
    with TcpHop() as silent:
        url = f"postgresql://perfplat:canary-store-pw-31c9@127.0.0.1:{silent.port}/metrics"
        started = time.monotonic()
        with pytest.raises(SourceUnavailable) as refused:
            MetricsStore(url=url, connect_timeout_seconds=2).engine()
        took = time.monotonic() - started
    assert 2 <= took < 4, f"{took:.1f} s"
    said = str(refused.value)
    assert said.startswith(
        f"Cannot connect to the database in {SETTING} (postgresql://perfplat:***@127.0.0.1:"
    )
    assert "timeout expired" in said and said.endswith(f"answering, and that {SETTING} is right.")
    assert "canary-store-pw" not in said


def test_a_statement_waits_no_longer_than_its_timeout_but_a_publication_waits_its_turn(postgres_url):
    """Another session holds the table's lock: the write gives up after 1 s, saying so. Another publication
    holding the publication lock is waited for, past the statement timeout, which holds again after."""
    store = MetricsStore(url=postgres_url, statement_timeout_seconds=1)
    store.engine()
    other = create_engine(postgres_url).connect()
    try:
        with other.begin():
            other.execute(text(f'LOCK TABLE "{digital_take_up.name}" IN ACCESS EXCLUSIVE MODE'))
            started = time.monotonic()
            with pytest.raises(SourceUnavailable) as refused:
                store.write_months(digital_take_up, [MAY.key], [ROW])
            took = time.monotonic() - started
        assert 1 <= took < 3, f"{took:.1f} s"
        assert str(refused.value) == (
            f"The database in {SETTING} ({redacted(postgres_url)}) did not finish writing "
            f"{digital_take_up.name} in time (canceling statement due to statement timeout): check what "
            "holds its locks or loads it; nothing of this transaction was written."
        )
        other.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PUBLICATION_LOCK_KEY})
        other.commit()
        # The other publication ends after 1.5 s, longer than a statement may take.
        releasing = threading.Timer(
            1.5, lambda: other.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PUBLICATION_LOCK_KEY})
        )
        started = time.monotonic()
        releasing.start()
        with store.publication_lock() as held:
            waited = time.monotonic() - started
            assert held()
        releasing.join()
        assert waited >= 1.4, f"{waited:.1f} s"
        with store.transaction() as connection:
            assert connection.execute(text("SHOW statement_timeout")).scalar() == "1s"
    finally:
        other.close()
        other.engine.dispose()


def test_a_sqlite_store_locked_by_another_writer_fails_after_its_lock_timeout(tmp_path):
    url = f"sqlite:///{tmp_path / 'metrics.sqlite'}"
    store = MetricsStore(url=url, lock_timeout_seconds=1)
    store.engine()
    other = create_engine(url, isolation_level="AUTOCOMMIT")
    with other.connect() as connection:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        started = time.monotonic()
        with pytest.raises(SourceUnavailable) as refused:
            store.write_months(digital_take_up, [MAY.key], [ROW])
        took = time.monotonic() - started
        connection.exec_driver_sql("ROLLBACK")
    other.dispose()
    assert 1 <= took < 3, f"{took:.1f} s"
    assert str(refused.value) == (
        f"The database in {SETTING} ({url}) did not finish writing {digital_take_up.name} in time "
        "(database is locked): check what holds its locks or loads it; nothing of this transaction was "
        "written."
    )


DISK_FULL = """
CREATE FUNCTION disk_full() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'could not extend file "base/16384/16385": No space left on device'
        USING ERRCODE = 'disk_full', HINT = 'Check free disk space.';
END $$;
CREATE TRIGGER disk_full BEFORE INSERT ON "{table}" FOR EACH ROW EXECUTE FUNCTION disk_full();
"""


def test_a_full_disk_is_said_as_such(postgres_url):
    """PostgreSQL answering `disk_full` (53100), as it does when it cannot extend a table's file: the
    message says the disk is full and what to do, not that a table or column is missing."""
    store = MetricsStore(url=postgres_url)
    store.engine()
    with create_engine(postgres_url).begin() as connection:
        connection.exec_driver_sql(DISK_FULL.format(table=digital_take_up.name))
    with pytest.raises(SourceUnavailable) as refused:
        store.write_months(digital_take_up, [MAY.key], [ROW])
    assert str(refused.value) == (
        f"The database in {SETTING} ({redacted(postgres_url)}) has no disk space left for writing "
        f'{digital_take_up.name} (could not extend file "base/16384/16385": No space left on device): free '
        "space on the database's disk or grow its volume; nothing of this transaction was written."
    )


def test_a_full_sqlite_store_is_said_as_such(tmp_path):
    """SQLite's own SQLITE_FULL, met for real (a page limit standing in for the disk)."""
    url = f"sqlite:///{tmp_path / 'full.sqlite'}"
    engine = create_engine(url)
    event.listen(engine, "connect", lambda connection, _: connection.execute("PRAGMA max_page_count = 2"))
    with pytest.raises(DBAPIError) as refused, engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x TEXT)")
        connection.exec_driver_sql("INSERT INTO t VALUES (?)", ("x" * 100_000,))
    engine.dispose()
    assert failure(refused.value, SETTING, url, "writing t") == (
        f"The database in {SETTING} ({url}) has no disk space left for writing t (database or disk is full): "
        "free space on the database's disk or grow its volume; nothing of this transaction was written."
    )
