"""A loopback stand-in for the GA4 Data API v1beta `runReport`, serving synthetic sessions.

The pipeline talks to GA4 through the official `google-analytics-data` client over REST. Pointing that same
client at this server (``client_options={"api_endpoint": emulator.endpoint}``, anonymous credentials,
``transport="rest"``) exercises the real request/response encoding, paging and error handling without a
Google account, and the answers are deterministic because they come from `sample_data`. With ``grpc=True``
the same reports are also served over gRPC (`grpc_endpoint`), as production's default transport talks, with
TLS when given a key and certificate (``grpc_tls``).

Only what the pipeline needs is implemented, with GA4's semantics:

- dimensions `yearMonth`, `dateRange` and `comparison`; metric `sessions`;
- one or more date ranges (`YYYY-MM-DD`, `today`, `yesterday`, `NdaysAgo`), inclusive, in Europe/London; with
  several, a `dateRange` dimension (`date_range_0`, ... or the range's name) is added as GA4 does;
- `dimension_filter` and ad hoc `comparisons` on `pagePath`: a session matches a filter expression when at
  least one of its page paths satisfies the whole expression;
- `order_bys` on requested dimensions and metrics, `limit`/`offset` paging, `keep_empty_rows`;
- metadata flags (thresholding, sampling, "(other)" row, `data_truncation_reasons`) and the property's
  `time_zone` (which `yearMonth` and the date ranges are in) switchable per emulator so callers can test how
  they react to degraded data;
- `property_quota` when `return_property_quota` is set: tokens consumed per request and remaining, and GA4's
  refusal (429 RESOURCE_EXHAUSTED) once the tokens, or the 10 server errors an hour, are used up;
- faults: `fail_next` (an HTTP status with a GA4-style error body, GA4's message if given), `hang_next`
  (answer after N seconds, or never), `malformed_next` (a 200 whose body is not a report),
  `fractional_sessions` (metric values such as "12.5") and `ignore_offset` (every page the first one).

Anything else is refused with HTTP 400 and a GA4-style error body rather than silently ignored, so a caller
relying on an unimplemented feature finds out here instead of in production.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import grpc
from google.analytics.data_v1beta.types import (
    DimensionHeader,
    DimensionValue,
    Filter,
    FilterExpression,
    MetricHeader,
    MetricType,
    MetricValue,
    OrderBy,
    PropertyQuota,
    QuotaStatus,
    ResponseMetaData,
    Row,
    RunReportRequest,
    RunReportResponse,
    SamplingMetadata,
)

from perfplat_assets.common.months import LONDON, Month
from perfplat_assets.embedded.sample_data import SampleSession, sample_sessions

logger = logging.getLogger(__name__)

SessionsForMonth = Callable[[Month], Sequence[SampleSession]]
PathPredicate = Callable[[str], bool]

GRPC_SERVICE = "google.analytics.data.v1beta.BetaAnalyticsData"
DEFAULT_LIMIT = 10_000
MAX_LIMIT = 250_000
TIME_ZONE = "Europe/London"
CURRENCY = "GBP"
KIND = "analyticsData#runReport"

YEAR_MONTH = "yearMonth"
DATE_RANGE = "dateRange"
COMPARISON = "comparison"
SESSIONS = "sessions"
PAGE_PATH = "pagePath"
SUPPORTED_DIMENSIONS = (YEAR_MONTH, DATE_RANGE, COMPARISON)
SUPPORTED_METRICS = (SESSIONS,)

# google.rpc.Code names for the HTTP statuses the API answers with, as in GA4's JSON error bodies.
RPC_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

MatchType = Filter.StringFilter.MatchType
OrderType = OrderBy.DimensionOrderBy.OrderType
_ReportRow = tuple[tuple[str, ...], int]

_RUN_REPORT_PATH = re.compile(r"^/v1beta/properties/(?P<property>[^/:]+):runReport$")
_DAYS_AGO = re.compile(r"^(?P<days>\d+)daysAgo$")


class ApiError(Exception):
    """A request the real API would refuse: carries the HTTP status for the GA4-style error body."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def error_body(status: int, message: str) -> dict[str, Any]:
    """The JSON error GA4 answers with, which `google.api_core.exceptions.from_http_response` decodes."""
    return {"error": {"code": status, "message": message, "status": RPC_STATUS.get(status, "UNKNOWN")}}


# --- filters -------------------------------------------------------------------------------------------


def compile_filter_expression(expression: FilterExpression) -> PathPredicate:
    """Turn a `pagePath` filter expression into a per-path predicate, refusing what GA4 would refuse.

    Compiling up front means invalid filters (bad regex, other fields) fail the request before any counting.
    """
    kind = FilterExpression.pb(expression).WhichOneof("expr")
    if kind == "filter":
        return _compile_filter(expression.filter)
    if kind in ("and_group", "or_group"):
        group = expression.and_group if kind == "and_group" else expression.or_group
        parts = [compile_filter_expression(part) for part in group.expressions]
        if not parts:
            raise ApiError(f"FilterExpression.{kind} must hold at least one expression.")
        if kind == "and_group":
            return lambda path: all(part(path) for part in parts)
        return lambda path: any(part(path) for part in parts)
    if kind == "not_expression":
        inner = compile_filter_expression(expression.not_expression)
        return lambda path: not inner(path)
    raise ApiError("FilterExpression must set one of filter, and_group, or_group, not_expression.")


def _compile_filter(filter_: Filter) -> PathPredicate:
    if filter_.field_name != PAGE_PATH:
        raise ApiError(
            f"Field {filter_.field_name!r} is not supported in filters by this emulator; only {PAGE_PATH!r}."
        )
    kind = Filter.pb(filter_).WhichOneof("one_filter")
    if kind == "string_filter":
        return _compile_string_filter(filter_.string_filter)
    if kind == "in_list_filter":
        in_list = filter_.in_list_filter
        if in_list.case_sensitive:
            exact = frozenset(in_list.values)
            return lambda path: path in exact
        folded = frozenset(value.casefold() for value in in_list.values)
        return lambda path: path.casefold() in folded
    if kind == "empty_filter":
        return lambda path: path == ""
    if kind is None:
        raise ApiError(f"Filter on {PAGE_PATH!r} must set a filter type.")
    raise ApiError(f"Filter type {kind} does not apply to the string dimension {PAGE_PATH!r}.")


def _compile_string_filter(string_filter: Filter.StringFilter) -> PathPredicate:
    """GA4 string filters are case-insensitive unless `case_sensitive`; unspecified match type means EXACT."""
    match_type = MatchType(string_filter.match_type)
    sensitive = string_filter.case_sensitive
    value = string_filter.value
    if match_type in (MatchType.FULL_REGEXP, MatchType.PARTIAL_REGEXP):
        try:
            pattern = re.compile(value, 0 if sensitive else re.IGNORECASE)
        except re.error as error:
            raise ApiError(f"Invalid regular expression {value!r}: {error}.") from error
        if match_type == MatchType.FULL_REGEXP:
            return lambda path: pattern.fullmatch(path) is not None
        return lambda path: pattern.search(path) is not None

    def fold(text: str) -> str:
        return text if sensitive else text.casefold()

    wanted = fold(value)
    predicates: dict[MatchType, PathPredicate] = {
        MatchType.MATCH_TYPE_UNSPECIFIED: lambda path: fold(path) == wanted,
        MatchType.EXACT: lambda path: fold(path) == wanted,
        MatchType.BEGINS_WITH: lambda path: fold(path).startswith(wanted),
        MatchType.ENDS_WITH: lambda path: fold(path).endswith(wanted),
        MatchType.CONTAINS: lambda path: wanted in fold(path),
    }
    return predicates[match_type]


def _session_matches(session: SampleSession, predicate: PathPredicate | None) -> bool:
    """A session matches when one of its page paths satisfies the whole expression (hit-scoped filter)."""
    return predicate is None or any(predicate(path) for path in session.page_paths)


# --- the report ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Range:
    label: str
    start: date
    end: date


@dataclass(frozen=True)
class _Comparison:
    name: str
    predicate: PathPredicate


@dataclass(frozen=True)
class ReportSettings:
    """The emulator's metadata switches, read once per request so a report is internally consistent."""

    subject_to_thresholding: bool = False
    data_loss_from_other_row: bool = False
    sampled: bool = False
    time_zone: str = TIME_ZONE
    data_truncation_reasons: tuple[ResponseMetaData.DataTruncationReason, ...] = ()
    fractional_sessions: bool = False
    ignore_offset: bool = False


def _parse_date(text: str, today: date) -> date:
    if text == "today":
        return today
    if text == "yesterday":
        return today - timedelta(days=1)
    relative = _DAYS_AGO.match(text)
    if relative:
        return today - timedelta(days=int(relative["days"]))
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ApiError(f"Invalid date {text!r}: expected YYYY-MM-DD, today, yesterday or NdaysAgo.")


def _date_ranges(request: RunReportRequest, today: date) -> list[_Range]:
    if not request.date_ranges:
        raise ApiError("At least one date range is required.")
    ranges = []
    for index, date_range in enumerate(request.date_ranges):
        start, end = _parse_date(date_range.start_date, today), _parse_date(date_range.end_date, today)
        if start > end:
            raise ApiError(f"Date range {index}: start date {start} is after end date {end}.")
        ranges.append(_Range(date_range.name or f"date_range_{index}", start, end))
    return ranges


def _comparisons(request: RunReportRequest) -> list[_Comparison]:
    comparisons = []
    for comparison in request.comparisons:
        if comparison.comparison:
            raise ApiError("Saved comparisons are not supported by this emulator; use ad hoc comparisons.")
        if not comparison.name:
            raise ApiError("An ad hoc comparison needs a name.")
        if "dimension_filter" not in comparison:
            raise ApiError(f"Comparison {comparison.name!r} needs a dimension_filter.")
        predicate = compile_filter_expression(comparison.dimension_filter)
        comparisons.append(_Comparison(comparison.name, predicate))
    names = [comparison.name for comparison in comparisons]
    if len(set(names)) != len(names):
        raise ApiError(f"Comparison names must be unique, got {names}.")
    return comparisons


def _field_names(fields: Sequence[Any], kind: str, supported: Sequence[str], expression: str) -> list[str]:
    """The names of requested dimensions or metrics, refusing what this emulator cannot answer."""
    names: list[str] = []
    for field in fields:
        if expression in field:
            raise ApiError(f"{kind.capitalize()} expressions are not supported by this emulator.")
        if field.name not in supported:
            raise ApiError(
                f"Field {field.name!r} is not a valid {kind} for this emulator "
                f"(supported: {', '.join(supported)})."
            )
        if field.name in names:
            raise ApiError(f"{kind.capitalize()} {field.name!r} is requested more than once.")
        names.append(field.name)
    return names


def _dimension_names(request: RunReportRequest, ranges: list[_Range], comparing: bool) -> list[str]:
    """Requested dimensions, then `dateRange` (several ranges) and `comparison` (comparisons) if not asked."""
    names = _field_names(request.dimensions, "dimension", SUPPORTED_DIMENSIONS, "dimension_expression")
    if COMPARISON in names and not comparing:
        raise ApiError("The comparison dimension needs at least one comparison in the request.")
    if len(ranges) > 1 and DATE_RANGE not in names:
        names.append(DATE_RANGE)
    if comparing and COMPARISON not in names:
        names.append(COMPARISON)
    return names


def _metric_names(request: RunReportRequest) -> list[str]:
    return _field_names(request.metrics, "metric", SUPPORTED_METRICS, "expression")


def _refuse_unsupported(request: RunReportRequest) -> None:
    """Features the pipeline does not use: refuse them loudly rather than return a subtly wrong report."""
    if "metric_filter" in request:
        raise ApiError("metric_filter is not supported by this emulator.")
    if request.metric_aggregations:
        raise ApiError("metric_aggregations are not supported by this emulator.")
    if "cohort_spec" in request:
        raise ApiError("cohort_spec is not supported by this emulator.")
    if request.offset < 0 or request.limit < 0:
        raise ApiError("offset and limit must not be negative.")


def _sort_rows(
    rows: list[_ReportRow], order_bys: Sequence[OrderBy], dimensions: list[str], metrics: list[str]
) -> None:
    """Ascending by dimension values first (deterministic), then each `order_by`, most significant first."""
    rows.sort(key=lambda row: row[0])
    for order_by in reversed(order_bys):
        rows.sort(key=_order_key(order_by, dimensions, metrics), reverse=order_by.desc)


def _order_key(order_by: OrderBy, dimensions: list[str], metrics: list[str]) -> Callable[[_ReportRow], Any]:
    kind = OrderBy.pb(order_by).WhichOneof("one_order_by")
    if kind == "metric":
        if order_by.metric.metric_name not in metrics:
            raise ApiError(f"Cannot order by metric {order_by.metric.metric_name!r}: it is not requested.")
        return lambda row: row[1]
    if kind != "dimension":
        raise ApiError("Only dimension and metric order_bys are supported by this emulator.")
    name = order_by.dimension.dimension_name
    if name not in dimensions:
        raise ApiError(f"Cannot order by dimension {name!r}: it is not in the report.")
    index = dimensions.index(name)
    order_type = OrderType(order_by.dimension.order_type)
    if order_type == OrderType.NUMERIC:
        return lambda row: _numeric(row[0][index])
    if order_type == OrderType.CASE_INSENSITIVE_ALPHANUMERIC:
        return lambda row: row[0][index].casefold()
    return lambda row: row[0][index]


def _numeric(text: str) -> tuple[int, float | str]:
    """NUMERIC ordering puts non-numbers after numbers, as GA4 does with `(other)` and `(not set)`."""
    try:
        return (0, float(text))
    except ValueError:
        return (1, text)


def _months_spanning(ranges: Iterable[_Range], margin: bool = False) -> list[Month]:
    """London months holding the ranges' sessions; with `margin`, a month either side (another zone's day
    can start or end in the London month before or after)."""
    months: set[Month] = set()
    for date_range in ranges:
        month = Month.of(date_range.start.year, date_range.start.month)
        last = Month.of(date_range.end.year, date_range.end.month)
        if margin:
            month, last = month.previous(), last.next()
        while month <= last:
            months.add(month)
            month = month.next()
    return sorted(months)


def _local_date(moment: datetime, zone: ZoneInfo = LONDON) -> date:
    """The session's date in the property's time zone; naive datetimes are taken as London wall time."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=LONDON)).astimezone(zone).date()


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError) as error:
        raise ApiError(
            f"The emulator's property time zone {name!r} is not an IANA time zone.", 500
        ) from error


def run_report(
    request: RunReportRequest,
    sessions_for_month: SessionsForMonth,
    settings: ReportSettings = ReportSettings(),
    today: date | None = None,
) -> RunReportResponse:
    """Answer one `runReport` the way GA4 would for the sessions `sessions_for_month` yields.

    Sessions are gathered from every month the date ranges touch and de-duplicated by `session_id`, so a
    `sessions_for_month` that files a session under the "wrong" month (or returns everything every time)
    still counts each session once, on its London date.
    """
    _refuse_unsupported(request)
    zone = _zone(settings.time_zone)
    ranges = _date_ranges(request, today or datetime.now(zone).date())
    comparisons = _comparisons(request)
    dimensions = _dimension_names(request, ranges, bool(comparisons))
    metrics = _metric_names(request)
    request_filter = (
        compile_filter_expression(request.dimension_filter) if "dimension_filter" in request else None
    )

    sessions: dict[str, tuple[SampleSession, date]] = {}
    for month in _months_spanning(ranges, margin=zone != LONDON):
        for session in sessions_for_month(month):
            sessions.setdefault(session.session_id, (session, _local_date(session.started_at, zone)))

    groups: dict[tuple[str, ...], set[str]] = {}
    sessions_per_range = [0] * len(ranges)
    for session, day in sessions.values():
        matched = _session_matches(session, request_filter)
        for range_index, date_range in enumerate(ranges):
            if not date_range.start <= day <= date_range.end:
                continue
            sessions_per_range[range_index] += 1
            for comparison in comparisons or [None]:
                values = {YEAR_MONTH: day.strftime("%Y%m"), DATE_RANGE: date_range.label}
                if comparison is not None:
                    values[COMPARISON] = comparison.name
                key = tuple(values[name] for name in dimensions)
                counted = matched and (comparison is None or _session_matches(session, comparison.predicate))
                if counted:
                    groups.setdefault(key, set()).add(session.session_id)
                elif request.keep_empty_rows:
                    groups.setdefault(key, set())

    rows = [(key, len(ids)) for key, ids in groups.items() if ids or request.keep_empty_rows]
    _sort_rows(rows, request.order_bys, dimensions, metrics)
    limit = min(request.limit or DEFAULT_LIMIT, MAX_LIMIT)
    offset = 0 if settings.ignore_offset else request.offset
    page = rows[offset : offset + limit]

    metadata = ResponseMetaData(
        currency_code=CURRENCY,
        time_zone=settings.time_zone,
        data_loss_from_other_row=settings.data_loss_from_other_row,
        data_truncation_reasons=list(settings.data_truncation_reasons),
    )
    if settings.subject_to_thresholding:
        metadata.subject_to_thresholding = True
    if settings.sampled:
        metadata.sampling_metadatas = [
            SamplingMetadata(samples_read_count=(space + 1) // 2, sampling_space_size=space)
            for space in sessions_per_range
        ]
    return RunReportResponse(
        dimension_headers=[DimensionHeader(name=name) for name in dimensions],
        metric_headers=[MetricHeader(name=name, type_=MetricType.TYPE_INTEGER) for name in metrics],
        rows=[
            Row(
                dimension_values=[DimensionValue(value=value) for value in key],
                metric_values=[
                    MetricValue(value=f"{count}.5" if settings.fractional_sessions else str(count))
                    for _ in metrics
                ],
            )
            for key, count in page
        ],
        row_count=len(rows),
        metadata=metadata,
        kind=KIND,
    )


# --- the server ----------------------------------------------------------------------------------------

# GA4's quotas for a standard property (GA4 Data API, Quotas).
TOKENS_PER_DAY = 200_000
TOKENS_PER_HOUR = 40_000
TOKENS_PER_PROJECT_PER_HOUR = 14_000
CONCURRENT_REQUESTS = 10
SERVER_ERRORS_PER_HOUR = 10
THRESHOLDED_REQUESTS_PER_HOUR = 120


@dataclass(frozen=True)
class _Fault:
    kind: str  # "status", "hang" or "malformed"
    status: int = 0
    message: str | None = None
    seconds: float | None = None
    body: str = ""


@dataclass
class _Answer:
    """One runReport's outcome, for either transport: an error, a report, or a body that is not one."""

    status: int = 200
    message: str = ""
    response: RunReportResponse | None = None
    raw: str | None = None


@dataclass
class _Usage:
    tokens: int = 0
    server_errors: int = 0
    thresholded: int = 0


class _Handler(BaseHTTPRequestHandler):
    """Routes `POST /v1beta/properties/<id>:runReport`; everything else gets a GA4-style 404."""

    server: _Server
    server_version = "GA4Emulator/1"

    def do_POST(self) -> None:
        match = _RUN_REPORT_PATH.match(urlsplit(self.path).path)
        body = self._read_body()
        if match is None:
            self._send_error(404, f"No runReport method at {self.command} {self.path}.")
            return
        status, payload = self.server.emulator._answer(match["property"], body)
        self._send_json(status, payload)

    def _not_found(self) -> None:
        self._read_body()
        self._send_error(404, f"The emulator only answers POST runReport, not {self.command} {self.path}.")

    do_GET = do_PUT = do_PATCH = do_DELETE = _not_found

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send_error(self, status: int, message: str) -> None:
        self._send_json(status, error_body(status, message))

    def _send_json(self, status: int, payload: str | dict[str, Any] | _Raw) -> None:
        content_type = "application/json; charset=UTF-8"
        if isinstance(payload, _Raw):
            text, content_type = payload.body, "text/html; charset=UTF-8"
        else:
            text = payload if isinstance(payload, str) else json.dumps(payload, indent=2)
        data = text.encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            logger.debug("GA4 emulator: the client left before its answer (it timed out)")

    def log_message(self, format: str, *args: Any) -> None:
        """Keep stderr quiet in tests and pipelines; the access log is there at debug level if wanted."""
        logger.debug("%s - " + format, self.address_string(), *args)


@dataclass(frozen=True)
class _Raw:
    body: str


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: GA4Emulator) -> None:
        self.emulator = emulator
        super().__init__(address, _Handler)


def _serialize(response: RunReportResponse | bytes) -> bytes:
    """RunReportResponse's own serializer, or the bytes of a `malformed_next` fault as they are."""
    return response if isinstance(response, bytes) else RunReportResponse.serialize(response)


class GA4Emulator:
    """A GA4 Data API `runReport` endpoint on loopback, serving `sessions_for_month`'s sessions.

    Use as a context manager (or `start()`/`stop()`), then point the real client at `endpoint` (REST) or
    `grpc_endpoint` (gRPC, with ``grpc=True``; TLS with ``grpc_tls=(private_key_pem, certificate_pem)``).
    """

    def __init__(
        self,
        sessions_for_month: SessionsForMonth = sample_sessions,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        time_zone: str = TIME_ZONE,
        grpc: bool = False,
        grpc_tls: tuple[bytes, bytes] | None = None,
    ) -> None:
        self.sessions_for_month = sessions_for_month
        self.host = host
        self.port = port
        self.subject_to_thresholding = False
        self.data_loss_from_other_row = False
        self.sampled = False
        self.time_zone = time_zone
        self.data_truncation_reasons: list[ResponseMetaData.DataTruncationReason] = []
        self.fractional_sessions = False
        self.ignore_offset = False
        # Tokens a report costs, and the property's quotas (reported with return_property_quota).
        self.tokens_per_request = 10
        self.tokens_per_day = TOKENS_PER_DAY
        self.tokens_per_hour = TOKENS_PER_HOUR
        self.server_errors_per_hour = SERVER_ERRORS_PER_HOUR
        self.requests: list[RunReportRequest] = []
        # Each gRPC call's metadata (headers), e.g. its `authorization`.
        self.grpc_metadata: list[dict[str, str | bytes]] = []
        self.grpc_port = 0
        self._grpc_wanted = grpc or grpc_tls is not None
        self._grpc_tls = grpc_tls
        self._grpc_server: Any = None
        self._requests_served = 0
        self._usage = _Usage()
        self._failures: list[_Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> GA4Emulator:
        """Bind (port 0 picks a free port) and serve from a background thread; returns self for chaining."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self.host, self.port), self)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="ga4-emulator", daemon=True
        )
        self._thread.start()
        if self._grpc_wanted:
            self._start_grpc()
        logger.info("GA4 emulator serving on %s", self.endpoint)
        return self

    def _start_grpc(self) -> None:
        handler = grpc.method_handlers_generic_handler(
            GRPC_SERVICE,
            {
                "RunReport": grpc.unary_unary_rpc_method_handler(
                    self._grpc_run_report,
                    request_deserializer=RunReportRequest.deserialize,
                    response_serializer=_serialize,
                )
            },
        )
        server = grpc.server(ThreadPoolExecutor(max_workers=8, thread_name_prefix="ga4-emulator-grpc"))
        server.add_generic_rpc_handlers((handler,))
        address = f"{self.host}:{self.grpc_port}"
        if self._grpc_tls is None:
            self.grpc_port = server.add_insecure_port(address)
        else:
            credentials = grpc.ssl_server_credentials([self._grpc_tls])
            self.grpc_port = server.add_secure_port(address, credentials)
        server.start()
        self._grpc_server = server
        logger.info("GA4 emulator serving gRPC on %s", self.grpc_endpoint)

    def stop(self) -> None:
        """Stop serving, release the ports and join the thread; safe to call twice or before `start()`.

        Requests held by `hang_next` are let go first."""
        self._stopping.set()
        grpc_server, self._grpc_server = self._grpc_server, None
        if grpc_server is not None:
            grpc_server.stop(grace=None).wait(5)
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> GA4Emulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """The `api_endpoint` for the client, scheme included so it speaks plain HTTP."""
        if self._server is None:
            raise RuntimeError("The GA4 emulator is not running: call start() first.")
        return f"http://{self.host}:{self.port}"

    @property
    def grpc_endpoint(self) -> str:
        """The `api_endpoint` for the gRPC transport, `host:port` (TLS when started with `grpc_tls`)."""
        if self._grpc_server is None:
            raise RuntimeError("The GA4 emulator serves no gRPC: start it with grpc=True.")
        return f"{self.host}:{self.grpc_port}"

    @property
    def requests_served(self) -> int:
        """runReport requests answered so far, whatever the answer (injected failures and 400s included)."""
        with self._lock:
            return self._requests_served

    def fail_next(self, status: int, times: int = 1, message: str | None = None) -> None:
        """Answer the next `times` runReport requests with `status` and a GA4-style error body.

        `message` is the error's text (GA4's own, say); by default one naming the emulator. Queued after
        any faults already pending, so retries and back-off can be exercised step by step. Over gRPC the
        status is the matching gRPC code (403 PERMISSION_DENIED, 429 RESOURCE_EXHAUSTED, ...).
        """
        if not 400 <= status <= 599:
            raise ValueError(f"fail_next needs an HTTP error status (4xx or 5xx), not {status}")
        self._queue(_Fault("status", status=status, message=message), times)

    def hang_next(self, times: int = 1, seconds: float | None = None) -> None:
        """Hold the next `times` requests `seconds` before answering them as usual; None: never answer
        (until `stop()`), as an endpoint that accepts the connection and then says nothing."""
        if seconds is not None and seconds < 0:
            raise ValueError(f"seconds must not be negative, not {seconds}")
        self._queue(_Fault("hang", seconds=seconds), times)

    def malformed_next(
        self, times: int = 1, body: str = "<html><body>Service Unavailable</body></html>"
    ) -> None:
        """Answer the next `times` requests 200 with `body`, which is not a RunReportResponse (as a proxy's
        or a load balancer's page would be); over gRPC, the bytes of `body` instead of a message."""
        self._queue(_Fault("malformed", body=body), times)

    def _queue(self, fault: _Fault, times: int) -> None:
        if times < 0:
            raise ValueError(f"times must not be negative, not {times}")
        with self._lock:
            self._failures.extend([fault] * times)

    def _answer(self, property_id: str, body: bytes) -> tuple[int, str | dict[str, Any] | _Raw]:
        """One REST runReport: parse the body, then answer as `_respond` decides."""
        request: RunReportRequest | None = None
        parse_error = ""
        try:
            request = RunReportRequest.from_json(body.decode("utf-8") or "{}", ignore_unknown_fields=True)
            request.property = f"properties/{property_id}"
        except Exception as error:  # json_format.ParseError, UnicodeDecodeError: both mean a bad body
            parse_error = f"Invalid JSON payload received. {error}"
        answer = self._respond(request, parse_error)
        if answer.raw is not None:
            return 200, _Raw(answer.raw)
        if answer.response is None:
            return answer.status, error_body(answer.status, answer.message)
        return 200, RunReportResponse.to_json(
            answer.response, use_integers_for_enums=True, always_print_fields_with_no_presence=False
        )

    def _grpc_run_report(self, request: RunReportRequest, context: grpc.ServicerContext) -> Any:
        """One gRPC RunReport: the same answer as over REST, errors as their gRPC status codes."""
        with self._lock:
            self.grpc_metadata.append(dict(context.invocation_metadata()))
        error = ""
        if not re.fullmatch(r"properties/[^/:]+", request.property):
            error = f"Invalid property name {request.property!r}: expected properties/<id>."
        answer = self._respond(None if error else request, error)
        if answer.raw is not None:
            return answer.raw.encode("utf-8")
        if answer.response is None:
            code = grpc.StatusCode[RPC_STATUS.get(answer.status, "UNKNOWN")]
            context.abort(code, answer.message)
        return answer.response

    def _respond(self, request: RunReportRequest | None, parse_error: str) -> _Answer:
        """Count the request, record it, then apply the next fault, the quota, or compute the report."""
        with self._lock:
            self._requests_served += 1
            if request is not None:
                self.requests.append(request)
            fault = self._failures.pop(0) if self._failures else None
        if fault is not None and fault.kind == "hang":
            self._stopping.wait(fault.seconds)
            if self._stopping.is_set():
                return self._error(503, "The GA4 emulator is stopping.")
            fault = None
        if fault is not None and fault.kind == "malformed":
            return _Answer(raw=fault.body)
        if fault is not None:
            return self._error(
                fault.status, fault.message or f"Injected failure ({fault.status}) from the GA4 emulator."
            )
        if request is None:
            return self._error(400, parse_error)
        refusal = self._quota_refusal()
        if refusal is not None:
            return refusal
        settings = ReportSettings(
            subject_to_thresholding=self.subject_to_thresholding,
            data_loss_from_other_row=self.data_loss_from_other_row,
            sampled=self.sampled,
            time_zone=self.time_zone,
            data_truncation_reasons=tuple(self.data_truncation_reasons),
            fractional_sessions=self.fractional_sessions,
            ignore_offset=self.ignore_offset,
        )
        try:
            response = run_report(request, self.sessions_for_month, settings)
        except ApiError as error:
            return self._error(error.status, error.message)
        except Exception:
            logger.exception("GA4 emulator failed to answer %s", request)
            return self._error(500, "Internal error in the GA4 emulator.")
        quota = self._charge(response)
        if request.return_property_quota:
            response.property_quota = quota
        return _Answer(response=response)

    def _error(self, status: int, message: str) -> _Answer:
        if status >= 500:
            with self._lock:
                self._usage.server_errors += 1
        return _Answer(status=status, message=message)

    def _quota_refusal(self) -> _Answer | None:
        """GA4 refuses every request once a quota is used up (the emulator's hour and day: its lifetime)."""
        with self._lock:
            usage = self._usage
            if usage.server_errors >= self.server_errors_per_hour:
                name = "server errors per project per property per hour"
            elif usage.tokens + self.tokens_per_request > min(self.tokens_per_hour, self.tokens_per_day):
                name = (
                    "property tokens per hour"
                    if self.tokens_per_hour <= self.tokens_per_day
                    else "tokens per day"
                )
            else:
                return None
        return _Answer(status=429, message=f"Exhausted {name} quota (GA4 emulator).")

    def _charge(self, response: RunReportResponse) -> PropertyQuota:
        cost = self.tokens_per_request
        thresholded = int(bool(response.metadata.subject_to_thresholding))
        with self._lock:
            usage = self._usage
            usage.tokens += cost
            usage.thresholded += thresholded
            tokens, errors, thresholds = usage.tokens, usage.server_errors, usage.thresholded
        return PropertyQuota(
            tokens_per_day=QuotaStatus(consumed=cost, remaining=max(0, self.tokens_per_day - tokens)),
            tokens_per_hour=QuotaStatus(consumed=cost, remaining=max(0, self.tokens_per_hour - tokens)),
            concurrent_requests=QuotaStatus(consumed=0, remaining=CONCURRENT_REQUESTS),
            server_errors_per_project_per_hour=QuotaStatus(
                consumed=0, remaining=max(0, self.server_errors_per_hour - errors)
            ),
            potentially_thresholded_requests_per_hour=QuotaStatus(
                consumed=thresholded, remaining=max(0, THRESHOLDED_REQUESTS_PER_HOUR - thresholds)
            ),
            tokens_per_project_per_hour=QuotaStatus(
                consumed=cost, remaining=max(0, TOKENS_PER_PROJECT_PER_HOUR - tokens)
            ),
        )


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the sample data in the foreground, for poking at with the client or curl."""
    parser = argparse.ArgumentParser(description="Serve a GA4 Data API runReport emulator on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8085)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    with GA4Emulator(host=args.host, port=args.port) as emulator:
        print(f"GA4 emulator serving sample data on {emulator.endpoint} (Ctrl-C to stop)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print("stopping", flush=True)


if __name__ == "__main__":
    main()
