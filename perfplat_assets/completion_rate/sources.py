"""The completion rate's sources, from their settings: GA4's BigQuery export (the exact figure), GA4's Data
API (the ratio, published where there is no export, compared where there is), and the service's database
for the cross-check.

Which figure is published: the export's when PERFPLAT_GA4_BIGQUERY_DATASET is set (the Data API's beside it
when PERFPLAT_GA4_PROPERTY_ID is set too); else the Data API's when the property is set; else the embedded
default's export, with its Data API emulator for the comparison.
"""

from __future__ import annotations

import os
import re
from typing import Any

from perfplat_assets.common.make_an_lpa_database import make_an_lpa_database
from perfplat_assets.common.service import Service
from perfplat_assets.common.settings import (
    SettingError,
    Settings,
    env,
    given,
    grpc_or_http_endpoint,
    http_url,
    is_set,
    number,
)
from perfplat_assets.completion_rate.resources import bigquery_export
from perfplat_assets.completion_rate.resources.bigquery_export import GA4Export
from perfplat_assets.completion_rate.resources.data_api import GoogleAnalytics
from perfplat_assets.completion_rate.resources.thresholds import CompletionRateThresholds

PROPERTY_ID, API_ENDPOINT = GoogleAnalytics.setting, "PERFPLAT_GA4_API_ENDPOINT"
# A BigQuery location: a region or a multi-region, e.g. EU, US, europe-west2.
LOCATION = re.compile(r"[A-Za-z]+(-[a-z]+[0-9]*)?")


def property_id() -> Any:
    """GA4's property id is digits (e.g. 123456789); checked now, handed over as an EnvVar."""
    text = os.environ.get(PROPERTY_ID, "").strip()
    if text and not text.isdigit():
        raise SettingError(
            f"{PROPERTY_ID} must be the numeric GA4 property id, e.g. 123456789, not {text!r} "
            "(GA4 admin, Property settings, Property ID)"
        )
    return env(PROPERTY_ID)


def _checked(name: str, pattern: re.Pattern[str], example: str) -> None:
    text = os.environ.get(name, "").strip()
    if text and not pattern.fullmatch(text):
        raise SettingError(f"{name} must look like {example}, not {text!r}")


def export_settings() -> dict[str, Any]:
    """The export's settings, checked now: the dataset's and the project's names, the location and the
    bytes limit (a number); the names are handed over as EnvVars."""
    _checked(
        bigquery_export.SETTING,
        bigquery_export.DATASET,
        "opg-analytics.analytics_123456789 (project.dataset)",
    )
    _checked(
        bigquery_export.PROJECT, re.compile(r"(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,61}[a-z0-9]"), "opg-analytics"
    )
    _checked(bigquery_export.LOCATION, LOCATION, "EU or europe-west2")
    limit = number(bigquery_export.MAX_BYTES, bigquery_export.DEFAULT_MAX_BYTES_BILLED, int, low=10 * 2**20)
    http_url(bigquery_export.ENDPOINT, example="https://bigquery.googleapis.com")
    if not is_set(bigquery_export.SETTING):
        for name in (
            bigquery_export.PROJECT,
            bigquery_export.LOCATION,
            bigquery_export.ENDPOINT,
            bigquery_export.MAX_BYTES,
        ):
            if is_set(name):
                raise SettingError(
                    f"{name} is set but {bigquery_export.SETTING} is not: set the export's dataset too"
                )
    return {
        "dataset": env(bigquery_export.SETTING),
        "max_bytes_billed": limit,
        **given(
            project=bigquery_export.PROJECT,
            location=bigquery_export.LOCATION,
            api_endpoint=bigquery_export.ENDPOINT,
        ),
    }


def sources(settings: Settings, service: Service) -> dict[str, Any]:
    grpc_or_http_endpoint(API_ENDPOINT, example="analyticsdata.googleapis.com:443")
    given_id, endpoint = property_id(), env(API_ENDPOINT)
    exported = is_set(bigquery_export.SETTING)
    data_api = given_id is not None or endpoint is not None
    return {
        "ga4_export": settings.source(GA4Export, exported or data_api, **export_settings()),
        # With the export set, the Data API is asked only when its property is: never the sample's.
        "google_analytics": settings.source(
            GoogleAnalytics, data_api or exported, property_id=given_id, api_endpoint=endpoint
        ),
        "make_an_lpa_db": make_an_lpa_database(settings, service),
        "completion_rate_thresholds": CompletionRateThresholds(
            max_gap_points=number(
                "PERFPLAT_CHECK_COMPLETION_RATE_MAX_GAP",
                CompletionRateThresholds().max_gap_points,
                float,
                high=100,
            )
        ),
    }
