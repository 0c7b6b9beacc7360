"""Complete the deputy report's satisfaction, read from digideps' `satisfaction` table on the real Postgres
(created by digideps' own migration statements) and on the embedded sample's SQLite copy.

`created_at` is `timestamp(0) without time zone` holding London wall-clock times: the rows either side of
each month's first are counted in London's months whatever the session's time zone, and the free-text
`comments` never reaches perfplat.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import pytest
from sqlalchemy import create_engine, insert, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL, make_url

from perfplat_assets.common.errors import SourceUnavailable
from perfplat_assets.common.months import Month, last_closed_month, months_between
from perfplat_assets.user_satisfaction.calculation import RatingCounts
from perfplat_assets.user_satisfaction.queries.deputy_reporting_database import (
    SCORES,
    rating_counts_query,
    satisfaction_table,
)
from perfplat_assets.user_satisfaction.resources.deputy_reporting_database import DeputyReportingDatabase
from perfplat_assets_tests.support.digideps import DROP_NDR, MIGRATIONS
from perfplat_sample.resources import STAND_INS, EmbeddedDeputyReportingDatabase
from perfplat_sample.sample_data import sample_satisfaction
from perfplat_sample.seed import satisfaction as sample_satisfaction_table

CANARY = "CANARY-comments: my client Jane Example, 07700 900123"
SETTING = "PERFPLAT_DEPUTY_REPORTING_DB_URL"

R, N, NEITHER = "report", "ndr", None  # what a response is linked to

# (created_at as digideps writes it: London wall clock, no offset; score; linked to)
ROWS = [
    # February 2026, GMT: its first and last second.
    (datetime(2026, 2, 1, 0, 0, 0), 5, R),
    (datetime(2026, 2, 28, 23, 59, 59), 4, R),
    # March 2026: GMT at its start, BST (from the 29th) at its end.
    (datetime(2026, 3, 1, 0, 0, 0), 3, R),
    (datetime(2026, 3, 31, 23, 59, 59), 5, R),  # 22:59:59 UTC
    (datetime(2026, 3, 15, 12, 0, 0), 1, N),  # a new-deputy report: counted while `ndr_id` exists
    (datetime(2026, 3, 20, 8, 0, 0), 2, NEITHER),  # never counted
    # April 2026, BST: 00:00 London on the 1st is 23:00 UTC on 31 March.
    (datetime(2026, 4, 1, 0, 0, 0), 4, R),
    (datetime(2026, 4, 10, 10, 0, 0), 0, R),  # none of the five: unknown
    (datetime(2026, 4, 11, 10, 0, 0), 6, R),  # none of the five: unknown
    (datetime(2026, 4, 12, 10, 0, 0), 5, NEITHER),
    # May 2026: nothing at all.
    # June 2026, BST: 23:30 London on the 30th is 22:30 UTC, still June.
    (datetime(2026, 6, 1, 0, 0, 0), 5, R),
    (datetime(2026, 6, 30, 23, 30, 0), 2, R),
    # July 2026, BST: 00:30 London on the 1st is 23:30 UTC on 30 June, but July's.
    (datetime(2026, 7, 1, 0, 30, 0), 1, R),
    (datetime(2026, 7, 31, 23, 59, 59), 4, R),
    # Outside February to July.
    (datetime(2026, 1, 31, 23, 59, 59), 5, R),
    (datetime(2026, 8, 1, 0, 0, 0), 5, R),
]

MONTHS = months_between(Month.parse("2026-02"), Month.parse("2026-07"))

# Worked out by hand from ROWS, for the table before Version310 (with `ndr_id`).
EXPECTED = {
    "2026-02": RatingCounts(very_satisfied=1, satisfied=1, rated_responses=2),
    "2026-03": RatingCounts(very_satisfied=1, neither=1, very_dissatisfied=1, rated_responses=3),
    "2026-04": RatingCounts(satisfied=1, unknown=2, rated_responses=1),
    "2026-05": RatingCounts(rated_responses=0),
    "2026-06": RatingCounts(very_satisfied=1, dissatisfied=1, rated_responses=2),
    "2026-07": RatingCounts(satisfied=1, very_dissatisfied=1, rated_responses=2),
}
# After Version310 the new-deputy response of 15 March is linked to nothing, and no longer counted.
EXPECTED_WITHOUT_NDR = EXPECTED | {
    "2026-03": RatingCounts(very_satisfied=1, neither=1, rated_responses=2),
}


def _values(rows: list[tuple[datetime, int, str | None]], *, ndr_id: bool) -> list[dict]:
    values = []
    for number, (created_at, score, linked) in enumerate(rows, 1):
        row = {
            "score": score,
            "deputy_role": "LAY",
            "report_type": "103",
            "created_at": created_at,
            "comments": CANARY,
            "report_id": number if linked == R else None,
        }
        if ndr_id:
            row["ndr_id"] = number if linked == N else None
        values.append(row)
    return values


def _create_digideps(url: str, *, ndr_removed: bool, time_zone: str = "UTC") -> None:
    """digideps' table on the test's database, holding ROWS; the database's sessions in `time_zone`."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"ALTER DATABASE \"{make_url(url).database}\" SET timezone TO '{time_zone}'"))
        for statement in MIGRATIONS + (DROP_NDR if ndr_removed else []):
            connection.execute(text(statement))
        columns = ["score", "deputy_role", "report_type", "created_at", "comments", "report_id"]
        columns += [] if ndr_removed else ["ndr_id"]
        placeholders = ", ".join(f":{column}" for column in columns)
        connection.execute(
            text(f"INSERT INTO satisfaction ({', '.join(columns)}) VALUES ({placeholders})"),
            _values(ROWS, ndr_id=not ndr_removed),
        )
    engine.dispose()


def _labelled(counts: dict[Month, RatingCounts]) -> dict[str, RatingCounts]:
    return {month.label: value for month, value in counts.items()}


@pytest.mark.parametrize(
    ("ndr_removed", "time_zone", "driver", "expected"),
    [
        pytest.param(False, "UTC", "postgresql+psycopg", EXPECTED, id="with-ndr_id-utc-psycopg"),
        pytest.param(True, "UTC", "postgresql", EXPECTED_WITHOUT_NDR, id="after-Version310-utc-psycopg2"),
        pytest.param(
            True, "America/New_York", "postgresql+psycopg", EXPECTED_WITHOUT_NDR, id="after-Version310-nyc"
        ),
    ],
)
def test_counts_per_london_month_whatever_the_session_time_zone(
    postgres_url, ndr_removed, time_zone, driver, expected
):
    _create_digideps(postgres_url, ndr_removed=ndr_removed, time_zone=time_zone)
    url = make_url(postgres_url).set(drivername=driver).render_as_string(hide_password=False)
    counts = DeputyReportingDatabase(url=url).rating_counts(MONTHS)
    assert _labelled(counts) == expected
    assert CANARY not in repr(counts)


def test_a_single_month_is_its_own_window(postgres_url):
    _create_digideps(postgres_url, ndr_removed=False)
    july = Month.parse("2026-07")
    assert DeputyReportingDatabase(url=postgres_url).rating_counts([july]) == {july: EXPECTED["2026-07"]}


def test_the_query_never_names_comments_and_bounds_are_wall_clock():
    table = satisfaction_table(ndr_id=True)
    assert "comments" not in table.c  # not even selectable through perfplat's table object
    assert "comments" not in str(select(table).compile(dialect=postgresql.dialect()))
    compiled = rating_counts_query(table, MONTHS).compile(dialect=postgresql.dialect())
    sql = str(compiled)
    assert "comments" not in sql and CANARY not in sql
    assert "GROUP BY width_bucket(satisfaction.created_at" in sql
    assert "satisfaction.report_id IS NOT NULL OR satisfaction.ndr_id IS NOT NULL" in sql
    bounds = [value for value in compiled.params.values() if isinstance(value, datetime)]
    assert datetime(2026, 2, 1) in bounds and datetime(2026, 8, 1) in bounds
    assert all(value.tzinfo is None for value in bounds), "London wall-clock bounds carry no zone"


def test_scores_map_to_ratings_one_very_dissatisfied_to_five_very_satisfied():
    assert [SCORES[score].column for score in range(1, 6)] == [
        "very_dissatisfied",
        "dissatisfied",
        "neither",
        "satisfied",
        "very_satisfied",
    ]


@contextmanager
def _role(database_url: str, *grants: str) -> Iterator[URL]:
    """A login role of its own with `grants` (`{role}` stands for its name); it goes afterwards."""
    name = f"perfplat_digideps_{uuid.uuid4().hex[:10]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE ROLE {name} LOGIN"))
        for grant in grants:
            connection.execute(text(grant.format(role=name)))
    try:
        yield make_url(database_url).set(username=name, password=None)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP OWNED BY {name}"))
            connection.execute(text(f"DROP ROLE {name}"))
        admin.dispose()


def test_a_role_granted_only_the_columns_perfplat_reads_gets_the_counts(postgres_url):
    """Postgres refuses any statement touching a column the role may not read: granted everything but
    `comments` (and `id`, `deputy_role`, `report_type`), the query still runs."""
    _create_digideps(postgres_url, ndr_removed=True)
    with _role(postgres_url, "GRANT SELECT (score, created_at, report_id) ON satisfaction TO {role}") as role:
        source = DeputyReportingDatabase(url=role.render_as_string(hide_password=False))
        assert _labelled(source.rating_counts(MONTHS)) == EXPECTED_WITHOUT_NDR


def test_a_role_without_select_is_refused_naming_the_setting(postgres_url):
    _create_digideps(postgres_url, ndr_removed=True)
    with _role(postgres_url) as role:
        source = DeputyReportingDatabase(url=role.render_as_string(hide_password=False))
        with pytest.raises(SourceUnavailable, match=SETTING) as refused:
            source.rating_counts(MONTHS)
    message = str(refused.value)
    assert role.username in message and "permission denied" in message
    assert CANARY not in message


def test_a_missing_table_names_the_setting(postgres_url):
    with pytest.raises(SourceUnavailable, match=SETTING) as refused:
        DeputyReportingDatabase(url=postgres_url).rating_counts(MONTHS)
    assert 'relation "satisfaction" does not exist' in str(refused.value)


def test_the_sqlite_path_keeps_the_same_month_boundaries(tmp_path):
    """The sample's SQLite table (with `ndr_id`, as before Version310), holding ROWS: the same counts."""
    url = f"sqlite:///{tmp_path / 'digideps.sqlite'}"
    engine = create_engine(url)
    sample_satisfaction_table.metadata.create_all(engine)
    with engine.begin() as connection:
        connection.execute(insert(sample_satisfaction_table), _values(ROWS, ndr_id=True))
    engine.dispose()
    counts = DeputyReportingDatabase(url=url).rating_counts(MONTHS)
    assert _labelled(counts) == EXPECTED
    july = Month.parse("2026-07")
    assert DeputyReportingDatabase(url=url).rating_counts([july]) == {july: EXPECTED["2026-07"]}


def test_the_embedded_sample_serves_digideps_in_its_place(tmp_path):
    """Unset, the setting is served by the sample: its SQLite copy, seeded from April 2023 with a few hundred
    scores a month, counts what the sample holds, leaving out responses linked to no report."""
    assert STAND_INS[DeputyReportingDatabase] is EmbeddedDeputyReportingDatabase
    source = EmbeddedDeputyReportingDatabase(data_dir=str(tmp_path))
    assert source.embedded and source.sample_setting == SETTING
    months = months_between(Month.parse("2023-03"), Month.parse("2023-05"))
    counts = source.rating_counts(months)
    assert counts[Month.parse("2023-03")] == RatingCounts(rated_responses=0)  # before the series
    for month in months[1:]:
        rows = list(sample_satisfaction(month))
        linked = Counter(row.score for row in rows if row.report_id is not None or row.ndr_id is not None)
        assert any(row.report_id is None and row.ndr_id is None for row in rows)
        assert 300 <= len(rows) <= 1000 and counts[month].total == sum(linked.values())
        assert {score: counts[month].count(rating) for score, rating in SCORES.items()} == {
            score: linked[score] for score in SCORES
        }
    # A month still open is not seeded yet: nothing to count, and seeded whole once it closes.
    open_month = last_closed_month().next()
    assert source.rating_counts([open_month]) == {open_month: RatingCounts(rated_responses=0)}
