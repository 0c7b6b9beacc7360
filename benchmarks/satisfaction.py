"""Satisfaction benchmark: perfplat's rating query against a bare GROUP BY, on a feedback table shaped like
the service's (10 million rows by default: jsonb holding a rating, free text, email and phone; indexed on
`received`), in the local Postgres.

The table is built once in the database `perfplat_bench_<rows>` (reused while it holds that many rows).
One month and a 24-month range are each timed, in one run, against a bare
`SELECT message->>'rating', count(*) ... WHERE received in the window GROUP BY 1`, best of a few runs after
a warm-up. The peak memory is Python's own allocation while perfplat reads the counts (tracemalloc), so it
shows whether it grows with the rows: the counting stays in the database.

    .venv/bin/python benchmarks/satisfaction.py [--rows 10000000] [--url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import platform
import time
import tracemalloc
from collections.abc import Callable

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine, make_url

from perfplat_assets.common.months import Month, months_between
from perfplat_assets.user_satisfaction.queries.make_an_lpa_database import read_rating_counts

SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DATABASE = "perfplat_bench_{rows}"  # one database per table size, each built once
FIRST, LAST = Month.parse("2024-11"), Month.parse("2026-10")  # 24 months; rows spread over 30
ONE_MONTH = Month.parse("2026-03")


def _database(server: str, rows: int) -> Engine:
    name = DATABASE.format(rows=rows)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists.scalar():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return create_engine(make_url(server).set(database=name))


def _build(engine: Engine, rows: int) -> None:
    """Feedback spread evenly over 30 months around the 24 measured, with personal data beside the rating."""
    with engine.begin() as connection:
        present = connection.execute(text("SELECT to_regclass('feedback') IS NOT NULL")).scalar()
        if present and connection.execute(text("SELECT count(*) FROM feedback")).scalar() == rows:
            return
        print(f"building a feedback table of {rows:,} rows (once) ...", flush=True)
        connection.execute(text("DROP TABLE IF EXISTS feedback"))
        connection.execute(
            text(
                "CREATE TABLE feedback (id serial PRIMARY KEY, received timestamptz NOT NULL, message jsonb)"
            )
        )
        connection.execute(
            text(
                """
                INSERT INTO feedback (received, message)
                SELECT timestamptz '2024-08-01 00:00+00' + (i * (interval '913 days' / :rows)),
                       jsonb_build_object(
                         'rating', (ARRAY['very-satisfied', 'satisfied',
                                          'neither-satisfied-or-dissatisfied', 'dissatisfied',
                                          'very-dissatisfied', 'good'])[1 + (i::bigint * 7919) % 6],
                         'details', 'Free text that a user typed about their visit, number ' || i,
                         'email', 'user' || i || '@example.invalid',
                         'phone', '07700 ' || lpad((i % 1000000)::text, 6, '0'),
                         'agent', 'Mozilla/5.0', 'fromPage', '/lpa/' || i || '/applicant')
                FROM generate_series(1, :rows) AS i
                """
            ),
            {"rows": rows},
        )
        connection.execute(text("CREATE INDEX feedback_received ON feedback (received)"))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE feedback"))


def _bare(connection: Connection, months: list[Month]) -> None:
    connection.execute(
        text(
            "SELECT message->>'rating', count(*) FROM feedback WHERE received >= :start AND received < :end "
            "GROUP BY 1"
        ),
        {"start": months[0].start, "end": months[-1].end},
    ).all()


def _best(run: Callable[[], object], repeats: int) -> float:
    run()  # warm the cache
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--url", default=SERVER, help="a Postgres server URL whose user may create databases")
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args(argv)
    engine = _database(options.url, options.rows)
    _build(engine, options.rows)
    print(f"{options.rows:,} feedback rows, Postgres at {make_url(options.url).host}, on {platform.node()}")
    print(f"{'window':<10} {'perfplat s':>11} {'bare GROUP BY s':>16} {'ratio':>7} {'peak KiB':>9}")
    with engine.connect() as connection:
        for label, months in (("1 month", [ONE_MONTH]), ("24 months", months_between(FIRST, LAST))):
            ours = _best(lambda months=months: read_rating_counts(connection, months), options.repeats)
            bare = _best(lambda months=months: _bare(connection, months), options.repeats)
            tracemalloc.start()
            read_rating_counts(connection, months)
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(f"{label:<10} {ours:>11.3f} {bare:>16.3f} {ours / bare:>7.2f} {peak / 1024:>9.0f}")
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
