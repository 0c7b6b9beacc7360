"""GA4's BigQuery export, through Google's official client: where the completion rate is counted exactly.

One query a run, whatever its range, with query parameters and job labels; only counts per month come
back, never a user or session identifier, and they are checked before any is used
(`calculation.journeys_answer`). Before it, a listing of the dataset's tables says which months are settled
(`queries.bigquery_export.coverage`). Every refusal BigQuery can give is told as what to change. A job is
waited for by asking its state less and less often, and one still running at the deadline is cancelled, so
that it bills no further.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import requests
from google.api_core import exceptions as google
from google.api_core.retry import Retry, if_exception_type
from google.auth.exceptions import DefaultCredentialsError
from pydantic import Field

from perfplat_assets.common.answers import Answer
from perfplat_assets.common.errors import SourceUnavailable, clause
from perfplat_assets.common.months import Month
from perfplat_assets.common.network import unreachable_cause
from perfplat_assets.common.sources import SourceResource
from perfplat_assets.completion_rate.calculation import SessionCounts, journeys_answer
from perfplat_assets.completion_rate.queries.bigquery_export import journeys_query
from perfplat_assets.completion_rate.resources.data_api import SETTING as PROPERTY_SETTING
from perfplat_assets.completion_rate.resources.data_api import plain_http_emulator

if TYPE_CHECKING:
    from google.cloud import bigquery

SETTING = "PERFPLAT_GA4_BIGQUERY_DATASET"
PROJECT, LOCATION = "PERFPLAT_BIGQUERY_PROJECT", "PERFPLAT_BIGQUERY_LOCATION"
MAX_BYTES, ENDPOINT = "PERFPLAT_BIGQUERY_MAX_BYTES_BILLED", "PERFPLAT_BIGQUERY_API_ENDPOINT"
# A month of Make an LPA's export is some hundreds of megabytes; a range of years a few tens of gigabytes.
DEFAULT_MAX_BYTES_BILLED = 200 * 10**9
# `project.dataset`, the project optionally domain-scoped (`example.com:project`).
DATASET = re.compile(r"(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,61}[a-z0-9]\.[A-Za-z0-9_]{1,1024}")
ROLES = "BigQuery Data Viewer on the dataset and BigQuery Job User on the project that runs the query"
# Retried within the deadline: BigQuery's own transient errors, and an answer that did not come in time. An
# endpoint that cannot be reached at all is not retried: it is said at once.
TRANSIENT = (
    google.ServiceUnavailable,
    google.InternalServerError,
    google.TooManyRequests,
    requests.exceptions.ReadTimeout,
)
# A running job's state is asked for at once, then after half a second, and twice as long each time after,
# at most every ten seconds: a query of years takes minutes, and each answer BigQuery gives is a request.
FIRST_POLL_SECONDS, MOST_POLL_SECONDS = 0.5, 10.0


@dataclass(frozen=True)
class JourneyCounts:
    """The export's answer for a run: sessions that began and completed the journey, by London month (the
    months answered wrongly apart, in `sessions.faults`), and what the job cost."""

    sessions: Answer[SessionCounts]
    job_id: str
    bytes_processed: int
    bytes_billed: int


class GA4Export(SourceResource):
    """The GA4 property's BigQuery export; credentials the standard Google way (Application Default
    Credentials), anonymous for a plain-http loopback emulator."""

    setting = SETTING
    dataset: str | None = Field(default=None, description="The export's project.dataset; unset: not read.")
    project: str | None = Field(
        default=None, description="Runs and pays for the jobs; default: the dataset's."
    )
    location: str | None = Field(
        default=None, description="The dataset's location; default: BigQuery's routing."
    )
    max_bytes_billed: int = Field(
        default=DEFAULT_MAX_BYTES_BILLED, description="Per job; BigQuery refuses more."
    )
    api_endpoint: str | None = Field(
        default=None, description="Endpoint override; plain-http loopback: an emulator."
    )
    timeout_seconds: float = Field(
        default=600.0, description="Seconds within which a job is retried and waited for."
    )
    request_timeout: float = Field(default=60.0, description="Seconds one request to BigQuery may take.")

    @property
    def embedded(self) -> bool:
        return False

    @property
    def enabled(self) -> bool:
        return bool(self.dataset)

    @property
    def sample_setting(self) -> str | None:
        """Unset, the export is not read and the Data API is: no sample is served in its place."""
        return None

    @property
    def supersedes(self) -> str | None:
        """Read, the export's figure is published, and the Data API only compared with it."""
        return PROPERTY_SETTING if self.dataset else None

    def describe(self) -> str:
        # Credentials in the endpoint are refused at load; a run reading another environment never shows them.
        endpoint = (self.api_endpoint or "bigquery.googleapis.com").rpartition("@")[2]
        return f"GA4's BigQuery export {self.dataset} at {endpoint}"

    @property
    def named(self) -> str:
        """The export as a message about its answer names it: the dataset, and the setting that names it."""
        return f"GA4's BigQuery export {self.dataset} ({SETTING})"

    def tables(self) -> list[str]:
        """The names of the export's tables (`events_YYYYMMDD`, `events_intraday_YYYYMMDD`)."""
        with self._client() as client, self._told("listing the tables of"):
            listing = client.list_tables(
                self._dataset(), retry=_retry(self.timeout_seconds), timeout=self.request_timeout
            )
            return [table.table_id for table in listing]

    def journeys(self, months: Sequence[Month]) -> JourneyCounts:
        """Sessions that began and completed the journey in each of `months`, in one job, checked."""
        from google.cloud import bigquery  # with pandas: loaded when the export is read, not at load

        query = journeys_query(self._dataset(), months)
        config = bigquery.QueryJobConfig(
            query_parameters=[_parameter(name, value) for name, value in query.parameters.items()],
            maximum_bytes_billed=self.max_bytes_billed,
            labels={"app": "perfplat", "measure": "completion_rate", "months": _months_label(months)},
            use_legacy_sql=False,
        )
        with self._client() as client, self._told("querying"):
            deadline = time.monotonic() + self.timeout_seconds
            retry = _retry(self.timeout_seconds)
            job = client.query(
                query.sql,
                job_config=config,
                location=self.location,
                retry=retry,
                timeout=self.request_timeout,
                job_retry=None,  # a failed job is the query's answer, not a fault to run again
            )
            self._wait(client, job, deadline)
            rows = [dict(row.items()) for row in job.result(retry=retry, timeout=self.request_timeout)]
        return JourneyCounts(
            journeys_answer(rows, months),
            job.job_id,
            job.total_bytes_processed or 0,
            job.total_bytes_billed or 0,
        )

    def _wait(self, client: bigquery.Client, job: bigquery.QueryJob, deadline: float) -> None:
        """Until `job` is done, asking BigQuery its state at once, then less and less often; a job still
        running at `deadline` is cancelled, so that it runs and bills no further, and said so."""
        retry, delay, asked = _retry(self.request_timeout), FIRST_POLL_SECONDS, 0
        while True:
            asked += 1
            if job.done(retry=retry, timeout=self.request_timeout):
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise SourceUnavailable(self._overran(client, job, asked))
            time.sleep(min(delay, left))  # the back-off itself: nothing else to wait on
            delay = min(delay * 2, MOST_POLL_SECONDS)

    def _overran(self, client: bigquery.Client, job: bigquery.QueryJob, asked: int) -> str:
        """Why nothing was counted from a job that outran the deadline: cancelled, or who must cancel it."""
        try:
            client.cancel_job(job.job_id, location=job.location, timeout=self.request_timeout)
            cancelled = "so it was cancelled and bills no further"
        except (google.GoogleAPICallError, google.RetryError, OSError) as error:
            cancelled = (
                f"and cancelling it failed ({_short(error)}), so cancel it in the Google Cloud console "
                f"(project {self._project()}) lest it bill further"
            )
        return (
            f"BigQuery job {job.job_id} on {self.describe()} was still running after "
            f"{self.timeout_seconds:g} s (its state asked {asked} times, less often each time), {cancelled}; "
            "nothing was counted: re-run the month later"
        )

    def _dataset(self) -> str:
        """The dataset's name, which the query's text holds (a table reference takes no parameter): checked
        again here, whoever built the resource, so that nothing but `project.dataset` reaches the SQL."""
        if not self.dataset:
            raise ValueError(f"{SETTING} is not set: the export is not a source")
        if not DATASET.fullmatch(self.dataset):
            raise ValueError(
                f"{SETTING} must be the export's project.dataset, e.g. opg-analytics.analytics_123456789"
            )
        return self.dataset

    def _project(self) -> str:
        return self.project or self._dataset().rpartition(".")[0]

    @contextmanager
    def _client(self) -> Iterator[bigquery.Client]:
        from google.cloud import bigquery

        options = {"api_endpoint": self.api_endpoint} if self.api_endpoint else None
        if plain_http_emulator(self.api_endpoint, ENDPOINT):
            from google.auth.credentials import AnonymousCredentials

            client = bigquery.Client(
                project=self._project(), credentials=AnonymousCredentials(), client_options=options
            )
        else:
            try:
                client = bigquery.Client(project=self._project(), client_options=options)
            except DefaultCredentialsError as error:
                raise SourceUnavailable(
                    f"No usable Google credentials for {self.describe()} ({error}): set "
                    f"GOOGLE_APPLICATION_CREDENTIALS to a service account with {ROLES} (or unset {SETTING} "
                    "to count the completion rate with the GA4 Data API)."
                ) from None
        try:
            yield client
        finally:
            client.close()

    @contextmanager
    def _told(self, doing: str) -> Iterator[None]:
        """BigQuery's refusals as what to change, naming the setting; nothing else is caught."""
        try:
            yield
        except google.GoogleAPICallError as error:
            raise SourceUnavailable(self._refusal(error, doing)) from None
        except (OSError, TimeoutError, google.RetryError) as error:
            cause = unreachable_cause(error)
            if cause is None:
                raise SourceUnavailable(
                    f"{self.describe()} did not answer within {self.timeout_seconds:g} s while {doing} it, "
                    f"retried: {clause(_short(error))}. Nothing was counted; re-run the month later"
                ) from None
            raise SourceUnavailable(
                f"{self.describe()} could not be reached while {doing} it: {clause(cause)}. Check "
                f"{ENDPOINT}, the network and any proxy"
            ) from None

    def _refusal(self, error: google.GoogleAPICallError, doing: str) -> str:
        reasons = {str(e.get("reason")) for e in getattr(error, "errors", None) or [] if isinstance(e, dict)}
        said = _short(error)
        where = f"BigQuery refused {doing} {self.dataset}: {said}"
        if "bytesBilledLimitExceeded" in reasons or "bytes billed" in said:
            return f"{where}. Raise {MAX_BYTES} (now {self.max_bytes_billed:,} bytes) if the range needs it"
        if isinstance(error, google.NotFound) and "location" in said.lower():
            now = self.location or "unset"
            return f"{where}. Check {SETTING} and {LOCATION} (now {now}): the dataset's location"
        if isinstance(error, google.NotFound):
            return f"{where}. Check {SETTING} (project.dataset) and {PROJECT} (now {self._project()})"
        if isinstance(error, google.Forbidden | google.Unauthorized):
            return f"{where}. The credentials need {ROLES} ({PROJECT}, now {self._project()})"
        return f"{where}. Nothing was counted; re-run the month once BigQuery answers"


def _retry(deadline: float) -> Retry:
    return Retry(predicate=if_exception_type(*TRANSIENT), initial=1.0, maximum=30.0, timeout=deadline)


def _parameter(name: str, value: int | str) -> bigquery.ScalarQueryParameter:
    from google.cloud import bigquery

    return bigquery.ScalarQueryParameter(name, "INT64" if isinstance(value, int) else "STRING", value)


def _months_label(months: Sequence[Month]) -> str:
    """A label value (lowercase, at most 63 characters): `2026-11`, or `2024-12_to_2026-11`."""
    first, last = min(months).label, max(months).label
    return first if first == last else f"{first}_to_{last}"


def _short(error: BaseException) -> str:
    """The error's own words, or its kind when it has none (a client's timeout says nothing)."""
    text = getattr(error, "message", None) or str(error)
    return " ".join(str(text).split())[:300] or type(error).__name__
