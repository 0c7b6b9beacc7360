"""Fault injection into the BigQuery emulator: refusals and answers held back, queued for the next requests
of a kind; results that are not the query's (a BigQuery answering wrongly); jobs that never finish. The
emulator answers as BigQuery does; this subclass uses its `answer_otherwise` hook, so the faults are the
tests' and never ship in the package."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from perfplat_sample.bigquery_emulator import Answer, BigQueryEmulator, RequestInfo, error_body


@dataclass(frozen=True)
class _Fault:
    path_ends: str  # the requests it meets: "/queries", "/jobs", "/tables"
    status: int = 0
    reason: str = ""
    message: str = ""
    hold_seconds: float | None = None


_JOB = re.compile(r"/projects/(?P<project>[^/]+)/(?:jobs|queries)/(?P<job>[^/]+?)(?P<cancel>/cancel)?$")


class FaultyBigQueryEmulator(BigQueryEmulator):
    """The BigQuery emulator, meeting the next matching requests with the faults queued by `refuse_next`
    and `hold_next`, in the order they were queued; every query's results replaced after `answer_rows`;
    every job left running after `never_finish` (and a cancellation recorded in `cancelled`)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._faults: list[_Fault] = []
        self._faults_lock = threading.Lock()
        self._rows: tuple[list[dict[str, str]], list[dict[str, Any]]] | None = None
        self._running = False
        self.cancelled: list[str] = []

    def answer_rows(self, columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[str | None]]) -> None:
        """Answer every query's results with `rows` under `columns` ((name, BigQuery type)) in place of the
        query's own, each cell as BigQuery's JSON carries it (a string, or None for NULL)."""
        fields = [{"name": name, "type": kind, "mode": "NULLABLE"} for name, kind in columns]
        self._rows = (fields, [{"f": [{"v": cell} for cell in row]} for row in rows])

    def never_finish(self) -> None:
        """Leave every job RUNNING from now on, as a query BigQuery never gets to the end of; a
        `jobs.cancel` is recorded in `cancelled` and answered as BigQuery answers it."""
        self._running = True

    def _job_answer(self, request: RequestInfo) -> Answer | None:
        """A job left running, or results replaced, as `never_finish` and `answer_rows` asked."""
        match = _JOB.search(request.path)
        if self._running and request.method == "POST" and request.path.endswith("/jobs"):
            reference = dict((request.body or {}).get("jobReference") or {})
            return 200, _running_job(reference, (request.body or {}).get("configuration") or {})
        if match is None:
            return None
        reference = {"projectId": match["project"], "jobId": match["job"]}
        reference["location"] = request.query.get("location") or self.location
        if match["cancel"] and request.method == "POST":
            self.cancelled.append(match["job"])
            return 200, {"kind": "bigquery#jobCancelResponse", "job": _running_job(reference, {})}
        if self._running and request.method == "GET":
            if "/queries/" in request.path:
                return 200, {
                    "kind": "bigquery#getQueryResultsResponse",
                    "jobReference": reference,
                    "jobComplete": False,
                }
            return 200, _running_job(reference, {})
        if self._rows is not None and request.method == "GET" and "/queries/" in request.path:
            fields, rows = self._rows
            return 200, {
                "kind": "bigquery#getQueryResultsResponse",
                "jobReference": reference,
                "jobComplete": True,
                "schema": {"fields": fields},
                "totalRows": str(len(rows)),
                "rows": rows,
                "totalBytesProcessed": "0",
                "cacheHit": False,
            }
        return None

    def refuse_next(self, path_ends: str, status: int, reason: str, message: str) -> None:
        """Answer the next request whose path ends with `path_ends` with BigQuery's error of `status`."""
        with self._faults_lock:
            self._faults.append(_Fault(path_ends, status, reason, message))

    def hold_next(self, path_ends: str, seconds: float) -> None:
        """Hold the next matching request `seconds` before answering it as usual (a slow BigQuery)."""
        with self._faults_lock:
            self._faults.append(_Fault(path_ends, hold_seconds=seconds))

    def answer_otherwise(self, request: RequestInfo) -> Answer | None:
        answer = self._job_answer(request)
        if answer is not None:
            return answer
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


def _running_job(reference: dict[str, Any], configuration: dict[str, Any]) -> dict[str, Any]:
    """A query job as `jobs.insert` and `jobs.get` return it while it runs."""
    return {
        "kind": "bigquery#job",
        "id": f"{reference.get('projectId')}:{reference.get('location')}.{reference.get('jobId')}",
        "jobReference": reference,
        "configuration": {**configuration, "jobType": "QUERY"},
        "status": {"state": "RUNNING"},
        "statistics": {"creationTime": "0", "startTime": "0"},
    }
