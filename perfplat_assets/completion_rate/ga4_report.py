"""The GA4 Data API report behind the completion rate: one `runReport` for any run of months.

Both session counts come from one request: two comparisons (start pages, applicant page) split every
`yearMonth` row, so a range of months costs one request (and more only when it needs paging).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from google.analytics.data_v1beta import BetaAnalyticsDataClient
from google.analytics.data_v1beta.types import (
    Comparison,
    DateRange,
    Dimension,
    Filter,
    FilterExpression,
    Metric,
    RunReportRequest,
    RunReportResponse,
)
from google.api_core import exceptions as google_exceptions
from google.api_core.retry import Retry, if_exception_type

from perfplat_assets.common.months import Month, contiguous
from perfplat_assets.completion_rate.rate import ReportFlags, SessionCounts

# GA4 FULL_REGEXP filters match the whole page path (RE2 syntax).
START_PAGES = r"/user/dashboard/create(/\d+)?|/lpa/type"
APPLICANT_PAGE = r"/lpa/\d+/applicant"
STARTED, COMPLETED = "started", "completed"
MAX_PAGE_SIZE = 250_000

RETRYABLE = (
    google_exceptions.TooManyRequests,
    google_exceptions.ResourceExhausted,
    google_exceptions.InternalServerError,
    google_exceptions.BadGateway,
    google_exceptions.ServiceUnavailable,
    google_exceptions.GatewayTimeout,
    google_exceptions.DeadlineExceeded,
)


def _page_path_matches(pattern: str) -> FilterExpression:
    return FilterExpression(
        filter=Filter(
            field_name="pagePath",
            string_filter=Filter.StringFilter(
                match_type=Filter.StringFilter.MatchType.FULL_REGEXP, value=pattern
            ),
        )
    )


def report_request(
    property_id: str, months: Sequence[Month], *, limit: int, offset: int = 0
) -> RunReportRequest:
    months = contiguous(months)
    return RunReportRequest(
        property=f"properties/{property_id}",
        date_ranges=[
            DateRange(start_date=months[0].first_day.isoformat(), end_date=months[-1].last_day.isoformat())
        ],
        dimensions=[Dimension(name="yearMonth")],
        metrics=[Metric(name="sessions")],
        comparisons=[
            Comparison(name=STARTED, dimension_filter=_page_path_matches(START_PAGES)),
            Comparison(name=COMPLETED, dimension_filter=_page_path_matches(APPLICANT_PAGE)),
        ],
        limit=limit,
        offset=offset,
    )


@dataclass(frozen=True)
class CompletionReport:
    sessions: dict[Month, SessionCounts]
    flags: ReportFlags
    requests: int


def retry_policy(initial_delay: float, deadline: float) -> Retry:
    """Back off on quota (429) and server errors; `run_report` retries nothing by default."""
    return Retry(
        predicate=if_exception_type(*RETRYABLE),
        initial=initial_delay,
        maximum=max(initial_delay, 60.0),
        multiplier=2.0,
        timeout=deadline,
    )


def _merge_flags(flags: ReportFlags, response: RunReportResponse) -> ReportFlags:
    metadata = response.metadata
    return ReportFlags(
        subject_to_thresholding=flags.subject_to_thresholding or bool(metadata.subject_to_thresholding),
        sampled=flags.sampled or bool(metadata.sampling_metadatas),
        data_loss_from_other_row=flags.data_loss_from_other_row or bool(metadata.data_loss_from_other_row),
    )


def fetch_completion_report(
    client: BetaAnalyticsDataClient,
    property_id: str,
    months: Sequence[Month],
    *,
    page_size: int = 100_000,
    retry: Retry | None = None,
    timeout: float = 120.0,
) -> CompletionReport:
    """Session counts per month for the whole range, paging until `row_count` rows are read."""
    months = contiguous(months)
    wanted = {month.first_day.strftime("%Y%m"): month for month in months}
    counts: dict[Month, dict[str, int]] = {month: {STARTED: 0, COMPLETED: 0} for month in months}
    flags, offset, requests = ReportFlags(), 0, 0
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    while True:
        request = report_request(property_id, months, limit=page_size, offset=offset)
        response = client.run_report(request=request, retry=retry, timeout=timeout)
        requests += 1
        flags = _merge_flags(flags, response)
        headers = [header.name for header in response.dimension_headers]
        try:
            month_at, comparison_at = headers.index("yearMonth"), headers.index("comparison")
        except ValueError:
            raise RuntimeError(
                f"GA4 answered without the yearMonth and comparison columns: {headers}"
            ) from None
        for row in response.rows:
            year_month = row.dimension_values[month_at].value
            comparison = row.dimension_values[comparison_at].value
            if year_month in wanted and comparison in (STARTED, COMPLETED):
                counts[wanted[year_month]][comparison] += int(row.metric_values[0].value)
        offset += len(response.rows)
        if not response.rows or offset >= response.row_count:
            break
    sessions = {month: SessionCounts(c[STARTED], c[COMPLETED]) for month, c in counts.items()}
    return CompletionReport(sessions, flags, requests)
