"""Every source's answer is checked before any of it is stored: the rules (`common.answers`) on answers built
by hand, then real Postgres databases that answer wrongly (an aggregate `count` that counts down, found
first on the role's search path), read through perfplat's own resources. Each expected message is written
out by hand.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text

from perfplat_assets.common.answers import COUNT_RULE, Answer, AnswerCheck, shown
from perfplat_assets.common.make_an_lpa_database import MakeAnLpaDatabase
from perfplat_assets.common.months import Month
from perfplat_assets.completion_rate.calculation import SessionCounts, journeys_answer, month_figures
from perfplat_assets.completion_rate.queries.bigquery_export import Coverage
from perfplat_assets.digital_take_up.calculation import TakeUpFigures, applications_answer, digital_take_up
from perfplat_assets.digital_take_up.resources import SiriusDatabase
from perfplat_assets.uptime.calculation import hour_starts, hourly_answer
from perfplat_assets.user_satisfaction.calculation import Rating, RatingCounts, counted_ratings
from perfplat_assets.user_satisfaction.queries.deputy_reporting_database import SCORES, counts_from_scores
from perfplat_assets.user_satisfaction.queries.make_an_lpa_database import read_rating_counts
from perfplat_assets_tests.support.sources import create_postgres_feedback, create_sirius, feedback

MAY, JUNE, JULY = Month.parse("2026-05"), Month.parse("2026-06"), Month.parse("2026-07")
EXPORT = "GA4's BigQuery export p.d (PERFPLAT_GA4_BIGQUERY_DATASET)"


def _reason(answer: Answer, month: Month, source: str = EXPORT, measure: str = "completion rate") -> str:
    return answer.reasons(source, measure)[month]


# The export's rows (the findings, each one a month withheld, naming the source)


def test_negative_counts_withhold_the_month_and_the_others_are_counted():
    rows = [
        {"month": "2026-05", "started": -1756, "completed": -1126},
        {"month": "2026-06", "started": 200, "completed": 90},
    ]
    answer = journeys_answer(rows, [MAY, JUNE])
    assert dict(answer) == {JUNE: SessionCounts(200, 90)}
    assert _reason(answer, MAY) == (
        "GA4's BigQuery export p.d (PERFPLAT_GA4_BIGQUERY_DATASET): 2026-05 has -1756 journeys started and "
        "-1126 journeys completed, and a count must be a whole number, 0 or more; 2026-05's completion "
        "rate is withheld"
    )


def test_a_month_given_twice_is_withheld_not_the_last_row_winning():
    rows = [
        {"month": "2026-05", "started": 1756, "completed": 1126},  # 64.1
        {"month": "2026-05", "started": 5, "completed": 5},  # 100.0, had it won
    ]
    answer = journeys_answer(rows, [MAY])
    assert dict(answer) == {}
    assert _reason(answer, MAY).endswith(
        ": 2026-05 appears twice in the answer, and a month must appear once; 2026-05's completion rate is "
        "withheld"
    )


@pytest.mark.parametrize(
    "started, shown_as",
    [(1756.5, "1756.5"), (1756.0, "1756.0"), ("1756", "'1756'"), (True, "True"), (None, "None")],
)
def test_a_count_that_is_not_a_whole_number_is_no_count(started, shown_as):
    answer = journeys_answer([{"month": "2026-05", "started": started, "completed": 3}], [MAY])
    assert f"2026-05 has {shown_as} journeys started, and {COUNT_RULE};" in _reason(answer, MAY)
    assert MAY not in answer


def test_more_completed_than_started_is_wrong():
    answer = journeys_answer([{"month": "2026-05", "started": 10, "completed": 20}], [MAY])
    assert ": 2026-05 has 20 journeys completed but 10 started, and completions never exceed starts;" in (
        _reason(answer, MAY)
    )


def test_a_month_outside_the_request_is_ignored_and_reported_never_stored():
    rows = [
        {"month": "2026-13", "started": 5, "completed": 5},
        {"month": "2026-08", "started": 5, "completed": 5},
        {"month": "2026-05", "started": 4, "completed": 1},
    ]
    answer = journeys_answer(rows, [MAY])
    assert dict(answer) == {MAY: SessionCounts(4, 1)} and answer.faults == {}
    assert answer.said_ignored(EXPORT) == [
        f"{EXPORT} answered for '2026-13', which is not a month: ignored, never stored",
        f"{EXPORT} answered for '2026-08', which was not asked for: ignored, never stored",
    ]


def test_a_month_between_two_settled_ones_is_in_the_window_but_not_wanted():
    # June is not settled: the query covers May to July all the same, and June's row is no fault.
    rows = [{"month": label, "started": 2, "completed": 1} for label in ("2026-05", "2026-06", "2026-07")]
    rows[1]["started"] = -1
    answer = journeys_answer(rows, [MAY, JULY])
    assert dict(answer) == {MAY: SessionCounts(2, 1), JULY: SessionCounts(2, 1)}
    assert answer.faults == {} and answer.ignored == ()


def test_a_wrong_month_becomes_no_figure_with_the_reason():
    answer = journeys_answer([{"month": "2026-05", "started": -3, "completed": 1}], [MAY])
    reason = _reason(answer, MAY)
    settled = Coverage(MAY, settled=True, before_export=False, reason=None)
    figure = month_figures(MAY, settled, answer.by_month([MAY], EXPORT, "completion rate")[MAY], None, None)
    assert (figure.completion_rate_percent, figure.sessions_started, figure.not_available_reason) == (
        None,
        0,
        reason,
    )


def test_values_from_an_answer_are_shown_short():
    assert shown("x" * 100) == "'" + "x" * 38 + "…"
    assert shown(-3) == "-3" and shown(float("nan")) == "nan"


def test_an_answer_check_reports_each_fault_of_a_month_once():
    check = AnswerCheck([MAY])
    for _ in range(3):
        check.once(MAY, "k", "the row of k")
    check.fault(MAY, "has x")
    check.fault(MAY, "has x")
    answer = check.answer({MAY: 1})
    assert answer.faults == {
        MAY: ("has the row of k 3 times in the answer, and each must come once", "has x"),
    }


# The databases' rows


def _feedback_rows(rows):
    return counted_ratings(
        rows,
        [MAY, JUNE],
        Rating.from_form_value,
        lambda responses: RatingCounts.from_form_values(responses),
    )


def test_rating_rows_repeated_or_negative_withhold_their_month_never_showing_the_rating_text():
    secret = "my name is Ada Lovelace-Perfplat"  # a rating no form offers: text from people
    answer = _feedback_rows(
        [
            (1, "satisfied", 3),
            (1, secret, 2),
            (1, secret, 2),
            (2, "very-satisfied", -4),
            (2, "dissatisfied", 1),
            (3, "satisfied", 9),  # a third month, when two were asked for
        ]
    )
    assert dict(answer) == {}
    reasons = answer.reasons("the feedback table of the database at X", "user satisfaction")
    assert reasons[MAY] == (
        "the feedback table of the database at X: 2026-05 has the row of responses rated none of the five "
        "twice in the answer, and each must come once; 2026-05's user satisfaction is withheld"
    )
    assert reasons[JUNE] == (
        "the feedback table of the database at X: 2026-06 has -4 very satisfied responses, and a count must "
        "be a whole number, 0 or more; 2026-06's user satisfaction is withheld"
    )
    assert answer.ignored == ("answered for month number 3 of 2 asked for",)
    assert secret not in " ".join([*reasons.values(), *answer.ignored])


def test_digideps_scores_are_held_to_the_same_rules():
    answer = counted_ratings(
        [(1, 5, 2), (1, 4, 1), (2, None, 1), (2, 3, 1.5)],
        [MAY, JUNE],
        lambda score: SCORES.get(score) if isinstance(score, int) else None,
        counts_from_scores,
    )
    assert dict(answer) == {MAY: RatingCounts(very_satisfied=2, satisfied=1, rated_responses=3)}
    assert answer.faults == {
        JUNE: (f"has 1.5 neither satisfied nor dissatisfied responses, and {COUNT_RULE}",)
    }


def test_sirius_rows_are_checked_and_a_wrong_month_has_no_take_up():
    answer = applications_answer(
        [("2026-05-01", 40, 100), ("2026-06-01", 3, -1), ("2026-06-01", 3, 10), (None, 1, 1)], [MAY, JUNE]
    )
    assert dict(answer) == {MAY: TakeUpFigures(40, 100)}
    assert answer.faults == {
        JUNE: (
            "has -1 applications, and a count must be a whole number, 0 or more",
            "appears twice in the answer, and a month must appear once",
        )
    }
    assert answer.ignored == ("answered for None, which is not a month",)
    reason = answer.reasons("the cases table of the database at PERFPLAT_SIRIUS_DB_URL", "digital take-up")
    figure = digital_take_up(JUNE, reason[JUNE], "sirius")
    assert (figure.take_up_percent, figure.total_applications, figure.not_available_reason) == (
        None,
        None,
        reason[JUNE],
    )


# CloudWatch's hours


def test_health_values_outside_0_to_1_withhold_their_month_said_once():
    hours = hour_starts(JUNE)
    points = [(hour, 1.0) for hour in hours]
    points[3] = (hours[3], 1.5)
    points[700] = (hours[700], float("nan"))
    points[701] = (hours[701], -0.25)
    answer = hourly_answer(points + [(hour, 1.0) for hour in hour_starts(JULY)], [JUNE, JULY])
    assert set(answer) == {JULY} and len(answer[JULY]) == 744
    # June's fourth hour (BST) starts at 02:00 UTC on 1 June, London's 03:00.
    assert answer.faults == {
        JUNE: (
            "has 3 hourly averages outside 0 to 1 (the first 1.5, for 2026-06-01 02:00 UTC), and an hour's "
            "average must be a number from 0 to 1",
        )
    }


def test_an_hour_twice_withholds_its_month_and_hours_outside_are_ignored():
    hours = hour_starts(JUNE)
    before = JUNE.start - timedelta(hours=1)  # 22:00 UTC on 31 May: May's last hour
    points = [(before, 1.0), *((hour, 1.0) for hour in hours), (hours[10] + timedelta(minutes=30), 0.0)]
    answer = hourly_answer(points, [JUNE])
    assert dict(answer) == {}
    assert answer.faults == {
        JUNE: ("has 2026-06-01 09:00 UTC more than once, and each hour must come once",),
    }
    assert answer.ignored == (
        "answered 1 hours outside the months asked for (the first 2026-05-31 22:00 UTC)",
    )


def test_hours_inside_the_months_are_kept_by_their_utc_start():
    answer = hourly_answer([(datetime(2026, 6, 1, 0, 20, tzinfo=UTC), 0.5)], [JUNE])
    assert answer[JUNE] == {datetime(2026, 6, 1, 0, tzinfo=UTC): 0.5}


# Real Postgres answering wrongly: `count` shadowed by an aggregate that counts down


COUNT_DOWN = [
    "CREATE SCHEMA answers_wrongly",
    "CREATE FUNCTION answers_wrongly.down(bigint) RETURNS bigint LANGUAGE sql AS 'SELECT $1 - 1'",
    "CREATE FUNCTION answers_wrongly.down(bigint, text) RETURNS bigint LANGUAGE sql AS 'SELECT $1 - 1'",
    "CREATE AGGREGATE answers_wrongly.count(*) (SFUNC = answers_wrongly.down, STYPE = bigint, INITCOND = 0)",
    "CREATE AGGREGATE answers_wrongly.count(text) "
    "(SFUNC = answers_wrongly.down, STYPE = bigint, INITCOND = 0)",
]


def _counting_down(url: str) -> str:
    """The database at `url` as a role whose search path finds a `count` that counts down before Postgres's
    own: every count it answers is minus the number of rows."""
    engine = create_engine(url)
    with engine.begin() as connection:
        for statement in COUNT_DOWN:
            connection.execute(text(statement))
    engine.dispose()
    return f"{url}?options=-csearch_path%3Danswers_wrongly,pg_catalog,public"


def test_a_feedback_table_answering_negative_counts_withholds_its_month(postgres_url):
    create_postgres_feedback(postgres_url, [feedback(datetime(2026, 5, 3, 9, tzinfo=UTC), "satisfied")] * 3)
    database = MakeAnLpaDatabase(url=_counting_down(postgres_url))
    answer = database.read(read_rating_counts, [MAY], database.feedback_table)
    assert dict(answer) == {}
    assert answer.reasons(database.table_named("feedback"), "user satisfaction") == {
        MAY: "the feedback table of the database at PERFPLAT_MAKE_AN_LPA_DB_URL: 2026-05 has -3 satisfied "
        "responses, and a count must be a whole number, 0 or more; 2026-05's user satisfaction is withheld"
    }


def test_sirius_answering_negative_counts_withholds_its_month(postgres_url):
    create_sirius(postgres_url, [("LPA", date(2026, 5, 3), "A1"), ("LPA", date(2026, 5, 4), None)])
    answer = SiriusDatabase(url=_counting_down(postgres_url)).applications([MAY])
    assert dict(answer) == {}
    assert answer.faults == {
        MAY: (
            "has -2 digital applications and -2 applications, and a count must be a whole number, 0 or more",
        )
    }
    assert SiriusDatabase(url=postgres_url).applications([MAY]) == {MAY: TakeUpFigures(1, 2)}
