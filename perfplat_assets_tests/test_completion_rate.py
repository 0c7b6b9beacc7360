"""The completion rate through the real GA4 client, over HTTP, against the emulator."""

import json
from datetime import datetime

import pytest
from google.analytics.data_v1beta.types import ResponseMetaData

from perfplat_assets.common.errors import SourceUnavailable
from perfplat_assets.common.months import LONDON, Month, months_between
from perfplat_assets.completion_rate.calculation import ReportFlags, SessionCounts, completion_rate
from perfplat_assets.completion_rate.resources.data_api import GoogleAnalytics
from perfplat_assets_tests.support.ga4_faults import FaultyGA4Emulator
from perfplat_assets_tests.support.run_results import materialize_month
from perfplat_sample.resources import EmbeddedGoogleAnalytics
from perfplat_sample.sample_data import SampleSession


def _session(number: int, when: datetime, *paths: str) -> SampleSession:
    return SampleSession(f"s{number}", when, ("/home", *paths), None)


JUNE, JULY = datetime(2025, 6, 10, 12, tzinfo=LONDON), datetime(2025, 7, 10, 12, tzinfo=LONDON)
SESSIONS = [
    # June: 4 sessions on a start page, 3 of them reach the applicant page; 1 more browses.
    _session(1, JUNE, "/user/dashboard/create", "/lpa/1234/donor", "/lpa/1234/applicant"),
    _session(2, JUNE, "/user/dashboard/create/55", "/lpa/55/applicant"),
    _session(3, JUNE, "/lpa/type", "/lpa/type", "/lpa/77/applicant"),
    _session(4, JUNE, "/lpa/type"),
    _session(5, JUNE, "/user/dashboard", "/lpa/type/extra", "/lpa/x/applicant"),  # neither counts
    # July: 2 start, 1 of those completes; 1 returning user completes without starting.
    _session(6, JULY, "/lpa/type", "/lpa/9/applicant"),
    _session(7, JULY, "/user/dashboard/create"),
    _session(8, JULY, "/lpa/10/applicant"),
]


def _sessions_for(month: Month) -> list[SampleSession]:
    return [s for s in SESSIONS if Month.containing(s.started_at) == month]


@pytest.fixture
def emulator():
    with FaultyGA4Emulator(_sessions_for) as running:
        yield running


def _ga4(emulator: FaultyGA4Emulator, **options) -> GoogleAnalytics:
    return GoogleAnalytics(
        property_id="123456", api_endpoint=emulator.endpoint, retry_initial_delay=0.01, **options
    )


MONTHS = months_between(Month.parse("2025-06"), Month.parse("2025-07"))


def test_sessions_per_month_in_one_request(emulator):
    report = _ga4(emulator).completion_report(MONTHS)
    assert report.sessions == {MONTHS[0]: SessionCounts(4, 3), MONTHS[1]: SessionCounts(2, 2)}
    assert report.requests == emulator.requests_served == 1
    sent = emulator.requests[0]
    assert sent.property == "properties/123456"
    assert [d.name for d in sent.dimensions] == ["yearMonth"]
    assert (sent.date_ranges[0].start_date, sent.date_ranges[0].end_date) == ("2025-06-01", "2025-07-31")
    assert report.flags.exact


def test_rate_can_exceed_a_hundred_when_users_return():
    # Returning users reach the applicant page in sessions that did not start an LPA.
    result = completion_rate(MONTHS[1], SessionCounts(started=2, completed=3), ReportFlags())
    assert result.completion_rate_percent == 150.0


def test_rate_has_one_decimal_rounded_half_up():
    result = completion_rate(MONTHS[0], SessionCounts(started=8, completed=5), ReportFlags())
    assert result.completion_rate_percent == 62.5
    result = completion_rate(MONTHS[0], SessionCounts(started=3, completed=2), ReportFlags())
    assert result.completion_rate_percent == 66.7


def test_no_sessions_started_is_not_available():
    result = completion_rate(MONTHS[0], SessionCounts(), ReportFlags())
    assert result.completion_rate_percent is None
    assert "no sessions on a start page" in (result.not_available_reason or "")


def test_quota_error_is_retried(emulator):
    emulator.fail_next(429)
    emulator.fail_next(503)
    report = _ga4(emulator).completion_report(MONTHS)
    assert report.sessions[MONTHS[0]] == SessionCounts(4, 3)
    assert emulator.requests_served == 3


def test_a_response_over_several_pages(emulator):
    report = _ga4(emulator, page_size=1).completion_report(MONTHS)
    assert report.sessions == {MONTHS[0]: SessionCounts(4, 3), MONTHS[1]: SessionCounts(2, 2)}
    # Four rows (two months, two comparisons), one per page.
    assert report.requests == 4
    assert [r.offset for r in emulator.requests] == [0, 1, 2, 3]


def test_inexact_responses_are_flagged(emulator):
    emulator.subject_to_thresholding = True
    emulator.sampled = True
    report = _ga4(emulator).completion_report(MONTHS)
    assert report.flags == ReportFlags(
        subject_to_thresholding=True, sampled=True, data_loss_from_other_row=False
    )


def test_plain_http_is_refused_beyond_loopback():
    ga4 = GoogleAnalytics(property_id="1", api_endpoint="http://analytics.example.org")
    with pytest.raises(ValueError, match="only a local emulator"):
        ga4.completion_report(MONTHS)


def test_an_endpoint_without_a_property_says_so(emulator):
    with pytest.raises(ValueError, match="PERFPLAT_GA4_PROPERTY_ID is not"):
        GoogleAnalytics(api_endpoint=emulator.endpoint).completion_report(MONTHS)


def test_an_unreachable_endpoint_is_a_clear_error(emulator):
    endpoint = emulator.endpoint
    emulator.stop()
    ga4 = GoogleAnalytics(
        property_id="1", api_endpoint=endpoint, retry_deadline=0.5, retry_initial_delay=0.01
    )
    with pytest.raises(SourceUnavailable, match=f"Cannot reach GA4 property 1 at {endpoint}"):
        ga4.completion_report(MONTHS)


def test_the_embedded_default_serves_the_sample(monkeypatch):
    report = EmbeddedGoogleAnalytics().completion_report([Month.parse("2025-05")])
    counts = report.sessions[Month.parse("2025-05")]
    assert counts.started > 1000 and 0 < counts.completed < counts.started


# the property's time zone, truncation and quota


def test_months_in_another_time_zone_are_not_published():
    flags = ReportFlags(time_zone="America/Los_Angeles")
    result = completion_rate(MONTHS[0], SessionCounts(started=8, completed=5), flags)
    assert result.completion_rate_percent is None
    assert result.ga4_time_zone == "America/Los_Angeles"
    assert result.not_available_reason == (
        "the GA4 property's reporting time zone is America/Los_Angeles, so GA4's month 2025-06 is a "
        "America/Los_Angeles month, not a London month: the completion rate is not published for it. Set "
        "the property's reporting time zone to Europe/London in GA4 Admin (Property details), then re-run "
        "the month"
    )


def test_the_report_carries_the_time_zone_truncation_and_quota():
    Reason = ResponseMetaData.DataTruncationReason
    with FaultyGA4Emulator(_sessions_for, time_zone="America/Los_Angeles") as emulator:
        emulator.data_truncation_reasons = [
            Reason(
                data_truncation_type=Reason.DataTruncationType.DATA_TRUNCATION_TYPE_PROPERTY,
                data_truncation_message="Data before the retention date is not available.",
                data_truncation_date="2025-06-05",
            )
        ]
        report = _ga4(emulator, page_size=2).completion_report(MONTHS)

    assert report.flags.time_zone == "America/Los_Angeles" and not report.flags.london_months
    assert report.flags.data_truncation_reasons == (
        "PROPERTY: Data before the retention date is not available.: data before 2025-06-05",
    )
    assert not report.flags.exact
    # Two pages: the tokens of both, and what is left after the second.
    assert report.quota.as_metadata() == {
        "ga4_tokens_per_day_consumed": 20,
        "ga4_tokens_per_day_remaining": 199_980,
        "ga4_tokens_per_hour_consumed": 20,
        "ga4_tokens_per_hour_remaining": 39_980,
    }


@pytest.fixture
def pipeline_ga4(perfplat_env, monkeypatch):
    """A GA4 emulator the whole pipeline is pointed at, with some sessions in May 2025."""
    when = datetime(2025, 5, 10, 12, tzinfo=LONDON)
    sessions = [SampleSession(f"m{i}", when, ("/lpa/type", f"/lpa/{i}/applicant"), i) for i in range(60)]
    sessions += [SampleSession(f"n{i}", when, ("/lpa/type",), None) for i in range(40)]
    emulator = FaultyGA4Emulator(lambda month: sessions if month == MAY else []).start()
    monkeypatch.setenv("PERFPLAT_GA4_API_ENDPOINT", emulator.endpoint)
    monkeypatch.setenv("PERFPLAT_GA4_PROPERTY_ID", "123456")
    yield emulator
    emulator.stop()


MAY = Month.parse("2025-05")


def _run_may():
    return materialize_month(MAY)


def _evaluation(result, name: str):
    [evaluation] = [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION" and e.asset_check_evaluation_data.check_name == name
    ]
    return evaluation


def _published_may(data_dir) -> dict[str, float]:
    path = data_dir / "publish" / "make_a_lasting_power_of_attorney_25_05.json"
    return {r["dataType"]: r["count"] for r in json.loads(path.read_text(encoding="utf-8"))}


def test_a_property_in_another_time_zone_leaves_the_measure_out_saying_why(perfplat_env, pipeline_ga4):
    pipeline_ga4.time_zone = "America/New_York"

    result = _run_may()

    assert result.success
    published = _published_may(perfplat_env)
    assert "completion-rate" not in published and "uptime-percent" in published
    [dataset] = result.asset_materializations_for_node("make_an_lpa__performance_dataset")
    print(list(dataset.metadata))
    reason = dataset.metadata["left out 2025-05 completion-rate"].value
    assert "reporting time zone is America/New_York" in reason and "Europe/London in GA4 Admin" in reason
    check = _evaluation(result, "completion_rate_available")
    assert not check.passed and "America/New_York" in check.description
    [completion] = result.asset_materializations_for_node("make_an_lpa__completion_rate")
    assert completion.metadata["ga4_time_zone"].value == "America/New_York"


def test_truncated_data_warns_and_the_quota_is_in_the_metadata(perfplat_env, pipeline_ga4):
    Reason = ResponseMetaData.DataTruncationReason
    pipeline_ga4.data_truncation_reasons = [
        Reason(data_truncation_type=Reason.DataTruncationType.DATA_TRUNCATION_TYPE_DATE_RANGE)
    ]

    result = _run_may()

    assert result.success
    check = _evaluation(result, "ga4_response_exact")
    assert not check.passed and check.severity.value == "WARN"
    assert "data_truncated (DATE_RANGE)" in check.description
    assert _published_may(perfplat_env)["completion-rate"] == 60.0
    [completion] = result.asset_materializations_for_node("make_an_lpa__completion_rate")
    metadata = {key: value.value for key, value in completion.metadata.items()}
    assert (
        metadata["ga4_tokens_per_day_consumed"] == 10 and metadata["ga4_tokens_per_day_remaining"] == 199_990
    )
    assert (
        metadata["ga4_tokens_per_hour_consumed"] == 10 and metadata["ga4_tokens_per_hour_remaining"] == 39_990
    )
    assert metadata["data_truncated"] is True and metadata["ga4_data_truncation_reasons"] == "DATE_RANGE"
