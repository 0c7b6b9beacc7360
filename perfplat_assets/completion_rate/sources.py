"""The completion rate's sources, from their settings: GA4's Data API, and the service's database for the
cross-check."""

from __future__ import annotations

import os
from typing import Any

from perfplat_assets.common.make_an_lpa_database import make_an_lpa_database
from perfplat_assets.common.settings import SettingError, Settings, env, number
from perfplat_assets.completion_rate.resources import CompletionRateThresholds, GoogleAnalytics

PROPERTY_ID, API_ENDPOINT = GoogleAnalytics.setting, "PERFPLAT_GA4_API_ENDPOINT"


def property_id() -> Any:
    """GA4's property id is digits (e.g. 123456789); checked now, handed over as an EnvVar."""
    text = os.environ.get(PROPERTY_ID, "").strip()
    if text and not text.isdigit():
        raise SettingError(
            f"{PROPERTY_ID} must be the numeric GA4 property id, e.g. 123456789, not {text!r} "
            "(GA4 admin, Property settings, Property ID)"
        )
    return env(PROPERTY_ID)


def sources(settings: Settings) -> dict[str, Any]:
    given_id, endpoint = property_id(), env(API_ENDPOINT)
    configured = given_id is not None or endpoint is not None
    return {
        "google_analytics": settings.source(
            GoogleAnalytics, configured, property_id=given_id, api_endpoint=endpoint
        ),
        "make_an_lpa_db": make_an_lpa_database(settings),
        "completion_rate_thresholds": CompletionRateThresholds(
            max_gap_points=number(
                "PERFPLAT_CHECK_COMPLETION_RATE_MAX_GAP",
                CompletionRateThresholds().max_gap_points,
                float,
                high=100,
            )
        ),
    }
