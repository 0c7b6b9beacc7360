"""The GA4 Data API, through Google's client (the embedded sample's emulator is in `perfplat_sample`)."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

from google.analytics.data_v1beta import BetaAnalyticsDataClient
from google.auth.exceptions import DefaultCredentialsError
from pydantic import Field

from perfplat_assets.common.errors import SourceUnavailable
from perfplat_assets.common.months import Month
from perfplat_assets.common.network import is_loopback
from perfplat_assets.common.settings import shown_url
from perfplat_assets.common.sources import SourceResource
from perfplat_assets.completion_rate.queries.data_api import (
    GA4_SERVER_ERRORS_PER_HOUR,
    MAX_PAGE_SIZE,
    MAX_PAGES,
    PAGE_SIZE,
    CompletionReport,
    Paging,
    RetrySettings,
    Source,
    fetch_completion_report,
)

SETTING = "PERFPLAT_GA4_PROPERTY_ID"
ANONYMOUS = "anonymous credentials, as for a loopback emulator"
DEFAULT_RETRY = RetrySettings()  # the defaults, stated once in queries.data_api


def bypass_proxy(host: str) -> None:
    """A proxy in the environment would otherwise intercept calls to the loopback emulator."""
    for name in ("NO_PROXY", "no_proxy"):
        present = [h for h in os.environ.get(name, "").split(",") if h]
        if host not in present:
            os.environ[name] = ",".join([*present, host])


def plain_http_emulator(endpoint: str | None, setting: str) -> bool:
    """Whether `endpoint` is a plain-http emulator, to be called with anonymous credentials: only a loopback
    one may be (a plain-http endpoint elsewhere is refused, naming `setting`); its host then bypasses any
    proxy."""
    if not endpoint or not endpoint.startswith("http://"):
        return False
    host = urlsplit(endpoint).hostname
    if not is_loopback(host):
        raise ValueError(
            f"{setting} is plain http on a non-loopback host ({shown_url(endpoint)}); only a local emulator "
            "may be reached without TLS."
        )
    bypass_proxy(host or "127.0.0.1")
    return True


class GoogleAnalytics(SourceResource):
    """The service's GA4 property; credentials the standard Google way (GOOGLE_APPLICATION_CREDENTIALS)."""

    setting = SETTING
    property_id: str | None = Field(default=None, description="Numeric GA4 property id; unset: the emulator.")
    api_endpoint: str | None = Field(
        default=None, description="Endpoint override; a plain-http loopback address is an emulator."
    )
    page_size: int = Field(
        default=PAGE_SIZE, description=f"Rows per runReport page (GA4 maximum {MAX_PAGE_SIZE:,})."
    )
    max_pages: int = Field(default=MAX_PAGES, description="Pages of one report read at most.")
    retry_initial_delay: float = Field(
        default=DEFAULT_RETRY.initial_delay, description="Seconds before the first retry."
    )
    retry_deadline: float = Field(
        default=DEFAULT_RETRY.deadline,
        description="Seconds within which timeouts, quota and server errors are retried.",
    )
    request_timeout: float = Field(default=DEFAULT_RETRY.request_timeout, description="Seconds per request.")
    max_server_error_retries: int = Field(
        default=DEFAULT_RETRY.max_server_error_retries,
        description=(
            f"Times a server error is retried (GA4 allows {GA4_SERVER_ERRORS_PER_HOUR} server errors per "
            "property an hour)."
        ),
    )

    @property
    def embedded(self) -> bool:
        return False

    @property
    def sample_setting(self) -> str | None:
        """Without a property id there are no figures at all: the guard names the setting all the same."""
        return None if self.property_id else self.setting_name

    def describe(self) -> str:
        # Credentials in the endpoint are refused at load; a run reading another environment never shows them.
        endpoint = (self.api_endpoint or "analyticsdata.googleapis.com").rpartition("@")[2]
        return f"GA4 property {self.property_id} at {endpoint}"

    @property
    def named(self) -> str:
        """The Data API as a message about its answer names it: the property, and the setting naming it."""
        return f"the GA4 Data API for property {self.property_id or '(the embedded sample)'} ({SETTING})"

    @contextmanager
    def _client(self) -> Iterator[tuple[BetaAnalyticsDataClient, Source]]:
        if not self.property_id:
            given = "PERFPLAT_GA4_API_ENDPOINT is set but " if self.api_endpoint else ""
            raise ValueError(
                f"{given}PERFPLAT_GA4_PROPERTY_ID is not set: set the numeric GA4 property id (or unset both "
                "to use the embedded sample's emulator, where it is installed)."
            )
        if plain_http_emulator(self.api_endpoint, "PERFPLAT_GA4_API_ENDPOINT"):
            assert self.api_endpoint is not None
            source = Source(self.describe(), self.property_id, ANONYMOUS)
            yield self._anonymous_client(self.api_endpoint), source
            return
        if self.api_endpoint:
            host = urlsplit(f"//{self.api_endpoint.removeprefix('https://')}").hostname
            if is_loopback(host):
                bypass_proxy(host or "127.0.0.1")  # gRPC, like requests, would tunnel through a proxy
        options = {"api_endpoint": self.api_endpoint} if self.api_endpoint else None
        yield BetaAnalyticsDataClient(client_options=options), Source(self.describe(), self.property_id)

    @staticmethod
    def _anonymous_client(endpoint: str) -> BetaAnalyticsDataClient:
        from google.auth.credentials import AnonymousCredentials

        return BetaAnalyticsDataClient(
            credentials=AnonymousCredentials(), transport="rest", client_options={"api_endpoint": endpoint}
        )

    def retry_settings(self) -> RetrySettings:
        return RetrySettings(
            initial_delay=self.retry_initial_delay,
            deadline=self.retry_deadline,
            request_timeout=self.request_timeout,
            max_server_error_retries=self.max_server_error_retries,
        )

    def completion_report(self, months: list[Month]) -> CompletionReport:
        """The report for `months`; a `SourceUnavailable` saying what to do when GA4 cannot give it (an
        endpoint that cannot be reached is told apart inside `fetch_completion_report`, by its cause)."""
        try:
            with self._client() as (client, source):
                return fetch_completion_report(
                    client,
                    source.property_id,
                    months,
                    source=source,
                    paging=Paging(self.page_size, self.max_pages),
                    retry=self.retry_settings(),
                )
        except DefaultCredentialsError as error:
            raise SourceUnavailable(
                f"No usable Google credentials for {self.describe()} ({error}): set "
                "GOOGLE_APPLICATION_CREDENTIALS to a service account key file with read access to the "
                "property (or, where the embedded sample is installed, unset PERFPLAT_GA4_PROPERTY_ID to use "
                "its emulator)."
            ) from None
