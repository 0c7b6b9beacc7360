"""Fault injection into the BigQuery emulator: refusals and answers held back, queued for the next requests
of a kind. The emulator answers as BigQuery does; this subclass uses its `answer_otherwise` hook, so the
faults are the tests' and never ship in the package."""

from __future__ import annotations

import threading
from dataclasses import dataclass

from perfplat_sample.bigquery_emulator import Answer, BigQueryEmulator, RequestInfo, error_body


@dataclass(frozen=True)
class _Fault:
    path_ends: str  # the requests it meets: "/queries", "/jobs", "/tables"
    status: int = 0
    reason: str = ""
    message: str = ""
    hold_seconds: float | None = None


class FaultyBigQueryEmulator(BigQueryEmulator):
    """The BigQuery emulator, meeting the next matching requests with the faults queued by `refuse_next`
    and `hold_next`, in the order they were queued."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._faults: list[_Fault] = []
        self._faults_lock = threading.Lock()

    def refuse_next(self, path_ends: str, status: int, reason: str, message: str) -> None:
        """Answer the next request whose path ends with `path_ends` with BigQuery's error of `status`."""
        with self._faults_lock:
            self._faults.append(_Fault(path_ends, status, reason, message))

    def hold_next(self, path_ends: str, seconds: float) -> None:
        """Hold the next matching request `seconds` before answering it as usual (a slow BigQuery)."""
        with self._faults_lock:
            self._faults.append(_Fault(path_ends, hold_seconds=seconds))

    def answer_otherwise(self, request: RequestInfo) -> Answer | None:
        with self._faults_lock:
            fault = next((f for f in self._faults if request.path.endswith(f.path_ends)), None)
            if fault is not None:
                self._faults.remove(fault)
        if fault is None:
            return None
        if fault.hold_seconds is not None:
            self.stopping.wait(fault.hold_seconds)  # let go at once when the emulator stops
            return None
        return fault.status, error_body(fault.status, fault.reason, fault.message)
