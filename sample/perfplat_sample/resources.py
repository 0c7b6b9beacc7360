"""The embedded sample's sources: what `common.settings.sample_stand_ins` hands the measures' `sources`
modules for a source whose setting is unset.

Each is its production class serving the sample instead (SQLite copies seeded on demand, the GA4 emulator,
synthetic health checks), and says so (`embedded`), so the publication guard keeps the sample off S3 and
data.gov.uk. The production classes hold no sample branch.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

from google.analytics.data_v1beta import BetaAnalyticsDataClient
from pydantic import Field
from sqlalchemy import Engine

from perfplat_assets.common.make_an_lpa_database import MakeAnLpaDatabase
from perfplat_assets.common.months import Month, contiguous, last_closed_month, months_between
from perfplat_assets.common.sources import SourceResource
from perfplat_assets.common.sql_source import DEFAULT_DATA_DIR
from perfplat_assets.completion_rate.queries.data_api import Source
from perfplat_assets.completion_rate.resources.bigquery_export import GA4Export
from perfplat_assets.completion_rate.resources.data_api import ANONYMOUS, GoogleAnalytics, bypass_proxy
from perfplat_assets.digital_take_up.resources import SiriusDatabase
from perfplat_assets.services.make_an_lpa.service import MAKE_AN_LPA
from perfplat_assets.uptime.resources import Route53HealthCheck
from perfplat_assets.user_satisfaction.resources.deputy_reporting_database import DeputyReportingDatabase
from perfplat_assets.user_satisfaction.resources.feedback_exports import FeedbackExports
from perfplat_sample.feedback_exports import EmbeddedFeedbackExports
from perfplat_sample.ga4_emulator import GA4Emulator
from perfplat_sample.sample_data import sample_health_checks
from perfplat_sample.seed import deputy_reporting_database, lpa_database, sirius_database
from perfplat_sample.serving import ServesTheSample

if TYPE_CHECKING:
    from google.cloud import bigquery

    from perfplat_sample.bigquery_emulator import BigQueryEmulator

EMBEDDED_PROPERTY_ID = "0"
DATA_DIR_DESCRIPTION = "Home of the embedded sample's SQLite files."


class EmbeddedMakeAnLpaDatabase(ServesTheSample, MakeAnLpaDatabase):
    """A SQLite copy of the service's database, seeded with the sample's feedback and applications."""

    data_dir: str = Field(default=DEFAULT_DATA_DIR, description=DATA_DIR_DESCRIPTION)

    def _engine(self, months: Sequence[Month]) -> Engine:
        return lpa_database(self.data_dir, months)


class EmbeddedSiriusDatabase(ServesTheSample, SiriusDatabase):
    """A SQLite copy of Sirius, seeded with the sample's cases under the contract perfplat assumes."""

    data_dir: str = Field(default=DEFAULT_DATA_DIR, description=DATA_DIR_DESCRIPTION)

    def _engine(self, months: Sequence[Month]) -> Engine:
        return sirius_database(self.data_dir, months)


class EmbeddedDeputyReportingDatabase(ServesTheSample, DeputyReportingDatabase):
    """A SQLite copy of digideps' database, seeded with the sample's satisfaction scores."""

    data_dir: str = Field(default=DEFAULT_DATA_DIR, description=DATA_DIR_DESCRIPTION)

    def _engine(self, months: Sequence[Month]) -> Engine:
        return deputy_reporting_database(self.data_dir, months)


class EmbeddedGoogleAnalytics(ServesTheSample, GoogleAnalytics):
    """The GA4 emulator on loopback, serving the sample's sessions, started for each report and reached
    through the real client."""

    def describe(self) -> str:
        return f"embedded GA4 emulator ({self.setting_name} unset)"

    @contextmanager
    def _client(self) -> Iterator[tuple[BetaAnalyticsDataClient, Source]]:
        with GA4Emulator() as emulator:
            bypass_proxy("127.0.0.1")
            source = Source(self.describe(), EMBEDDED_PROPERTY_ID, ANONYMOUS)
            yield self._anonymous_client(emulator.endpoint), source


class EmbeddedGA4Export(ServesTheSample, GA4Export):
    """The BigQuery emulator on loopback, serving the sample's GA4 export from the first month to the one
    that closed last (and the day after, so that every closed month is settled), reached through the real
    client."""

    @property
    def enabled(self) -> bool:
        return True

    @property
    def supersedes(self) -> str | None:
        return GoogleAnalytics.setting  # the sample's exact figure is published; its Data API only compared

    def describe(self) -> str:
        return f"embedded BigQuery emulator ({self.setting_name} unset)"

    def _dataset(self) -> str:
        from perfplat_sample.bigquery_emulator import SAMPLE_DATASET, SAMPLE_PROJECT

        return f"{SAMPLE_PROJECT}.{SAMPLE_DATASET}"

    @contextmanager
    def _client(self) -> Iterator[bigquery.Client]:
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        from perfplat_sample.bigquery_emulator import SAMPLE_PROJECT

        emulator = _sample_export()
        bypass_proxy("127.0.0.1")
        options = {"api_endpoint": emulator.endpoint}
        client = bigquery.Client(
            project=SAMPLE_PROJECT, credentials=AnonymousCredentials(), client_options=options
        )
        try:
            yield client
        finally:
            client.close()


_sample_exports: dict[Month, BigQueryEmulator] = {}
_sample_export_lock = threading.Lock()


def _sample_export() -> BigQueryEmulator:
    """The process's BigQuery emulator serving the sample export from the first month to the one that closed
    last, started when first asked for and kept: a run asks twice (the tables, then the query), and each
    day's table is loaded into DuckDB once, not once a request. A month that closes meanwhile gets a new one.
    The emulator (DuckDB, sqlglot) is imported here, not when the code location loads."""
    from perfplat_sample.bigquery_emulator import BigQueryEmulator, sample_tables

    closed = last_closed_month()
    with _sample_export_lock:
        if closed not in _sample_exports:
            for stale in _sample_exports.values():
                stale.stop()
            _sample_exports.clear()
            served = months_between(MAKE_AN_LPA.first_month, closed)
            _sample_exports[closed] = BigQueryEmulator(sample_tables(served), location="EU").start()
        return _sample_exports[closed]


class EmbeddedRoute53HealthCheck(ServesTheSample, Route53HealthCheck):
    """Synthetic hourly health-check data in place of CloudWatch's."""

    def hourly_status(self, months: Sequence[Month]) -> list[tuple[datetime, object]]:
        return list(sample_health_checks(contiguous(months)).items())


# The embedded sample's stand-in for each kind of source, which `common.settings.sample_stand_ins` hands
# to the measures' `sources` modules: a source whose settings are unset serves the sample.
STAND_INS: Mapping[type[SourceResource], type[SourceResource]] = {
    MakeAnLpaDatabase: EmbeddedMakeAnLpaDatabase,
    SiriusDatabase: EmbeddedSiriusDatabase,
    DeputyReportingDatabase: EmbeddedDeputyReportingDatabase,
    GoogleAnalytics: EmbeddedGoogleAnalytics,
    GA4Export: EmbeddedGA4Export,
    Route53HealthCheck: EmbeddedRoute53HealthCheck,
    FeedbackExports: EmbeddedFeedbackExports,
}
