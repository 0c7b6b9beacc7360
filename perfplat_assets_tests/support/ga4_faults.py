"""Fault injection into the GA4 emulator: errors, hangs, bodies that are not a report and reports that are
not the one asked for, queued for the next requests. The emulator itself answers as GA4 does; this subclass
uses its `answer_otherwise` hook, so the faults are the tests' and never ship in the package."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

from google.analytics.data_v1beta.types import (
    DimensionHeader,
    DimensionValue,
    MetricHeader,
    MetricType,
    MetricValue,
    ResponseMetaData,
    Row,
    RunReportRequest,
    RunReportResponse,
)

from perfplat_sample.ga4_emulator import Answer, GA4Emulator


@dataclass(frozen=True)
class _Fault:
    kind: str  # "status", "hang", "malformed" or "report"
    status: int = 0
    message: str | None = None
    seconds: float | None = None
    body: str = ""
    report: RunReportResponse | None = None


class FaultyGA4Emulator(GA4Emulator):
    """The GA4 emulator, answering the next requests with the faults queued by `fail_next`, `hang_next`,
    `malformed_next` and `report_next`, in the order they were queued."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._faults: list[_Fault] = []
        self._faults_lock = threading.Lock()

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

    def report_next(self, rows: Sequence[tuple[str, str, str]], times: int = 1) -> None:
        """Answer the next `times` requests with a report of `rows` ((yearMonth, comparison, sessions), each
        as GA4 writes it, text) in place of the one asked for: a GA4 answering wrongly."""
        report = RunReportResponse(
            dimension_headers=[DimensionHeader(name="yearMonth"), DimensionHeader(name="comparison")],
            metric_headers=[MetricHeader(name="sessions", type_=MetricType.TYPE_INTEGER)],
            rows=[
                Row(
                    dimension_values=[DimensionValue(value=month), DimensionValue(value=comparison)],
                    metric_values=[MetricValue(value=sessions)],
                )
                for month, comparison, sessions in rows
            ],
            row_count=len(rows),
            metadata=ResponseMetaData(time_zone="Europe/London"),
        )
        self._queue(_Fault("report", report=report), times)

    def _queue(self, fault: _Fault, times: int) -> None:
        if times < 0:
            raise ValueError(f"times must not be negative, not {times}")
        with self._faults_lock:
            self._faults.extend([fault] * times)

    def answer_otherwise(self, request: RunReportRequest | None) -> Answer | None:
        with self._faults_lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault is None:
            return None
        if fault.kind == "hang":
            self.stopping.wait(fault.seconds)
            return (
                Answer(status=503, message="The GA4 emulator is stopping.")
                if self.stopping.is_set()
                else None
            )
        if fault.kind == "malformed":
            return Answer(raw=fault.body)
        if fault.kind == "report":
            return Answer(response=fault.report)
        return Answer(
            status=fault.status,
            message=fault.message or f"Injected failure ({fault.status}) from the GA4 emulator.",
        )
