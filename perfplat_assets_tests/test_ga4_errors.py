"""Every way GA4 can let the completion rate down, through the real client (REST) against the emulator.

Each fault is injected into the emulator; what is asserted is the message a person running perfplat reads.
Retry delays and deadlines are short through the `GoogleAnalytics` resource's own settings.
"""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from perfplat_assets.common.errors import SourceUnavailable
from perfplat_assets.common.months import LONDON, Month, months_between
from perfplat_assets.completion_rate.calculation import SessionCounts
from perfplat_assets.completion_rate.resources.data_api import GoogleAnalytics
from perfplat_assets_tests.support.ga4_faults import FaultyGA4Emulator
from perfplat_sample.sample_data import SampleSession

PROPERTY = "123456"
JUNE, JULY = datetime(2025, 6, 10, 12, tzinfo=LONDON), datetime(2025, 7, 10, 12, tzinfo=LONDON)
SESSIONS = [
    SampleSession("s1", JUNE, ("/lpa/type", "/lpa/1/applicant"), None),
    SampleSession("s2", JUNE, ("/user/dashboard/create",), None),
    SampleSession("s3", JULY, ("/lpa/type", "/lpa/3/applicant"), None),
]
MONTHS = months_between(Month.parse("2025-06"), Month.parse("2025-07"))
EXPECTED = {MONTHS[0]: SessionCounts(2, 1), MONTHS[1]: SessionCounts(1, 1)}


@pytest.fixture
def emulator():
    with FaultyGA4Emulator(
        lambda month: [s for s in SESSIONS if Month.containing(s.started_at) == month]
    ) as running:
        yield running


def _ga4(emulator: FaultyGA4Emulator, **settings) -> GoogleAnalytics:
    return GoogleAnalytics(
        property_id=PROPERTY,
        api_endpoint=emulator.endpoint,
        **{"retry_initial_delay": 0.01, "retry_deadline": 3.0, "request_timeout": 3.0, **settings},
    )


def _failure(ga4: GoogleAnalytics) -> str:
    with pytest.raises(SourceUnavailable) as raised:
        ga4.completion_report(MONTHS)
    return str(raised.value)


def _source(emulator: FaultyGA4Emulator) -> str:
    return f"GA4 property {PROPERTY} at {emulator.endpoint}"


# timeouts


def test_an_endpoint_that_never_answers_is_retried_then_named_with_how_long(emulator):
    emulator.hang_next(times=100)

    message = _failure(_ga4(emulator, request_timeout=0.3, retry_deadline=1.0))

    assert message.startswith(f"{_source(emulator)} did not answer runReport: ")
    assert re.search(r"(\d) of \1 requests got no answer within the request timeout of 0.3s", message)
    assert re.search(r"gave up after 1\.\ds \(retry deadline 1s\)", message)
    assert emulator.requests_served >= 2, "a timeout is retried within the deadline"


def test_a_slow_answer_that_times_out_once_is_retried(emulator):
    emulator.hang_next(seconds=1.0)

    report = _ga4(emulator, request_timeout=0.3).completion_report(MONTHS)

    assert report.sessions == EXPECTED
    assert emulator.requests_served == 2


def test_a_slow_answer_within_the_timeout_is_just_slow(emulator):
    emulator.hang_next(seconds=0.2)

    report = _ga4(emulator, request_timeout=5.0).completion_report(MONTHS)

    assert report.sessions == EXPECTED and emulator.requests_served == 1


# refusals: GA4's own message, quoted, and what to change


GA4_SAYS = {
    400: "Field sessionz is not a valid metric. For a list of valid dimensions and metrics, see ...",
    401: "Request had invalid authentication credentials.",
    403: "User does not have sufficient permissions for this property. To learn more about Property ID, "
    "see https://developers.google.com/analytics/devguides/reporting/data/v1/property-id.",
    404: "Requested entity was not found.",
}


@pytest.mark.parametrize(
    ("status", "code", "advice"),
    [
        (400, "400 INVALID_ARGUMENT", "Check that PERFPLAT_GA4_PROPERTY_ID is the property's numeric id"),
        (
            403,
            "403 PERMISSION_DENIED",
            f"need at least the Viewer role on GA4 property {PROPERTY} (PERFPLAT_GA4_PROPERTY_ID)",
        ),
        (404, "404 NOT_FOUND", "GA4 found no such property"),
    ],
)
def test_a_refusal_quotes_ga4_and_says_what_to_change(emulator, status, code, advice):
    emulator.fail_next(status, message=GA4_SAYS[status])

    message = _failure(_ga4(emulator))

    assert f'({code}): "{GA4_SAYS[status]}"' in message
    assert advice in message
    assert emulator.requests_served == 1, "a refusal is not retried"


def test_unauthenticated_at_the_emulator_asks_for_credentials(emulator):
    # Google's REST session refreshes credentials on a 401 and asks again; anonymous ones cannot be.
    emulator.fail_next(401, message=GA4_SAYS[401])

    message = _failure(_ga4(emulator))

    assert message.startswith(f"No usable Google credentials for {_source(emulator)}")
    assert "set GOOGLE_APPLICATION_CREDENTIALS to a service account key file" in message


def test_forbidden_names_the_credentials_in_use(emulator):
    # The loopback emulator is called with anonymous credentials whatever the environment says.
    emulator.fail_next(403, message=GA4_SAYS[403])

    message = _failure(_ga4(emulator))

    assert "The credentials (anonymous credentials, as for a loopback emulator) need" in message
    assert "GOOGLE_APPLICATION_CREDENTIALS" in message


# malformed answers


def test_a_body_that_is_not_json_names_the_endpoint(emulator):
    emulator.malformed_next()

    message = _failure(_ga4(emulator))

    assert message.startswith(
        f"{_source(emulator)} answered runReport with a body that is not a RunReportResponse"
    )
    assert "Check that PERFPLAT_GA4_API_ENDPOINT is the GA4 Data API" in message
    assert emulator.requests_served == 1


def test_a_session_count_that_is_not_a_whole_number_withholds_its_month_naming_the_value(emulator):
    emulator.fractional_sessions = True  # every count GA4 sends is n + 0.5

    report = _ga4(emulator).completion_report(MONTHS)

    assert dict(report.sessions) == {}, "nothing of a wrong month is counted"
    # Rows come back by yearMonth, then comparison: June's "completed" row (1 session) first, then its
    # "started" row (2 sessions).
    named = f"the GA4 Data API for property {PROPERTY} (PERFPLAT_GA4_PROPERTY_ID)"
    assert report.sessions.reasons(named, "completion rate")[MONTHS[0]] == (
        f"{named}: 2025-06 has '1.5' sessions on the applicant page and '2.5' sessions on a start page, and "
        "a count must be a whole number, 0 or more; 2025-06's completion rate is withheld"
    )
    assert set(report.sessions.faults) == set(MONTHS)


NAMED = f"the GA4 Data API for property {PROPERTY} (PERFPLAT_GA4_PROPERTY_ID)"


def test_negative_sessions_withhold_their_month_and_another_month_is_ignored(emulator):
    emulator.report_next(
        [
            ("202506", "started", "2"),
            ("202506", "completed", "-1"),
            ("202507", "started", "1"),
            ("202507", "completed", "1"),
            ("202508", "started", "9"),
            ("202513", "started", "9"),
        ]
    )

    report = _ga4(emulator).completion_report(MONTHS)

    assert dict(report.sessions) == {MONTHS[1]: SessionCounts(1, 1)}
    assert report.sessions.reasons(NAMED, "completion rate") == {
        MONTHS[0]: f"{NAMED}: 2025-06 has -1 sessions on the applicant page, and a count must be a whole "
        "number, 0 or more; 2025-06's completion rate is withheld"
    }
    assert report.sessions.said_ignored(NAMED) == [
        f"{NAMED} answered for '202508', which was not asked for: ignored, never stored",
        f"{NAMED} answered for '202513', which is not a month: ignored, never stored",
    ]


def test_a_row_twice_in_one_page_withholds_its_month(emulator):
    emulator.report_next(
        [
            ("202506", "started", "2"),
            ("202506", "started", "3"),
            ("202506", "completed", "1"),
            ("202507", "started", "1"),
            ("202507", "completed", "1"),
        ]
    )

    report = _ga4(emulator).completion_report(MONTHS)

    assert dict(report.sessions) == {MONTHS[1]: SessionCounts(1, 1)}
    assert report.sessions.faults == {
        MONTHS[0]: (
            "has its sessions on a start page twice in one page of the answer, and each must come once",
        )
    }


# retries


def test_server_errors_are_retried_three_times_at_most(emulator):
    emulator.fail_next(500, times=10, message="Internal error encountered.")

    message = _failure(_ga4(emulator))

    assert emulator.requests_served == 4
    assert (
        f'{_source(emulator)} answered runReport with a server error 4 times (500 INTERNAL): "Internal'
        in message
    )
    assert "at most 3 times, because GA4 refuses a property every request for the rest of the hour" in message


def test_three_server_errors_then_an_answer_is_a_report(emulator):
    emulator.fail_next(503, times=3)

    report = _ga4(emulator).completion_report(MONTHS)

    assert report.sessions == EXPECTED and emulator.requests_served == 4


def test_quota_errors_are_retried_until_the_deadline(emulator):
    emulator.fail_next(429, times=10_000, message="Exhausted property tokens per hour quota.")

    message = _failure(_ga4(emulator, retry_initial_delay=0.05, retry_deadline=0.6))

    assert f"{_source(emulator)}: the property's quota is used up" in message
    assert '(429 RESOURCE_EXHAUSTED): "Exhausted property tokens per hour quota."' in message
    assert emulator.requests_served > 3, "retried well past the server errors' three"


def test_the_emulators_own_quota_is_met_with_back_off_and_a_clear_message(emulator):
    emulator.tokens_per_hour = 25  # two reports' worth at 10 tokens each

    ga4 = _ga4(emulator, retry_deadline=0.3)
    first, second = ga4.completion_report(MONTHS), ga4.completion_report(MONTHS)
    message = _failure(ga4)

    assert first.quota.tokens_per_hour_remaining == 15 and second.quota.tokens_per_hour_remaining == 5
    assert "quota is used up" in message and "Exhausted property tokens per hour quota" in message


# paging


def test_paging_is_capped_and_says_why(emulator):
    message = _failure(_ga4(emulator, page_size=1, max_pages=2))

    assert message.startswith(
        f"{_source(emulator)} had more rows than perfplat reads: 2 of the 4 rows GA4 says the report has, "
        "after 2 pages of 1 (the cap is 2 pages; a report of 2 months should have at most 4 rows)"
    )
    assert emulator.requests_served == 2


def test_paging_stops_when_a_page_adds_no_rows(emulator):
    emulator.ignore_offset = True  # every page is the first one

    message = _failure(_ga4(emulator, page_size=1))

    assert emulator.requests_served == 2
    assert "stopped adding rows: the page at offset 1 brought no row not already read" in message
    assert "says the report has 4 rows and perfplat has read 1 in 2 pages" in message


def test_rows_come_back_in_the_order_asked(emulator):
    report = _ga4(emulator, page_size=1).completion_report(MONTHS)

    assert report.sessions == EXPECTED and report.requests == 4
    # Only by yearMonth, the ordering GA4 documents; never by the comparison column.
    [order_month] = emulator.requests[0].order_bys
    assert order_month.dimension.dimension_name == "yearMonth"
    assert order_month.dimension.order_type.name == "NUMERIC"
