"""The feedback query on real Postgres (jsonb) and on SQLite (JSON as text)."""

from datetime import UTC, datetime

import pytest
from sqlalchemy.dialects import postgresql

from perfplat_assets.common.make_an_lpa_database import MakeAnLpaDatabase
from perfplat_assets.common.months import Month, months_between
from perfplat_assets.user_satisfaction.calculation import RatingCounts
from perfplat_assets.user_satisfaction.queries.make_an_lpa_database import (
    feedback_table,
    rating_counts_query,
    read_rating_counts,
)
from perfplat_assets_tests.support.sources import create_postgres_feedback, create_sqlite_feedback

PERSONAL = {"details": "I am Ada Lovelace-Perfplat", "email": "ada@example.invalid", "phone": "07700 900461"}


def _feedback(received: datetime, rating: str | None) -> dict:
    message = dict(PERSONAL)
    if rating is not None:
        message["rating"] = rating
    return {"received": received, "message": message}


ROWS = [
    # June 2025: three ratings and one legacy value.
    _feedback(datetime(2025, 6, 1, 9, 0, tzinfo=UTC), "very-satisfied"),
    _feedback(datetime(2025, 6, 15, 9, 0, tzinfo=UTC), "satisfied"),
    _feedback(datetime(2025, 6, 30, 22, 59, tzinfo=UTC), "dissatisfied"),  # 23:59 BST, still June
    _feedback(datetime(2025, 6, 20, 9, 0, tzinfo=UTC), "good"),
    # July 2025: the first row is 00:30 BST on 1 July, though 30 June in UTC.
    _feedback(datetime(2025, 6, 30, 23, 30, tzinfo=UTC), "very-satisfied"),
    _feedback(datetime(2025, 7, 10, 12, 0, tzinfo=UTC), "neither-satisfied-or-dissatisfied"),
    _feedback(datetime(2025, 7, 11, 12, 0, tzinfo=UTC), "very-dissatisfied"),
    _feedback(datetime(2025, 7, 12, 12, 0, tzinfo=UTC), None),
    # August 2025: 23:30 UTC on 31 July is 00:30 BST on 1 August.
    _feedback(datetime(2025, 7, 31, 23, 30, tzinfo=UTC), "satisfied"),
    # May 2025 and October 2025 lie outside the months asked for.
    _feedback(datetime(2025, 5, 31, 22, 30, tzinfo=UTC), "very-satisfied"),
    _feedback(datetime(2025, 10, 1, 0, 0, tzinfo=UTC), "very-satisfied"),
]

EXPECTED = {
    "2025-06": RatingCounts(very_satisfied=1, satisfied=1, dissatisfied=1, unknown=1, rated_responses=3),
    "2025-07": RatingCounts(very_satisfied=1, neither=1, very_dissatisfied=1, unknown=1, rated_responses=3),
    "2025-08": RatingCounts(satisfied=1, rated_responses=1),
    "2025-09": RatingCounts(rated_responses=0),  # no feedback at all
}


def _create_postgres(url: str) -> str:
    create_postgres_feedback(url, ROWS)
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def feedback_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return create_sqlite_feedback(tmp_path / "lpa.sqlite", ROWS)
    return _create_postgres(request.getfixturevalue("postgres_url"))


def test_counts_per_rating_per_london_month(feedback_url):
    database = MakeAnLpaDatabase(url=feedback_url)
    months = months_between(Month.parse("2025-06"), Month.parse("2025-09"))
    counts = database.read(read_rating_counts, months, database.feedback_table)
    assert {month.label: value for month, value in counts.items()} == EXPECTED


def test_a_single_month_is_its_own_window(feedback_url):
    database = MakeAnLpaDatabase(url=feedback_url)
    july = Month.parse("2025-07")
    assert database.read(read_rating_counts, [july], database.feedback_table) == {july: EXPECTED["2025-07"]}


def test_the_query_touches_only_the_rating_and_the_timestamp():
    query = rating_counts_query(feedback_table(), [Month.parse("2025-07")])
    assert [column.name for column in query.selected_columns] == [
        "month",
        "rating",
        "responses",
    ]
    sql = str(query.compile(dialect=postgresql.dialect()))
    assert "->>" in sql and "GROUP BY" in sql
    for field in ("details", "email", "phone", "agent", "fromPage"):
        assert field not in sql


def test_gaps_in_months_are_refused(tmp_path):
    url = create_sqlite_feedback(tmp_path / "lpa.sqlite", ROWS)
    with (
        pytest.raises(ValueError, match="contiguous"),
        MakeAnLpaDatabase(url=url).connection([]) as connection,
    ):
        read_rating_counts(connection, [Month.parse("2025-06"), Month.parse("2025-08")])
