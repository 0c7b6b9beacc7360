"""A loopback stand-in for the GA4 Data API v1beta `runReport`, serving synthetic sessions.

The pipeline talks to GA4 through the official `google-analytics-data` client. Pointing that client at this
server (REST: ``client_options={"api_endpoint": emulator.endpoint}``, anonymous credentials,
``transport="rest"``; gRPC, production's transport: `grpc_endpoint` with ``grpc=True``, TLS with
``grpc_tls``) exercises the real wire encoding, paging and error handling without a Google account, and the
answers are deterministic because they come from `sample_data`.

It answers the report perfplat sends (`completion_rate.queries.data_api.report_request`), with GA4's
semantics:

- one date range of `YYYY-MM-DD` dates, inclusive, in the property's `time_zone` (which `yearMonth` is in);
- dimension `yearMonth`, metric `sessions`;
- ad hoc `comparisons` on `pagePath` by FULL_REGEXP (case-insensitive, as GA4), each adding a `comparison`
  value: a session counts when at least one of its page paths matches;
- ascending dimension `order_bys` (NUMERIC or ALPHANUMERIC), `limit`/`offset` paging;
- metadata flags (thresholding, sampling, "(other)" row, `data_truncation_reasons`), switchable per emulator;
- `property_quota` when `return_property_quota` is set, and GA4's refusal (429 RESOURCE_EXHAUSTED) once the
  tokens, or the 10 server errors an hour, are used up;
- report settings that make a report GA4 should never send: `fractional_sessions` (metric values such as
  "12.5") and `ignore_offset` (every page the first one);
- `answer_otherwise`, where a subclass answers a request in its own way (the tests' fault injection: an
  error status, a hang, a body that is not a report, in `perfplat_assets_tests.support`).

Anything else in a request is refused with 400 INVALID_ARGUMENT naming it, rather than mis-served, so a
change to perfplat's request that needs more of GA4 fails here, in tests, instead of in production.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import grpc
import proto
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

from perfplat_assets.common.months import LONDON, Month, months_between
from perfplat_sample.loopback import LoopbackServer, QuietHandler
from perfplat_sample.sample_data import SampleSession, sample_sessions

logger = logging.getLogger(__name__)

SessionsForMonth = Callable[[Month], Sequence[SampleSession]]

GRPC_SERVICE = "google.analytics.data.v1beta.BetaAnalyticsData"
DEFAULT_LIMIT = 10_000
MAX_LIMIT = 250_000
TIME_ZONE = "Europe/London"
CURRENCY = "GBP"
KIND = "analyticsData#runReport"

YEAR_MONTH = "yearMonth"
COMPARISON = "comparison"
SESSIONS = "sessions"
PAGE_PATH = "pagePath"

# google.rpc.Code names for the HTTP statuses the API answers with, as in GA4's JSON error bodies.
RPC_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

# The request's fields perfplat sets: any other is refused by name, as are nested ones (`_only_fields`).
REQUEST_FIELDS = {
    "property",
    "date_ranges",
    "dimensions",
    "metrics",
    "comparisons",
    "order_bys",
    "limit",
    "offset",
    "return_property_quota",
}

MatchType = Filter.StringFilter.MatchType
OrderType = OrderBy.DimensionOrderBy.OrderType
_ReportRow = tuple[tuple[str, ...], int]

_RUN_REPORT_PATH = re.compile(r"^/v1beta/properties/(?P<property>[^/:]+):runReport$")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class ApiError(Exception):
    """A request this emulator refuses (400 INVALID_ARGUMENT), as GA4 would or because it is unsupported."""


def error_body(status: int, message: str) -> dict[str, Any]:
    """The JSON error GA4 answers with, which `google.api_core.exceptions.from_http_response` decodes."""
    return {"error": {"code": status, "message": message, "status": RPC_STATUS.get(status, "UNKNOWN")}}


# --- the request ---------------------------------------------------------------------------------------


def _only_fields(message: proto.Message, allowed: Collection[str]) -> None:
    """Refuse any field set beyond `allowed`: ignoring it would answer a different report than asked."""
    for field, _ in type(message).pb(message).ListFields():
        if field.name not in allowed:
            raise ApiError(f"{type(message).__name__}.{field.name} is not supported by this emulator.")


def _date_range(request: RunReportRequest) -> tuple[date, date]:
    if len(request.date_ranges) != 1:
        raise ApiError(f"This emulator answers one date range, not {len(request.date_ranges)}.")
    [date_range] = request.date_ranges
    _only_fields(date_range, {"start_date", "end_date"})
    start, end = _parse_date(date_range.start_date), _parse_date(date_range.end_date)
    if start > end:
        raise ApiError(f"The start date {start} is after the end date {end}.")
    return start, end


def _parse_date(text: str) -> date:
    try:
        if _ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ApiError(f"Invalid date {text!r}: this emulator takes YYYY-MM-DD dates only, not relative ones.")


def _only_named(fields: Sequence[Any], kind: str, name: str) -> None:
    for field in fields:
        _only_fields(field, {"name"})
    names = [field.name for field in fields]
    if names != [name]:
        raise ApiError(f"This emulator answers the {kind} {name!r} alone, not {names}.")


def _page_path_pattern(expression: FilterExpression) -> re.Pattern[str]:
    """The one filter perfplat uses: `pagePath` by FULL_REGEXP, case-insensitive as GA4's default is."""
    _only_fields(expression, {"filter"})
    _only_fields(expression.filter, {"field_name", "string_filter"})
    if expression.filter.field_name != PAGE_PATH:
        raise ApiError(
            f"Filters on {expression.filter.field_name!r} are not supported by this emulator; "
            f"only on {PAGE_PATH!r}."
        )
    string_filter = expression.filter.string_filter
    _only_fields(string_filter, {"match_type", "value"})
    match_type = MatchType(string_filter.match_type)
    if match_type != MatchType.FULL_REGEXP:
        raise ApiError(f"Match type {match_type.name} is not supported by this emulator; only FULL_REGEXP.")
    try:
        return re.compile(string_filter.value, re.IGNORECASE)
    except re.error as error:
        raise ApiError(f"Invalid regular expression {string_filter.value!r}: {error}.") from error


def _comparisons(request: RunReportRequest) -> dict[str, re.Pattern[str]]:
    """Ad hoc comparisons by name, in the request's order."""
    comparisons: dict[str, re.Pattern[str]] = {}
    for comparison in request.comparisons:
        _only_fields(comparison, {"name", "dimension_filter"})
        if not comparison.name or "dimension_filter" not in comparison:
            raise ApiError("An ad hoc comparison needs a name and a dimension_filter.")
        if comparison.name in comparisons:
            raise ApiError(f"Comparison names must be unique: {comparison.name!r} is given twice.")
        comparisons[comparison.name] = _page_path_pattern(comparison.dimension_filter)
    return comparisons


def _sort_key(request: RunReportRequest, dimensions: list[str]) -> Callable[[_ReportRow], Any]:
    """The `order_bys`, most significant first, then the dimension values: pages that never overlap."""
    keys: list[tuple[int, bool]] = []
    for order_by in request.order_bys:
        _only_fields(order_by, {"dimension"})
        _only_fields(order_by.dimension, {"dimension_name", "order_type"})
        name, order_type = order_by.dimension.dimension_name, OrderType(order_by.dimension.order_type)
        if name not in dimensions:
            raise ApiError(f"Cannot order by dimension {name!r}: it is not in the report.")
        if order_type not in (OrderType.NUMERIC, OrderType.ALPHANUMERIC):
            supported = "only NUMERIC and ALPHANUMERIC"
            raise ApiError(f"Order type {order_type.name} is not supported by this emulator; {supported}.")
        keys.append((dimensions.index(name), order_type == OrderType.NUMERIC))

    def key(row: _ReportRow) -> tuple[Any, ...]:
        values = row[0]
        return (*(_numeric(values[i]) if numeric else values[i] for i, numeric in keys), values)

    return key


def _numeric(text: str) -> tuple[int, int | str]:
    """NUMERIC ordering puts non-numbers after numbers, as GA4 does."""
    return (0, int(text)) if text.isdigit() else (1, text)


# --- the report ----------------------------------------------------------------------------------------


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


def _local_date(moment: datetime, zone: ZoneInfo) -> date:
    """The session's date in the property's time zone; naive datetimes are taken as London wall time."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=LONDON)).astimezone(zone).date()


def run_report(
    request: RunReportRequest,
    sessions_for_month: SessionsForMonth,
    settings: ReportSettings = ReportSettings(),
) -> RunReportResponse:
    """Answer one `runReport` the way GA4 would for the sessions `sessions_for_month` yields."""
    _only_fields(request, REQUEST_FIELDS)
    if request.offset < 0 or request.limit < 0:
        raise ApiError("offset and limit must not be negative.")
    start, end = _date_range(request)
    _only_named(request.dimensions, "dimension", YEAR_MONTH)
    _only_named(request.metrics, "metric", SESSIONS)
    comparisons = _comparisons(request)
    dimensions = [YEAR_MONTH, COMPARISON] if comparisons else [YEAR_MONTH]
    counts, sessions = _count_sessions(
        (start, end), comparisons, sessions_for_month, ZoneInfo(settings.time_zone)
    )
    rows = sorted(counts.items(), key=_sort_key(request, dimensions))
    offset = 0 if settings.ignore_offset else request.offset
    page = rows[offset : offset + min(request.limit or DEFAULT_LIMIT, MAX_LIMIT)]
    value = "{}.5" if settings.fractional_sessions else "{}"
    return RunReportResponse(
        dimension_headers=[DimensionHeader(name=name) for name in dimensions],
        metric_headers=[MetricHeader(name=SESSIONS, type_=MetricType.TYPE_INTEGER)],
        rows=[
            Row(
                dimension_values=[DimensionValue(value=part) for part in key],
                metric_values=[MetricValue(value=value.format(count))],
            )
            for key, count in page
        ],
        row_count=len(rows),
        metadata=_metadata(settings, sessions),
        kind=KIND,
    )


def _count_sessions(
    dates: tuple[date, date],
    comparisons: Mapping[str, re.Pattern[str]],
    sessions_for_month: SessionsForMonth,
    zone: ZoneInfo,
) -> tuple[Counter[tuple[str, ...]], int]:
    """Sessions per (yearMonth[, comparison]) in the property's time zone, and how many there were.

    Sessions are gathered from every London month the range touches (and one either side in another time
    zone, whose days straddle London's months) and de-duplicated by `session_id`, so a `sessions_for_month`
    that files a session under the "wrong" month, or returns everything every time, counts each once.
    """
    start, end = dates
    first, last = Month.of(start.year, start.month), Month.of(end.year, end.month)
    if zone != LONDON:
        first, last = first.previous(), last.next()
    seen: set[str] = set()
    counts: Counter[tuple[str, ...]] = Counter()
    for month in months_between(first, last):
        for session in sessions_for_month(month):
            day = _local_date(session.started_at, zone)
            if session.session_id in seen or not start <= day <= end:
                continue
            seen.add(session.session_id)
            year_month = day.strftime("%Y%m")
            if not comparisons:
                counts[(year_month,)] += 1
            for name, pattern in comparisons.items():
                if any(pattern.fullmatch(path) for path in session.page_paths):
                    counts[(year_month, name)] += 1
    return counts, len(seen)


def _metadata(settings: ReportSettings, sessions: int) -> ResponseMetaData:
    """The response's metadata, with the flags the settings raise (a sample reads half the sessions)."""
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
            SamplingMetadata(samples_read_count=(sessions + 1) // 2, sampling_space_size=sessions)
        ]
    return metadata


# --- the server ----------------------------------------------------------------------------------------

# GA4's quotas for a standard property (GA4 Data API, Quotas).
TOKENS_PER_DAY = 200_000
TOKENS_PER_HOUR = 40_000
SERVER_ERRORS_PER_HOUR = 10


@dataclass
class Answer:
    """One runReport's outcome, for either transport: an error (`status`, `message`), a report, or a body
    that is not one (`raw`)."""

    status: int = 200
    message: str = ""
    response: RunReportResponse | None = None
    raw: str | None = None


@dataclass
class _Usage:
    tokens: int = 0
    server_errors: int = 0


class _Handler(QuietHandler):
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
        self.write_answer(status, text, content_type)


@dataclass(frozen=True)
class _Raw:
    body: str


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: GA4Emulator) -> None:
        self.emulator = emulator
        super().__init__(address, _Handler)


def _serialize(response: RunReportResponse | bytes) -> bytes:
    """RunReportResponse's own serializer, or the bytes of a body that is not a report, as they are."""
    return response if isinstance(response, bytes) else RunReportResponse.serialize(response)


class GA4Emulator(LoopbackServer):
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
        super().__init__(host, port)
        self.subject_to_thresholding = False
        self.data_loss_from_other_row = False
        self.sampled = False
        self.time_zone = str(ZoneInfo(time_zone))  # an unknown zone fails here, not in every request
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
        self._lock = threading.Lock()

    title = "GA4 emulator"

    def _http_server(self) -> _Server:
        return _Server((self.host, self.port), self)

    def _started(self) -> None:
        if self._grpc_wanted:
            self._start_grpc()

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

    def _stopping(self) -> None:
        grpc_server, self._grpc_server = self._grpc_server, None
        if grpc_server is not None:
            grpc_server.stop(grace=None).wait(5)

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

    def answer_otherwise(self, request: RunReportRequest | None) -> Answer | None:
        """A subclass's answer to this request (`request` None: its body did not parse) in place of GA4's;
        None answers as GA4 would. Called for every request after it is counted and recorded, before the
        quota; an error answered here counts as a server error when it is one. May block, waiting on
        `stopping`."""
        return None

    def _answer(self, property_id: str, body: bytes) -> tuple[int, str | dict[str, Any] | _Raw]:
        """One REST runReport: parse the body, then answer as `_respond` decides."""
        request: RunReportRequest | None = None
        parse_error = ""
        try:
            request = RunReportRequest.from_json(body.decode("utf-8") or "{}")
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

    def _respond(self, request: RunReportRequest | None, parse_error: str) -> Answer:
        """Count the request, record it, then answer as a subclass would, refuse by the quota, or compute
        the report."""
        with self._lock:
            self._requests_served += 1
            if request is not None:
                self.requests.append(request)
        answer = self.answer_otherwise(request)
        if answer is not None:
            plain_error = answer.response is None and answer.raw is None
            return self._error(answer.status, answer.message) if plain_error else answer
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
            return self._error(400, str(error))
        except Exception:
            logger.exception("GA4 emulator failed to answer %s", request)
            return self._error(500, "Internal error in the GA4 emulator.")
        quota = self._charge()
        if request.return_property_quota:
            response.property_quota = quota
        return Answer(response=response)

    def _error(self, status: int, message: str) -> Answer:
        if status >= 500:
            with self._lock:
                self._usage.server_errors += 1
        return Answer(status=status, message=message)

    def _quota_refusal(self) -> Answer | None:
        """GA4 refuses every request once a quota is used up (the emulator's hour and day: its lifetime)."""
        with self._lock:
            usage = self._usage
            if usage.server_errors >= self.server_errors_per_hour:
                name = "server errors per project per property per hour"
            elif usage.tokens + self.tokens_per_request > self.tokens_per_hour:
                name = "property tokens per hour"
            elif usage.tokens + self.tokens_per_request > self.tokens_per_day:
                name = "tokens per day"
            else:
                return None
        return Answer(status=429, message=f"Exhausted {name} quota (GA4 emulator).")

    def _charge(self) -> PropertyQuota:
        """Spend a report's tokens; the quota GA4 reports: what this request cost, and what is left."""
        cost = self.tokens_per_request
        with self._lock:
            self._usage.tokens += cost
            tokens, errors = self._usage.tokens, self._usage.server_errors
        return PropertyQuota(
            tokens_per_day=QuotaStatus(consumed=cost, remaining=max(0, self.tokens_per_day - tokens)),
            tokens_per_hour=QuotaStatus(consumed=cost, remaining=max(0, self.tokens_per_hour - tokens)),
            server_errors_per_project_per_hour=QuotaStatus(
                consumed=0, remaining=max(0, self.server_errors_per_hour - errors)
            ),
        )


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the sample data in the foreground, for poking at with the client or curl."""
    parser = argparse.ArgumentParser(description="Serve a GA4 Data API runReport emulator on loopback.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8085)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    GA4Emulator(host=args.host, port=args.port).serve_until_interrupted("GA4 emulator serving sample data")


if __name__ == "__main__":
    main()
