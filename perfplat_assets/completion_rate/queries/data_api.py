"""The GA4 Data API report behind the completion rate: one `runReport` for any run of months.

Both session counts come from one request: two comparisons (start pages, applicant page) split every
`yearMonth` row, so a range of months costs one request (and more only when it needs paging).

Every way GA4 can let the report down ends in a `SourceUnavailable` that names the endpoint and says what
to do: a request that times out or meets the quota is retried until the retry deadline; a server error at
most `max_server_error_retries` times (GA4 refuses a property every request for the rest of the hour after
10 server errors); a refusal (400, 401, 403, 404) at once, quoting GA4; an answer that is not a report, at
once. A report's rows are checked before any is counted (`common.answers`): a month whose session count is
not a whole number, 0 or more, or is given twice with different counts, is wrong and left out of the
report's months, with why; a row of a month (or a comparison) not asked for is ignored and reported. (A
month with more sessions on the applicant page than on a start page is not wrong: GA4 counts sessions, not
journeys, and the completion rate's range check withholds such a month, saying so.)

An endpoint that cannot be reached (its name does not resolve, the connection is refused, TLS or a proxy
fails) is told apart from all of these, although gRPC says UNAVAILABLE for it as for a server's 503: GA4
never answered, so the message says what failed on the way and to check the network, proxy or
PERFPLAT_GA4_API_ENDPOINT, not to re-run later.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import requests
from google.analytics.data_v1beta import BetaAnalyticsDataClient
from google.analytics.data_v1beta.types import (
    Comparison,
    DateRange,
    Dimension,
    Filter,
    FilterExpression,
    Metric,
    OrderBy,
    RunReportRequest,
    RunReportResponse,
)
from google.api_core import exceptions as google_exceptions
from google.protobuf.json_format import ParseError

from perfplat_assets.common.answers import Answer, AnswerCheck
from perfplat_assets.common.errors import SourceUnavailable, clause
from perfplat_assets.common.months import Month, contiguous
from perfplat_assets.common.network import unreachable_cause
from perfplat_assets.completion_rate.calculation import ReportFlags, SessionCounts

# GA4 FULL_REGEXP filters match the whole page path (RE2 syntax).
START_PAGES = r"/user/dashboard/create(/\d+)?|/lpa/type"
APPLICANT_PAGE = r"/lpa/\d+/applicant"
STARTED, COMPLETED = "started", "completed"
# Each comparison's sessions, as a message about GA4's answer names them.
COUNTED = {STARTED: "sessions on a start page", COMPLETED: "sessions on the applicant page"}
YEAR_MONTH, COMPARISON = "yearMonth", "comparison"
MAX_PAGE_SIZE = 250_000
PAGE_SIZE = 100_000  # rows per runReport page unless configured
# Two rows a month: a report of even 20 years fits one page of the default size. A response that keeps
# asking for more pages than this is not the report perfplat asked for.
MAX_PAGES = 20
# GA4 counts server errors per project and property: past 10 in an hour, every request is refused.
GA4_SERVER_ERRORS_PER_HOUR = 10
# A connection can fail for a moment (a restarting proxy, a resolver's hiccup), so an endpoint that cannot
# be reached is tried a few times more, within the deadline; GA4 counts none of these, as none reached it.
UNREACHABLE_RETRIES = 3

QUOTA_ERRORS = (google_exceptions.TooManyRequests, google_exceptions.ResourceExhausted)
# A request that did not answer in time: the REST transport's own timeout, or gRPC's deadline.
TIMEOUTS = (requests.exceptions.Timeout, google_exceptions.DeadlineExceeded)
SERVER_ERRORS = (google_exceptions.ServerError,)
# gRPC's "could not decode the answer" comes back as INTERNAL with this text.
_GRPC_UNDECODABLE = "Exception deserializing response"

# Ordered by yearMonth, which GA4's documentation shows as orderable, so that paging is stable month by
# month. Not by the comparison column, which it does not: rows are keyed by their dimension values, and a
# page that repeats or skips a row within a month is caught (`_refuse_unsettled`).
_ORDER_BYS = [
    OrderBy(
        dimension=OrderBy.DimensionOrderBy(
            dimension_name=YEAR_MONTH, order_type=OrderBy.DimensionOrderBy.OrderType.NUMERIC
        )
    ),
]


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
        dimensions=[Dimension(name=YEAR_MONTH)],
        metrics=[Metric(name="sessions")],
        comparisons=[
            Comparison(name=STARTED, dimension_filter=_page_path_matches(START_PAGES)),
            Comparison(name=COMPLETED, dimension_filter=_page_path_matches(APPLICANT_PAGE)),
        ],
        # A stable order, so that pages of one report neither repeat nor skip rows.
        order_bys=_ORDER_BYS,
        limit=limit,
        offset=offset,
        return_property_quota=True,
    )


@dataclass(frozen=True)
class QuotaUsage:
    """GA4's tokens: consumed by this report's requests, and remaining after the last of them."""

    tokens_per_day_consumed: int = 0
    tokens_per_day_remaining: int | None = None
    tokens_per_hour_consumed: int = 0
    tokens_per_hour_remaining: int | None = None

    def add(self, response: RunReportResponse) -> QuotaUsage:
        if "property_quota" not in response:
            return self
        quota = response.property_quota
        return QuotaUsage(
            self.tokens_per_day_consumed + quota.tokens_per_day.consumed,
            quota.tokens_per_day.remaining,
            self.tokens_per_hour_consumed + quota.tokens_per_hour.consumed,
            quota.tokens_per_hour.remaining,
        )

    def as_metadata(self) -> dict[str, int]:
        return {f"ga4_{name}": value for name, value in vars(self).items() if value is not None}


@dataclass(frozen=True)
class CompletionReport:
    """The report's session counts by month (the months GA4 answered wrongly apart, in `sessions.faults`,
    and what it answered outside the request in `sessions.ignored`), its flags, and what it cost."""

    sessions: Answer[SessionCounts]
    flags: ReportFlags
    requests: int
    quota: QuotaUsage = field(default_factory=QuotaUsage)


@dataclass(frozen=True)
class RetrySettings:
    """How long and how often to retry one `runReport`; the settings of the `GoogleAnalytics` resource."""

    initial_delay: float = 1.0
    deadline: float = 300.0
    request_timeout: float = 120.0
    max_server_error_retries: int = 3
    maximum_delay: float = 60.0


@dataclass(frozen=True)
class Source:
    """Which GA4 is asked, for messages: `described` names the property and the endpoint."""

    described: str
    property_id: str
    credentials: str = ""

    @staticmethod
    def credentials_in_use() -> str:
        path = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
        if path:
            return f"GOOGLE_APPLICATION_CREDENTIALS={path}"
        return "Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS is unset)"


def _ga4_says(error: google_exceptions.GoogleAPICallError) -> str:
    """`(403 PERMISSION_DENIED): "GA4 says..."`: from the JSON error body (REST), or the status (gRPC)."""
    message, status = error.message, ""
    response = getattr(error, "response", None)
    if response is not None and hasattr(response, "json"):
        try:
            body = response.json().get("error", {})
            message, status = body.get("message") or message, body.get("status") or ""
        except (ValueError, AttributeError):
            pass
    if not status and error.grpc_status_code is not None:
        status = error.grpc_status_code.name
    code = f"{error.code or ''} {status}".strip()
    return f'({code}): "{message}"' if code else f'"{message}"'


def _refusal(error: google_exceptions.GoogleAPICallError, source: Source) -> SourceUnavailable:
    """A 4xx other than the quota: GA4 will answer the same again, so it is not retried."""
    pid, says = source.property_id, _ga4_says(error)
    if isinstance(error, google_exceptions.Forbidden):
        return SourceUnavailable(
            f"{source.described} refused access to the report {says}. The credentials "
            f"({source.credentials or Source.credentials_in_use()}) need at least the Viewer role on GA4 "
            f"property {pid} (PERFPLAT_GA4_PROPERTY_ID): in GA4 Admin, Property access management, add the "
            "service account's email as a Viewer, or set GOOGLE_APPLICATION_CREDENTIALS to a key that is one."
        )
    if isinstance(error, google_exceptions.Unauthorized):
        return SourceUnavailable(
            f"{source.described} did not accept the credentials {says}. Set "
            "GOOGLE_APPLICATION_CREDENTIALS to a valid service account key file (currently "
            f"{source.credentials or Source.credentials_in_use()})."
        )
    if isinstance(error, google_exceptions.NotFound):
        return SourceUnavailable(
            f"{source.described}: GA4 found no such property {says}. Check PERFPLAT_GA4_PROPERTY_ID (the "
            "numeric id in GA4 Admin, Property details) and PERFPLAT_GA4_API_ENDPOINT."
        )
    if isinstance(error, google_exceptions.BadRequest):
        return SourceUnavailable(
            f"{source.described} refused the completion-rate report as invalid {says}. Check that "
            "PERFPLAT_GA4_PROPERTY_ID is the property's numeric id (GA4 Admin, Property details), not a "
            "measurement id such as G-XXXXXXX; otherwise the request perfplat builds needs fixing."
        )
    return SourceUnavailable(f"{source.described} refused the completion-rate report {says}.")


def _malformed(source: Source, what: str) -> SourceUnavailable:
    return SourceUnavailable(
        f"{source.described} answered runReport with {what}. Check that PERFPLAT_GA4_API_ENDPOINT is the GA4 "
        "Data API (analyticsdata.googleapis.com), not a proxy or another service; re-run the month once it "
        "answers with a report."
    )


@dataclass
class _Attempts:
    """What the retries of one `runReport` have met so far, for the decision and the final message."""

    settings: RetrySettings
    source: Source
    started: float
    made: int = 0
    timeouts: int = 0
    server_errors: int = 0
    unreachable: int = 0

    def refusal(self, error: Exception, cause: str | None) -> Exception | None:
        """The error to give up with now, or None when `error` may be retried."""
        if cause is not None:
            self.unreachable += 1
            return (
                _unreachable(self.source, cause, self.unreachable)
                if self.unreachable > UNREACHABLE_RETRIES
                else None
            )
        if isinstance(error, TIMEOUTS):
            self.timeouts += 1
            return None
        if isinstance(error, QUOTA_ERRORS):
            return None
        if isinstance(error, google_exceptions.MethodNotImplemented):
            return _refusal(error, self.source)
        if isinstance(error, SERVER_ERRORS):
            if isinstance(error, google_exceptions.InternalServerError) and _GRPC_UNDECODABLE in str(error):
                return _malformed(self.source, f"a body that is not a RunReportResponse ({error.message})")
            self.server_errors += 1
            over = self.server_errors > self.settings.max_server_error_retries
            return _server_errors(self.source, error, self.server_errors, self.settings) if over else None
        if isinstance(error, google_exceptions.ClientError):
            return _refusal(error, self.source)
        if isinstance(error, ParseError):
            return _malformed(self.source, f"a body that is not a RunReportResponse ({_short(error)})")
        return error

    def out_of_time(self, error: Exception, cause: str | None, elapsed: float) -> SourceUnavailable:
        """Why the retries stopped at the deadline, by what was met last."""
        source, settings = self.source, self.settings
        if cause is not None:
            return _unreachable(source, cause, self.unreachable)
        if isinstance(error, TIMEOUTS):
            return SourceUnavailable(
                f"{source.described} did not answer runReport: {self.timeouts} of {self.made} requests got "
                f"no answer within the request timeout of {settings.request_timeout:g}s; gave up after "
                f"{elapsed:.1f}s (retry deadline {settings.deadline:g}s). Check "
                "PERFPLAT_GA4_API_ENDPOINT and the network; re-run the month once GA4 answers."
            )
        if isinstance(error, QUOTA_ERRORS):
            return SourceUnavailable(
                f"{source.described}: the property's quota is used up; GA4 still refused after "
                f"{self.made} requests over {elapsed:.1f}s {clause(_ga4_says(error))}. GA4 allows a property "
                "40,000 tokens an hour and 200,000 a day, and refuses every request for the rest of the "
                f"hour after {GA4_SERVER_ERRORS_PER_HOUR} server errors; re-run the month later."
            )
        return _server_errors(source, error, self.server_errors, settings)


def run_report_with_retries(
    call: Callable[[float], RunReportResponse],
    settings: RetrySettings,
    source: Source,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> RunReportResponse:
    """`call(timeout)` until it answers, backing off exponentially; a `SourceUnavailable` once it cannot.

    Timeouts and quota errors are retried until `settings.deadline`; server errors at most
    `settings.max_server_error_retries` times and an unreachable endpoint at most `UNREACHABLE_RETRIES`
    times, within the deadline; anything else is not retried.
    """
    attempts = _Attempts(settings, source, clock())
    deadline = attempts.started + settings.deadline
    delay = settings.initial_delay
    while True:
        attempts.made += 1
        try:
            return call(max(0.001, min(settings.request_timeout, deadline - clock())))
        except Exception as error:  # sorted by `refusal`: GA4's answers by type, the rest by what failed
            cause = unreachable_cause(error)
            if (final := attempts.refusal(error, cause)) is not None:
                raise final from error
            wait, delay = min(delay, settings.maximum_delay), delay * 2
            if clock() + wait >= deadline:
                raise attempts.out_of_time(error, cause, clock() - attempts.started) from error
        sleep(wait)


def _server_errors(
    source: Source, error: Exception, count: int, settings: RetrySettings
) -> SourceUnavailable:
    says = _ga4_says(error) if isinstance(error, google_exceptions.GoogleAPICallError) else f"({error})"
    return SourceUnavailable(
        f"{source.described} answered runReport with a server error {count} times {says}. perfplat retries "
        f"a server error at most {settings.max_server_error_retries} times, because GA4 refuses a property "
        f"every request for the rest of the hour after {GA4_SERVER_ERRORS_PER_HOUR} server errors; re-run "
        "the month later."
    )


def _unreachable(source: Source, cause: str, count: int) -> SourceUnavailable:
    """No GA4 answered: what failed on the way, and where to look; a later run alone would not help."""
    times = "once" if count == 1 else f"{count} times"
    return SourceUnavailable(
        f"Cannot reach {source.described} (tried {times}): {clause(cause)}. Check "
        "PERFPLAT_GA4_API_ENDPOINT and "
        "the network or proxy between here and it."
    )


def _short(error: Exception, limit: int = 200) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _merge_flags(flags: ReportFlags, response: RunReportResponse) -> ReportFlags:
    metadata = response.metadata
    reasons = [_truncation(reason) for reason in metadata.data_truncation_reasons]
    return ReportFlags(
        subject_to_thresholding=flags.subject_to_thresholding or bool(metadata.subject_to_thresholding),
        sampled=flags.sampled or bool(metadata.sampling_metadatas),
        data_loss_from_other_row=flags.data_loss_from_other_row or bool(metadata.data_loss_from_other_row),
        data_truncation_reasons=tuple(dict.fromkeys([*flags.data_truncation_reasons, *reasons])),
        time_zone=metadata.time_zone,
    )


def _truncation(reason: object) -> str:
    kind = getattr(reason, "data_truncation_type", None)
    name = getattr(kind, "name", str(kind or "")).removeprefix("DATA_TRUNCATION_TYPE_")
    parts = [name or "UNSPECIFIED"]
    if getattr(reason, "data_truncation_message", ""):
        parts.append(reason.data_truncation_message)  # type: ignore[attr-defined]
    if getattr(reason, "data_truncation_date", ""):
        parts.append(f"data before {reason.data_truncation_date}")  # type: ignore[attr-defined]
    return ": ".join(parts)


def _year_month(text: str) -> Month:
    """GA4's `yearMonth` (`202605`) as a month; a ValueError for anything else."""
    if not re.fullmatch(r"[0-9]{6}", text):
        raise ValueError(f"{text!r} is not a yearMonth")
    return Month.of(int(text[:4]), int(text[4:]))


def _whole(text: str) -> int | str:
    """A metric's value (GA4 sends text) as the whole number it writes, or the text when it is not one."""
    return int(text) if re.fullmatch(r"-?[0-9]{1,18}", text) else text


@dataclass(frozen=True)
class Paging:
    """How a report is paged: rows per page (GA4's maximum is MAX_PAGE_SIZE) and pages read at most."""

    page_size: int = PAGE_SIZE
    max_pages: int = MAX_PAGES


@dataclass
class _Pages:
    """What the pages read so far add up to: each (yearMonth, comparison) row counted once, checked."""

    months: Sequence[Month]
    source: Source
    counts: dict[Month, dict[str, int]] = field(default_factory=dict)
    values: dict[tuple[str, str], str] = field(default_factory=dict)  # each row's sessions, as GA4 wrote it
    flags: ReportFlags = field(default_factory=ReportFlags)
    quota: QuotaUsage = field(default_factory=QuotaUsage)
    time_zones: set[str] = field(default_factory=set)
    requests: int = 0
    row_count: int = 0
    repeated: int = 0  # rows given twice in one page (the month is wrong, but no row was skipped)

    def __post_init__(self) -> None:
        self.counts = {month: {STARTED: 0, COMPLETED: 0} for month in self.months}
        self.check = AnswerCheck(self.months)

    def add(self, response: RunReportResponse) -> int:
        """Counts the page's rows not seen before; returns how many those were."""
        self.requests += 1
        self.flags, self.quota = _merge_flags(self.flags, response), self.quota.add(response)
        self.time_zones.add(response.metadata.time_zone)
        self.row_count = response.row_count
        month_at, comparison_at = _columns(response, self.source)
        added, page = 0, set[tuple[str, str]]()
        for row in response.rows:
            key = (row.dimension_values[month_at].value, row.dimension_values[comparison_at].value)
            value = row.metric_values[0].value
            if key in page:  # twice in one page: GA4 gives each row once
                self.repeated += 1
                self._fault(key, "twice in one page of the answer, and each must come once")
                continue
            page.add(key)
            if key in self.values:  # an earlier page's row: nothing new, unless now counted otherwise
                if value != self.values[key]:
                    self._fault(key, "with different counts on two pages of the answer")
                continue
            self.values[key] = value
            added += 1
            month = self.check.month_named(key[0], _year_month)
            if month is None:
                continue
            if key[1] not in COUNTED:
                self.check.ignore(f"answered a comparison it was not asked for, in {month}")
                continue
            self.counts[month][key[1]] += self.check.count(month, _whole(value), COUNTED[key[1]])
        return added

    def _fault(self, key: tuple[str, str], how: str) -> None:
        """The month of the row `key` is wrong (a month not asked for is ignored already)."""
        month = _year_month_or_none(key[0])
        if month in self.counts:
            self.check.fault(month, f"has its {COUNTED.get(key[1], 'sessions')} {how}")

    def answer(self) -> Answer[SessionCounts]:
        """The months' session counts, checked."""
        counts = {month: SessionCounts(c[STARTED], c[COMPLETED]) for month, c in self.counts.items()}
        return self.check.answer(counts)


def _year_month_or_none(text: str) -> Month | None:
    """GA4's `yearMonth` as a month, or None: for a row already reported when it was first read."""
    try:
        return _year_month(text)
    except ValueError:
        return None


def _columns(response: RunReportResponse, source: Source) -> tuple[int, int]:
    """Where yearMonth and the comparison are among the dimensions (GA4 does not document the order)."""
    headers = [header.name for header in response.dimension_headers]
    if not response.metric_headers:
        raise _malformed(source, "a report without the sessions metric")
    try:
        return headers.index(YEAR_MONTH), headers.index(COMPARISON)
    except ValueError:
        raise _malformed(
            source, f"a report without the yearMonth and comparison columns: {headers}"
        ) from None


def fetch_completion_report(
    client: BetaAnalyticsDataClient,
    property_id: str,
    months: Sequence[Month],
    *,
    source: Source | None = None,
    paging: Paging = Paging(),
    retry: RetrySettings | None = None,
) -> CompletionReport:
    """Session counts per month for the whole range, paging until `row_count` rows are read.

    Paging is bounded: it stops when a page adds no rows it has not seen (an answer that ignores `offset`
    would otherwise be counted again and again), and after `paging.max_pages` pages.
    """
    source = source or Source(f"GA4 property {property_id}", property_id)
    pages = _Pages(contiguous(months), source)
    page_size, max_pages = max(1, min(paging.page_size, MAX_PAGE_SIZE)), max(1, paging.max_pages)
    offset = asked = 0
    while True:
        if pages.requests >= max_pages:
            raise _too_many_rows(source, pages, offset, page_size, max_pages)
        request = report_request(property_id, pages.months, limit=page_size, offset=offset)

        def call(timeout: float, request: RunReportRequest = request) -> RunReportResponse:
            return client.run_report(request=request, timeout=timeout)

        response = run_report_with_retries(call, retry or RetrySettings(), source)
        added = pages.add(response)
        asked, offset = offset, offset + len(response.rows)
        if added == 0 or offset >= pages.row_count:
            break
    _refuse_unsettled(source, pages, asked)
    return CompletionReport(pages.answer(), pages.flags, pages.requests, pages.quota)


def _too_many_rows(
    source: Source, pages: _Pages, offset: int, page_size: int, max_pages: int
) -> SourceUnavailable:
    return SourceUnavailable(
        f"{source.described} had more rows than perfplat reads: {offset} of the {pages.row_count} rows GA4 "
        f"says the report has, after {pages.requests} pages of {page_size} (the cap is {max_pages} "
        f"pages; a report of {len(pages.months)} months should have at most {2 * len(pages.months)} rows). "
        "Check PERFPLAT_GA4_API_ENDPOINT; if GA4's report really is that large, raise the "
        "GoogleAnalytics resource's page_size or max_pages."
    )


def _refuse_unsettled(source: Source, pages: _Pages, asked: int) -> None:
    """A report that changed while it was paged is not one report: re-run rather than mix two."""
    if len(pages.values) + pages.repeated < pages.row_count:
        raise SourceUnavailable(
            f"{source.described} stopped adding rows: the page at offset {asked} brought no row not already "
            f"read, yet GA4 says the report has {pages.row_count} rows and perfplat has read "
            f"{len(pages.values)} in {pages.requests} pages. GA4's data may have changed while the report "
            "was paged, or the endpoint ignores offset; re-run the month."
        )
    if len(pages.time_zones) > 1:
        raise SourceUnavailable(
            f"{source.described} changed time zone while the report was paged "
            f"({', '.join(sorted(pages.time_zones))}); re-run the month."
        )
