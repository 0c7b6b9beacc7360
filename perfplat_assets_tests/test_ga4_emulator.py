"""The GA4 emulator, driven through the real `google-analytics-data` client over loopback HTTP.

Going through the official client (REST transport) is the point: it proves the emulator's wire format is
what the pipeline's GA4 code will see in production, errors included. Expected figures are counted by hand
from the small session list below, not computed with the emulator's code.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

import grpc
import pytest
import requests
from google.analytics.data_v1beta import BetaAnalyticsDataClient
from google.analytics.data_v1beta.services.beta_analytics_data.transports import (
    BetaAnalyticsDataGrpcTransport,
)
from google.analytics.data_v1beta.types import (
    Comparison,
    DateRange,
    Dimension,
    Filter,
    FilterExpression,
    FilterExpressionList,
    Metric,
    MetricType,
    ResponseMetaData,
    RunReportRequest,
    RunReportResponse,
)
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials

from perfplat_assets.common.months import LONDON, Month
from perfplat_assets.embedded.ga4_emulator import GA4Emulator
from perfplat_assets.embedded.sample_data import SampleSession

MatchType = Filter.StringFilter.MatchType
START_PAGES = r"^/user/dashboard/create(/\d+)?$|^/lpa/type$"
APPLICANT = r"^/lpa/\d+/applicant$"


def _session(session_id: str, started_at: datetime, *paths: str) -> SampleSession:
    return SampleSession(session_id, started_at, tuple(paths), None)


def _london(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


# Filed by hand under the London month each session starts in, as `sample_sessions` does.
SESSIONS: dict[Month, list[SampleSession]] = {
    Month.of(2024, 5): [
        _session("may-1", _london(2024, 5, 31, 12, 0), "/lpa/type"),  # before the range
    ],
    Month.of(2024, 6): [
        # 2024-05-31 23:30 UTC is 00:30 BST on 1 June: inside June, inside the range.
        _session("jun-0", datetime(2024, 5, 31, 23, 30, tzinfo=UTC), "/home", "/lpa/type"),
        _session("jun-1", _london(2024, 6, 3, 10, 0), "/home", "/lpa/type", "/lpa/1/donor"),
        _session("jun-2", _london(2024, 6, 15, 9, 0), "/user/dashboard/create/123", "/lpa/123/applicant"),
        _session("jun-3", _london(2024, 6, 20, 14, 0), "/home", "/user/dashboard"),
    ],
    Month.of(2024, 7): [
        # 2024-06-30 23:30 UTC is 00:30 BST on 1 July: GA4 files it under 202407, not 202406.
        _session("jul-0", datetime(2024, 6, 30, 23, 30, tzinfo=UTC), "/lpa/type"),
        # Two matching paths, one session: counts once.
        _session("jul-1", _london(2024, 7, 10, 8, 0), "/user/dashboard/create", "/user/dashboard/create/55"),
        _session("jul-2", _london(2024, 7, 11, 8, 0), "/lpa/77/applicant"),
        # Contains a start page only as a prefix: FULL_REGEXP must not match it.
        _session("jul-3", _london(2024, 7, 12, 8, 0), "/lpa/type/extra"),
    ],
    Month.of(2024, 8): [
        # 2024-07-31 23:30 UTC is 00:30 BST on 1 August: after the range.
        _session("aug-0", datetime(2024, 7, 31, 23, 30, tzinfo=UTC), "/lpa/type"),
    ],
}


def regexp(pattern: str) -> FilterExpression:
    return string_filter(pattern, MatchType.FULL_REGEXP)


def string_filter(value: str, match_type: MatchType, case_sensitive: bool = False) -> FilterExpression:
    return FilterExpression(
        filter=Filter(
            field_name="pagePath",
            string_filter=Filter.StringFilter(
                match_type=match_type, value=value, case_sensitive=case_sensitive
            ),
        )
    )


def report(
    dimensions: Sequence[str] = ("yearMonth",),
    *,
    start: str = "2024-06-01",
    end: str = "2024-07-31",
    **fields: object,
) -> RunReportRequest:
    return RunReportRequest(
        property="properties/123456",
        dimensions=[Dimension(name=name) for name in dimensions],
        metrics=[Metric(name="sessions")],
        date_ranges=[DateRange(start_date=start, end_date=end)],
        **fields,
    )


def rows(response: RunReportResponse) -> list[tuple[str, ...]]:
    """Each row as its dimension values followed by its metric values."""
    return [
        tuple(value.value for value in row.dimension_values)
        + tuple(value.value for value in row.metric_values)
        for row in response.rows
    ]


@pytest.fixture
def months_asked() -> list[Month]:
    return []


@pytest.fixture
def emulator(months_asked: list[Month]) -> Iterator[GA4Emulator]:
    def sessions_for_month(month: Month) -> list[SampleSession]:
        months_asked.append(month)
        return SESSIONS.get(month, [])

    with GA4Emulator(sessions_for_month) as running:
        yield running


@pytest.fixture
def client(emulator: GA4Emulator, monkeypatch: pytest.MonkeyPatch) -> BetaAnalyticsDataClient:
    # A configured HTTP proxy would otherwise swallow the loopback calls.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return BetaAnalyticsDataClient(
        credentials=AnonymousCredentials(),
        transport="rest",
        client_options={"api_endpoint": emulator.endpoint},
    )


def test_counts_sessions_per_london_month_with_a_full_regexp(
    client: BetaAnalyticsDataClient, emulator: GA4Emulator, months_asked: list[Month]
) -> None:
    response = client.run_report(report(dimension_filter=regexp(START_PAGES)))

    # June: jun-0 (1 June BST), jun-1, jun-2. July: jul-0 (1 July BST), jul-1 once; not jul-3's prefix.
    assert rows(response) == [("202406", "3"), ("202407", "2")]
    assert response.row_count == 2
    assert [header.name for header in response.dimension_headers] == ["yearMonth"]
    assert [(header.name, header.type_) for header in response.metric_headers] == [
        ("sessions", MetricType.TYPE_INTEGER)
    ]
    assert sorted(set(months_asked)) == [Month.of(2024, 6), Month.of(2024, 7)]
    assert emulator.requests[0].property == "properties/123456"
    assert emulator.requests[0].dimension_filter.filter.string_filter.value == START_PAGES


def test_a_session_just_before_midnight_utc_in_summer_belongs_to_the_next_month(
    client: BetaAnalyticsDataClient,
) -> None:
    june = client.run_report(
        report(start="2024-06-01", end="2024-06-30", dimension_filter=regexp("/lpa/type"))
    )
    july = client.run_report(
        report(start="2024-07-01", end="2024-07-01", dimension_filter=regexp("/lpa/type"))
    )

    assert rows(june) == [("202406", "2")]  # jun-0 and jun-1; not jul-0
    assert rows(july) == [("202407", "1")]  # jul-0 alone


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (string_filter("/lpa/type", MatchType.EXACT), "3"),  # jun-0, jun-1, jul-0
        (string_filter("/LPA/TYPE", MatchType.EXACT), "3"),  # case-insensitive by default, as in GA4
        (string_filter("/LPA/TYPE", MatchType.EXACT, case_sensitive=True), None),
        (string_filter("/user/dashboard/create", MatchType.BEGINS_WITH), "2"),  # jun-2, jul-1
        (string_filter("/applicant", MatchType.ENDS_WITH), "2"),  # jun-2, jul-2
        (string_filter("dashboard", MatchType.CONTAINS), "3"),  # jun-2, jun-3, jul-1
        (string_filter("^/lpa/type", MatchType.PARTIAL_REGEXP), "4"),  # jun-0, jun-1, jul-0, jul-3
        (
            FilterExpression(
                filter=Filter(
                    field_name="pagePath",
                    in_list_filter=Filter.InListFilter(values=["/home", "/lpa/77/applicant"]),
                )
            ),
            "4",  # jun-0, jun-1, jun-3, jul-2
        ),
        (
            FilterExpression(
                and_group=FilterExpressionList(
                    expressions=[
                        string_filter("/lpa/", MatchType.BEGINS_WITH),
                        FilterExpression(not_expression=string_filter("/lpa/type", MatchType.BEGINS_WITH)),
                    ]
                )
            ),
            "3",  # /lpa/<n>/...: jun-1, jun-2, jul-2
        ),
        (
            FilterExpression(
                or_group=FilterExpressionList(
                    expressions=[regexp(APPLICANT), string_filter("/lpa/type/extra", MatchType.EXACT)]
                )
            ),
            "3",  # jun-2, jul-2, jul-3
        ),
        # Per path, not per session: no single path both starts a journey and names the applicant.
        (
            FilterExpression(
                and_group=FilterExpressionList(expressions=[regexp(START_PAGES), regexp(APPLICANT)])
            ),
            None,
        ),
    ],
)
def test_filter_expressions_match_sessions_with_a_satisfying_page(
    client: BetaAnalyticsDataClient, expression: FilterExpression, expected: str | None
) -> None:
    response = client.run_report(report(dimensions=(), dimension_filter=expression))

    assert rows(response) == ([(expected,)] if expected else [])


def test_comparisons_give_a_row_per_comparison_and_month(client: BetaAnalyticsDataClient) -> None:
    comparisons = [
        Comparison(name="started", dimension_filter=regexp(START_PAGES)),
        Comparison(name="applicant", dimension_filter=regexp(APPLICANT)),
    ]

    response = client.run_report(report(comparisons=comparisons))

    assert [header.name for header in response.dimension_headers] == ["yearMonth", "comparison"]
    assert rows(response) == [
        ("202406", "applicant", "1"),  # jun-2
        ("202406", "started", "3"),  # jun-0, jun-1, jun-2
        ("202407", "applicant", "1"),  # jul-2
        ("202407", "started", "2"),  # jul-0, jul-1
    ]
    assert response.row_count == 4


def test_comparisons_combine_with_the_request_filter_and_keep_the_requested_column_order(
    client: BetaAnalyticsDataClient,
) -> None:
    comparisons = [
        Comparison(name="started", dimension_filter=regexp(START_PAGES)),
        Comparison(name="applicant", dimension_filter=regexp(APPLICANT)),
    ]

    response = client.run_report(
        report(
            dimensions=("comparison", "yearMonth"),
            comparisons=comparisons,
            dimension_filter=string_filter("applicant", MatchType.CONTAINS),
        )
    )

    assert [header.name for header in response.dimension_headers] == ["comparison", "yearMonth"]
    # Only jun-2 both started and reached an applicant page; July's "started" row is empty, so omitted.
    assert rows(response) == [
        ("applicant", "202406", "1"),
        ("applicant", "202407", "1"),
        ("started", "202406", "1"),
    ]


def test_several_date_ranges_add_a_date_range_dimension(client: BetaAnalyticsDataClient) -> None:
    request = report(dimension_filter=regexp(START_PAGES))
    request.date_ranges = [
        DateRange(start_date="2024-06-01", end_date="2024-06-30"),
        DateRange(start_date="2024-06-15", end_date="2024-07-31", name="later"),
    ]

    response = client.run_report(request)

    assert [header.name for header in response.dimension_headers] == ["yearMonth", "dateRange"]
    assert rows(response) == [
        ("202406", "date_range_0", "3"),  # jun-0, jun-1, jun-2
        ("202406", "later", "1"),  # jun-2
        ("202407", "later", "2"),  # jul-0, jul-1
    ]


def test_paging_returns_a_slice_and_the_total_row_count(client: BetaAnalyticsDataClient) -> None:
    comparisons = [
        Comparison(name="started", dimension_filter=regexp(START_PAGES)),
        Comparison(name="applicant", dimension_filter=regexp(APPLICANT)),
    ]
    everything = rows(client.run_report(report(comparisons=comparisons)))

    pages = [
        client.run_report(report(comparisons=comparisons, limit=1, offset=offset)) for offset in range(5)
    ]

    assert [page.row_count for page in pages] == [4] * 5
    assert [rows(page) for page in pages] == [[row] for row in everything] + [[]]


def test_an_injected_429_raises_too_many_requests_then_the_next_call_succeeds(
    client: BetaAnalyticsDataClient, emulator: GA4Emulator
) -> None:
    emulator.fail_next(429)

    with pytest.raises(exceptions.TooManyRequests):
        client.run_report(report())
    response = client.run_report(report())

    assert rows(response) == [("202406", "4"), ("202407", "4")]
    assert emulator.requests_served == 2
    assert len(emulator.requests) == 2


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, exceptions.InternalServerError), (503, exceptions.ServiceUnavailable)],
)
def test_injected_server_errors_repeat_as_many_times_as_asked(
    client: BetaAnalyticsDataClient, emulator: GA4Emulator, status: int, error: type[Exception]
) -> None:
    emulator.fail_next(status, times=2)

    for _ in range(2):
        with pytest.raises(error):
            client.run_report(report())
    client.run_report(report())

    assert emulator.requests_served == 3


def test_metadata_defaults_to_clean_data(client: BetaAnalyticsDataClient) -> None:
    response = client.run_report(report())

    assert response.kind == "analyticsData#runReport"
    assert response.metadata.currency_code == "GBP"
    assert response.metadata.time_zone == "Europe/London"
    assert not response.metadata.subject_to_thresholding
    assert not response.metadata.data_loss_from_other_row
    assert list(response.metadata.sampling_metadatas) == []


def test_metadata_flags_reach_the_client(client: BetaAnalyticsDataClient, emulator: GA4Emulator) -> None:
    emulator.subject_to_thresholding = True
    emulator.data_loss_from_other_row = True
    emulator.sampled = True

    response = client.run_report(report())

    assert response.metadata.subject_to_thresholding
    assert response.metadata.data_loss_from_other_row
    [sampling] = response.metadata.sampling_metadatas
    assert sampling.sampling_space_size == 8  # every session in June and July
    assert 0 < sampling.samples_read_count <= sampling.sampling_space_size


@pytest.mark.parametrize(
    ("request_", "complaint"),
    [
        (report(dimensions=("yearMonth", "country")), "country"),
        (
            RunReportRequest(
                property="properties/1",
                metrics=[Metric(name="activeUsers")],
                date_ranges=[DateRange(start_date="2024-06-01", end_date="2024-06-30")],
            ),
            "activeUsers",
        ),
        (report(dimension_filter=FilterExpression(filter=Filter(field_name="country"))), "country"),
        (report(comparisons=[Comparison(name="saved", comparison="comparisons/1")]), "Saved comparisons"),
        (report(dimension_filter=regexp("(unclosed")), "regular expression"),
        (report(start="2024-07-01", end="2024-06-01"), "after"),
        (report(dimensions=("comparison",)), "comparison"),
    ],
)
def test_unsupported_requests_raise_bad_request(
    client: BetaAnalyticsDataClient, emulator: GA4Emulator, request_: RunReportRequest, complaint: str
) -> None:
    with pytest.raises(exceptions.BadRequest, match=complaint):
        client.run_report(request_)

    assert emulator.requests_served == 1


def _raw(emulator: GA4Emulator, path: str, body: bytes | None = None) -> tuple[int, dict[str, object]]:
    """Bypass the client (and any proxy) to check answers the client would never provoke."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(emulator.endpoint + path, data=body, method="POST" if body else "GET")
    with pytest.raises(urllib.error.HTTPError) as raised:
        opener.open(request, timeout=5)
    return raised.value.code, json.loads(raised.value.read())


def test_other_paths_and_bad_bodies_get_ga4_style_errors(emulator: GA4Emulator) -> None:
    status, body = _raw(emulator, "/v1beta/properties/1:runReport")
    assert status == 404
    assert body["error"]["status"] == "NOT_FOUND"  # type: ignore[index]

    status, body = _raw(emulator, "/v1beta/properties/1:runReport?$alt=json", b"{not json")
    assert status == 400
    assert body["error"]["status"] == "INVALID_ARGUMENT"  # type: ignore[index]
    assert body["error"]["code"] == 400  # type: ignore[index]


def test_stop_is_idempotent_and_frees_the_endpoint() -> None:
    emulator = GA4Emulator(lambda month: []).start()
    assert emulator.endpoint.startswith("http://127.0.0.1:")

    emulator.stop()
    emulator.stop()

    with pytest.raises(RuntimeError):
        _ = emulator.endpoint


# --- the property's time zone, quota, truncation, order, faults; gRPC ------------------------------------


def test_months_are_the_property_time_zones(months_asked: list[Month]) -> None:
    # jun-0 starts 2024-05-31 23:30 UTC: 1 June in London, still 31 May in New York.
    def sessions_for_month(month: Month) -> list[SampleSession]:
        months_asked.append(month)
        return SESSIONS.get(month, [])

    with GA4Emulator(sessions_for_month, time_zone="America/New_York") as emulator:
        client = BetaAnalyticsDataClient(
            credentials=AnonymousCredentials(),
            transport="rest",
            client_options={"api_endpoint": emulator.endpoint},
        )
        response = client.run_report(report(dimension_filter=string_filter("/home", MatchType.EXACT)))

    assert response.metadata.time_zone == "America/New_York"
    # In London June has jun-0, jun-1 and jun-3; in New York jun-0 is a May session.
    assert rows(response) == [("202406", "2")]
    assert Month.of(2024, 5) in months_asked and Month.of(2024, 8) in months_asked


def test_property_quota_only_when_asked(client: BetaAnalyticsDataClient, emulator: GA4Emulator) -> None:
    plain = client.run_report(report())
    first = client.run_report(report(return_property_quota=True))
    second = client.run_report(report(return_property_quota=True))

    assert "property_quota" not in plain
    assert (first.property_quota.tokens_per_day.consumed, first.property_quota.tokens_per_day.remaining) == (
        10,
        199_980,
    )
    assert (
        second.property_quota.tokens_per_hour.consumed,
        second.property_quota.tokens_per_hour.remaining,
    ) == (
        10,
        39_970,
    )
    assert second.property_quota.server_errors_per_project_per_hour.remaining == 10


def test_ten_server_errors_exhaust_the_property_for_the_hour(
    client: BetaAnalyticsDataClient, emulator: GA4Emulator
) -> None:
    emulator.fail_next(500, times=10)
    for _ in range(10):
        with pytest.raises(exceptions.InternalServerError):
            client.run_report(report())

    with pytest.raises(exceptions.TooManyRequests, match="server errors per project per property per hour"):
        client.run_report(report())


def test_data_truncation_reasons_reach_the_client(
    client: BetaAnalyticsDataClient, emulator: GA4Emulator
) -> None:
    Reason = ResponseMetaData.DataTruncationReason
    emulator.data_truncation_reasons = [
        Reason(
            data_truncation_type=Reason.DataTruncationType.DATA_TRUNCATION_TYPE_PROPERTY,
            data_truncation_message="Data before the retention date is not available.",
            data_truncation_date="2024-06-15",
        )
    ]

    [reason] = client.run_report(report()).metadata.data_truncation_reasons

    assert reason.data_truncation_type == Reason.DataTruncationType.DATA_TRUNCATION_TYPE_PROPERTY
    assert reason.data_truncation_date == "2024-06-15"


def test_order_bys_as_perfplat_sends_them(client: BetaAnalyticsDataClient) -> None:
    from perfplat_assets.completion_rate.ga4_report import report_request

    request = report_request("123456", [Month.of(2024, 6), Month.of(2024, 7)], limit=10)
    response = client.run_report(request)
    assert [r[:2] for r in rows(response)] == [
        ("202406", "completed"),
        ("202406", "started"),
        ("202407", "completed"),
        ("202407", "started"),
    ]

    request.order_bys[0].desc = True  # the emulator honours direction too
    assert rows(client.run_report(request))[0][:2] == ("202407", "completed")


def test_a_hung_request_answers_after_the_delay_or_at_stop(emulator: GA4Emulator) -> None:
    slow = BetaAnalyticsDataClient(
        credentials=AnonymousCredentials(),
        transport="rest",
        client_options={"api_endpoint": emulator.endpoint},
    )
    emulator.hang_next(seconds=0.3)
    started = time.monotonic()
    assert rows(slow.run_report(report())) == [("202406", "4"), ("202407", "4")]
    assert time.monotonic() - started >= 0.3

    emulator.hang_next()  # never: the client's timeout ends it
    with pytest.raises(requests.exceptions.ReadTimeout):
        slow.run_report(report(), timeout=0.3)


def test_a_malformed_answer_is_a_200_that_is_not_json(emulator: GA4Emulator) -> None:
    emulator.malformed_next(body="<html>Bad gateway</html>")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(
        emulator.endpoint + "/v1beta/properties/1:runReport", data=b"{}", method="POST"
    )
    with opener.open(request, timeout=5) as answer:
        assert answer.status == 200 and answer.read() == b"<html>Bad gateway</html>"


def test_the_same_reports_over_grpc(months_asked: list[Month]) -> None:
    with GA4Emulator(lambda month: SESSIONS.get(month, []), grpc=True) as emulator:
        channel = grpc.insecure_channel(emulator.grpc_endpoint)
        client = BetaAnalyticsDataClient(transport=BetaAnalyticsDataGrpcTransport(channel=channel))
        response = client.run_report(report(dimension_filter=regexp(START_PAGES), return_property_quota=True))
        emulator.fail_next(403, message="User does not have sufficient permissions for this property.")
        with pytest.raises(exceptions.PermissionDenied, match="sufficient permissions"):
            client.run_report(report())
        emulator.fail_next(429)
        with pytest.raises(exceptions.ResourceExhausted):
            client.run_report(report())
        emulator.hang_next()
        with pytest.raises(exceptions.DeadlineExceeded):
            client.run_report(report(), timeout=0.3)
        channel.close()

    assert rows(response) == [("202406", "3"), ("202407", "2")]
    assert response.property_quota.tokens_per_day.consumed == 10
    assert emulator.requests[0].property == "properties/123456"
