"""The GA4 emulator, driven through the real `google-analytics-data` client over loopback HTTP.

Going through the official client (REST transport) with the request perfplat builds (`report_request`) is
the point: it proves the emulator's wire format is what the pipeline's GA4 code will see in production,
errors included. Expected figures are counted by hand from the small session list below, not computed with
the emulator's code.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
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
    Metric,
    MetricAggregation,
    MetricType,
    OrderBy,
    ResponseMetaData,
    RunReportRequest,
    RunReportResponse,
)
from google.api_core import exceptions
from google.auth.credentials import AnonymousCredentials

from perfplat_assets.common.months import LONDON, Month
from perfplat_assets.completion_rate.queries.data_api import report_request
from perfplat_assets_tests.support.ga4_faults import FaultyGA4Emulator
from perfplat_sample.sample_data import SampleSession

MatchType = Filter.StringFilter.MatchType
OrderType = OrderBy.DimensionOrderBy.OrderType
JUNE, JULY = Month.of(2024, 6), Month.of(2024, 7)


def _session(session_id: str, started_at: datetime, *paths: str) -> SampleSession:
    return SampleSession(session_id, started_at, tuple(paths), None)


def _london(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


# Filed by hand under the London month each session starts in, as `sample_sessions` does.
SESSIONS: dict[Month, list[SampleSession]] = {
    Month.of(2024, 5): [
        _session("may-1", _london(2024, 5, 31, 12, 0), "/lpa/type"),  # before the range
    ],
    JUNE: [
        # 2024-05-31 23:30 UTC is 00:30 BST on 1 June: inside June, inside the range.
        _session("jun-0", datetime(2024, 5, 31, 23, 30, tzinfo=UTC), "/home", "/lpa/type"),
        _session("jun-1", _london(2024, 6, 3, 10, 0), "/home", "/LPA/Type", "/lpa/1/donor"),  # any case
        _session("jun-2", _london(2024, 6, 15, 9, 0), "/user/dashboard/create/123", "/lpa/123/applicant"),
        _session("jun-3", _london(2024, 6, 20, 14, 0), "/home", "/user/dashboard"),
    ],
    JULY: [
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

# June: jun-0, jun-1, jun-2 started, jun-2 completed. July: jul-0, jul-1 started (not jul-3), jul-2 completed.
JUNE_AND_JULY = [
    ("202406", "completed", "1"),
    ("202406", "started", "3"),
    ("202407", "completed", "1"),
    ("202407", "started", "2"),
]


def perfplat(*months: Month, end: str | None = None, **fields: object) -> RunReportRequest:
    """The request perfplat sends for `months` (June and July 2024 by default), with `fields` changed."""
    request = report_request("123456", list(months or (JUNE, JULY)), limit=100)
    if end:
        request.date_ranges[0].end_date = end
    for name, value in fields.items():
        setattr(request, name, value)
    return request


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
def emulator(months_asked: list[Month]) -> Iterator[FaultyGA4Emulator]:
    def sessions_for_month(month: Month) -> list[SampleSession]:
        months_asked.append(month)
        return SESSIONS.get(month, [])

    with FaultyGA4Emulator(sessions_for_month) as running:
        yield running


def _rest_client(endpoint: str) -> BetaAnalyticsDataClient:
    return BetaAnalyticsDataClient(
        credentials=AnonymousCredentials(), transport="rest", client_options={"api_endpoint": endpoint}
    )


@pytest.fixture
def client(emulator: FaultyGA4Emulator, monkeypatch: pytest.MonkeyPatch) -> BetaAnalyticsDataClient:
    # A configured HTTP proxy would otherwise swallow the loopback calls.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    return _rest_client(emulator.endpoint)


def test_perfplats_report_counts_sessions_per_london_month_and_comparison(
    client: BetaAnalyticsDataClient, emulator: FaultyGA4Emulator, months_asked: list[Month]
) -> None:
    response = client.run_report(perfplat())

    assert rows(response) == JUNE_AND_JULY  # in the order asked: yearMonth, then comparison
    assert response.row_count == 4
    assert [header.name for header in response.dimension_headers] == ["yearMonth", "comparison"]
    assert [(header.name, header.type_) for header in response.metric_headers] == [
        ("sessions", MetricType.TYPE_INTEGER)
    ]
    assert sorted(set(months_asked)) == [JUNE, JULY]
    assert emulator.requests[0].property == "properties/123456"


def test_a_session_just_before_midnight_utc_in_summer_belongs_to_the_next_month(
    client: BetaAnalyticsDataClient,
) -> None:
    june = client.run_report(perfplat(JUNE))
    first_of_july = client.run_report(perfplat(JULY, end="2024-07-01"))

    assert rows(june)[1] == ("202406", "started", "3")  # jun-0, jun-1, jun-2; not jul-0
    assert rows(first_of_july) == [("202407", "started", "1")]  # jul-0 alone


def test_order_bys_are_honoured_most_significant_first(client: BetaAnalyticsDataClient) -> None:
    request = perfplat()
    request.order_bys = [
        *_ordering("comparison", OrderType.ALPHANUMERIC),
        *_ordering("yearMonth", OrderType.NUMERIC),
    ]

    assert [row[:2] for row in rows(client.run_report(request))] == [
        ("202406", "completed"),
        ("202407", "completed"),
        ("202406", "started"),
        ("202407", "started"),
    ]


def test_paging_returns_a_slice_and_the_total_row_count(client: BetaAnalyticsDataClient) -> None:
    pages = [client.run_report(perfplat(limit=1, offset=offset)) for offset in range(5)]

    assert [page.row_count for page in pages] == [4] * 5
    assert [rows(page) for page in pages] == [[row] for row in JUNE_AND_JULY] + [[]]


def test_metadata_defaults_to_clean_data(client: BetaAnalyticsDataClient) -> None:
    response = client.run_report(perfplat())

    assert response.kind == "analyticsData#runReport"
    assert response.metadata.currency_code == "GBP"
    assert response.metadata.time_zone == "Europe/London"
    assert not response.metadata.subject_to_thresholding
    assert not response.metadata.data_loss_from_other_row
    assert list(response.metadata.sampling_metadatas) == []
    assert list(response.metadata.data_truncation_reasons) == []


def test_metadata_flags_and_truncation_reach_the_client(
    client: BetaAnalyticsDataClient, emulator: FaultyGA4Emulator
) -> None:
    Reason = ResponseMetaData.DataTruncationReason
    emulator.subject_to_thresholding = True
    emulator.data_loss_from_other_row = True
    emulator.sampled = True
    emulator.data_truncation_reasons = [
        Reason(
            data_truncation_type=Reason.DataTruncationType.DATA_TRUNCATION_TYPE_PROPERTY,
            data_truncation_message="Data before the retention date is not available.",
            data_truncation_date="2024-06-15",
        )
    ]

    metadata = client.run_report(perfplat()).metadata

    assert metadata.subject_to_thresholding
    assert metadata.data_loss_from_other_row
    [sampling] = metadata.sampling_metadatas
    assert sampling.sampling_space_size == 8  # every session in June and July
    assert 0 < sampling.samples_read_count <= sampling.sampling_space_size
    [reason] = metadata.data_truncation_reasons
    assert reason.data_truncation_type == Reason.DataTruncationType.DATA_TRUNCATION_TYPE_PROPERTY
    assert reason.data_truncation_date == "2024-06-15"


def test_months_are_the_property_time_zones(
    client: BetaAnalyticsDataClient, months_asked: list[Month]
) -> None:
    # jun-0 starts 2024-05-31 23:30 UTC: 1 June in London, still 31 May in New York.
    assert rows(client.run_report(perfplat(end="2024-06-10"))) == [("202406", "started", "2")]
    months_asked.clear()

    def sessions_for_month(month: Month) -> list[SampleSession]:
        months_asked.append(month)
        return SESSIONS.get(month, [])

    with FaultyGA4Emulator(sessions_for_month, time_zone="America/New_York") as emulator:
        response = _rest_client(emulator.endpoint).run_report(perfplat(end="2024-06-10"))

    assert response.metadata.time_zone == "America/New_York"
    assert rows(response) == [("202406", "started", "1")]  # jun-1 alone
    assert sorted(set(months_asked)) == [Month.of(2024, 5), JUNE, JULY]  # a London month either side


STARTED = perfplat().comparisons[0]


def _comparing(expression: FilterExpression) -> list[Comparison]:
    return [Comparison(name="c", dimension_filter=expression)]


def _page_path(value: str, match_type: MatchType, field: str = "pagePath") -> FilterExpression:
    string_filter = Filter.StringFilter(match_type=match_type, value=value)
    return FilterExpression(filter=Filter(field_name=field, string_filter=string_filter))


def _ordering(name: str, order_type: OrderType, desc: bool = False) -> list[OrderBy]:
    return [
        OrderBy(dimension=OrderBy.DimensionOrderBy(dimension_name=name, order_type=order_type), desc=desc)
    ]


def _dates(start: str, end: str = "2024-07-31", name: str = "") -> list[DateRange]:
    return [DateRange(start_date=start, end_date=end, name=name)]


@pytest.mark.parametrize(
    ("fields", "complaint"),
    [
        # Beyond what perfplat sends: refused by name, not ignored.
        ({"dimensions": [Dimension(name="yearMonth"), Dimension(name="country")]}, "country"),
        ({"metrics": [Metric(name="activeUsers")]}, "activeUsers"),
        ({"date_ranges": _dates("2024-06-01") * 2}, "one date range, not 2"),
        ({"date_ranges": _dates("30daysAgo")}, "30daysAgo"),
        ({"date_ranges": _dates("2024-06-01", name="later")}, "DateRange.name"),
        ({"keep_empty_rows": True}, "keep_empty_rows"),
        ({"dimension_filter": STARTED.dimension_filter}, "RunReportRequest.dimension_filter"),
        ({"metric_aggregations": [MetricAggregation.TOTAL]}, "metric_aggregations"),
        ({"comparisons": [Comparison(name="saved", comparison="comparisons/1")]}, "Comparison.comparison"),
        (
            {"comparisons": _comparing(FilterExpression(not_expression=STARTED.dimension_filter))},
            "FilterExpression.not_expression",
        ),
        ({"comparisons": _comparing(_page_path("/lpa", MatchType.CONTAINS))}, "CONTAINS"),
        ({"comparisons": _comparing(_page_path("GB", MatchType.FULL_REGEXP, "country"))}, "'country'"),
        ({"order_bys": _ordering("yearMonth", OrderType.NUMERIC, desc=True)}, "OrderBy.desc"),
        (
            {"order_bys": _ordering("yearMonth", OrderType.CASE_INSENSITIVE_ALPHANUMERIC)},
            "CASE_INSENSITIVE_ALPHANUMERIC",
        ),
        ({"order_bys": [OrderBy(metric=OrderBy.MetricOrderBy(metric_name="sessions"))]}, "OrderBy.metric"),
        ({"order_bys": _ordering("dateRange", OrderType.ALPHANUMERIC)}, "'dateRange'"),
        # What GA4 itself refuses.
        ({"comparisons": _comparing(_page_path("(unclosed", MatchType.FULL_REGEXP))}, "regular expression"),
        ({"date_ranges": _dates("2024-08-01")}, "after the end date"),
        ({"comparisons": [STARTED, STARTED]}, "unique"),
    ],
)
def test_anything_else_is_refused_as_invalid_argument_naming_it(
    client: BetaAnalyticsDataClient, emulator: FaultyGA4Emulator, fields: dict[str, object], complaint: str
) -> None:
    with pytest.raises(exceptions.BadRequest, match=re.escape(complaint)) as raised:
        client.run_report(perfplat(**fields))

    assert raised.value.response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert emulator.requests_served == 1


def _raw(emulator: FaultyGA4Emulator, path: str, body: bytes | None = None) -> tuple[int, dict[str, object]]:
    """Bypass the client (and any proxy) to check answers the client would never provoke."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(emulator.endpoint + path, data=body, method="POST" if body else "GET")
    with pytest.raises(urllib.error.HTTPError) as raised:
        opener.open(request, timeout=5)
    return raised.value.code, json.loads(raised.value.read())


def test_other_paths_and_bad_bodies_get_ga4_style_errors(emulator: FaultyGA4Emulator) -> None:
    status, body = _raw(emulator, "/v1beta/properties/1:runReport")
    assert status == 404
    assert body["error"]["status"] == "NOT_FOUND"  # type: ignore[index]

    status, body = _raw(emulator, "/v1beta/properties/1:runReport?$alt=json", b"{not json")
    assert status == 400
    assert body["error"]["status"] == "INVALID_ARGUMENT"  # type: ignore[index]
    assert body["error"]["code"] == 400  # type: ignore[index]


def test_stop_is_idempotent_and_frees_the_endpoint() -> None:
    emulator = FaultyGA4Emulator(lambda month: []).start()
    assert emulator.endpoint.startswith("http://127.0.0.1:")

    emulator.stop()
    emulator.stop()

    with pytest.raises(RuntimeError):
        _ = emulator.endpoint


# --- quota and faults ------------------------------------------------------------------------------------


def test_property_quota_only_when_asked(client: BetaAnalyticsDataClient) -> None:
    plain = client.run_report(perfplat(return_property_quota=False))
    first = client.run_report(perfplat())
    second = client.run_report(perfplat())

    assert "property_quota" not in plain
    day, hour = first.property_quota.tokens_per_day, second.property_quota.tokens_per_hour
    assert (day.consumed, day.remaining) == (10, 199_980)
    assert (hour.consumed, hour.remaining) == (10, 39_970)
    assert second.property_quota.server_errors_per_project_per_hour.remaining == 10


def test_an_injected_429_raises_too_many_requests_then_the_next_call_succeeds(
    client: BetaAnalyticsDataClient, emulator: FaultyGA4Emulator
) -> None:
    emulator.fail_next(429)

    with pytest.raises(exceptions.TooManyRequests):
        client.run_report(perfplat())
    response = client.run_report(perfplat())

    assert rows(response) == JUNE_AND_JULY
    assert emulator.requests_served == len(emulator.requests) == 2


@pytest.mark.parametrize(
    ("status", "error"),
    [(500, exceptions.InternalServerError), (503, exceptions.ServiceUnavailable)],
)
def test_injected_server_errors_repeat_as_many_times_as_asked(
    client: BetaAnalyticsDataClient, emulator: FaultyGA4Emulator, status: int, error: type[Exception]
) -> None:
    emulator.fail_next(status, times=2)

    for _ in range(2):
        with pytest.raises(error):
            client.run_report(perfplat())
    client.run_report(perfplat())

    assert emulator.requests_served == 3


def test_ten_server_errors_exhaust_the_property_for_the_hour(
    client: BetaAnalyticsDataClient, emulator: FaultyGA4Emulator
) -> None:
    emulator.fail_next(500, times=10)
    for _ in range(10):
        with pytest.raises(exceptions.InternalServerError):
            client.run_report(perfplat())

    with pytest.raises(exceptions.TooManyRequests, match="server errors per project per property per hour"):
        client.run_report(perfplat())


def test_a_hung_request_answers_after_the_delay_or_never(
    client: BetaAnalyticsDataClient, emulator: FaultyGA4Emulator
) -> None:
    emulator.hang_next(seconds=0.3)
    started = time.monotonic()
    assert rows(client.run_report(perfplat())) == JUNE_AND_JULY
    assert time.monotonic() - started >= 0.3

    emulator.hang_next()  # never: the client's timeout ends it
    with pytest.raises(requests.exceptions.ReadTimeout):
        client.run_report(perfplat(), timeout=0.3)


def test_a_malformed_answer_is_a_200_that_is_not_json(emulator: FaultyGA4Emulator) -> None:
    emulator.malformed_next(body="<html>Bad gateway</html>")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(
        emulator.endpoint + "/v1beta/properties/1:runReport", data=b"{}", method="POST"
    )
    with opener.open(request, timeout=5) as answer:
        assert answer.status == 200 and answer.read() == b"<html>Bad gateway</html>"


def test_fractional_sessions_and_an_ignored_offset(
    client: BetaAnalyticsDataClient, emulator: FaultyGA4Emulator
) -> None:
    emulator.fractional_sessions = True
    emulator.ignore_offset = True

    assert rows(client.run_report(perfplat(limit=1, offset=2))) == [("202406", "completed", "1.5")]


def test_the_same_reports_over_grpc() -> None:
    with FaultyGA4Emulator(lambda month: SESSIONS.get(month, []), grpc=True) as emulator:
        channel = grpc.insecure_channel(emulator.grpc_endpoint)
        client = BetaAnalyticsDataClient(transport=BetaAnalyticsDataGrpcTransport(channel=channel))
        response = client.run_report(perfplat())
        emulator.fail_next(403, message="User does not have sufficient permissions for this property.")
        with pytest.raises(exceptions.PermissionDenied, match="sufficient permissions"):
            client.run_report(perfplat())
        emulator.fail_next(429)
        with pytest.raises(exceptions.ResourceExhausted):
            client.run_report(perfplat())
        with pytest.raises(exceptions.InvalidArgument, match="keep_empty_rows"):
            client.run_report(perfplat(keep_empty_rows=True))
        emulator.hang_next()
        with pytest.raises(exceptions.DeadlineExceeded):
            client.run_report(perfplat(), timeout=0.3)
        channel.close()

    assert rows(response) == JUNE_AND_JULY
    assert response.property_quota.tokens_per_day.consumed == 10
    assert emulator.requests[0].property == "properties/123456"
