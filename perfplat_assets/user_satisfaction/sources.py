"""User satisfaction's sources, from their settings: the service's feedback table and the method schedule."""

from __future__ import annotations

import os
from typing import Any

from perfplat_assets.common.make_an_lpa_database import make_an_lpa_database
from perfplat_assets.common.settings import MethodScheduleSetting, SettingError, Settings, number
from perfplat_assets.user_satisfaction.calculation import DEFAULT_METHOD_SCHEDULE, METHODS, parse_methods
from perfplat_assets.user_satisfaction.measure import NAME
from perfplat_assets.user_satisfaction.resources.thresholds import DEFAULTS, SatisfactionThresholds

METHODS_SETTING = "PERFPLAT_SATISFACTION_METHODS"


def method_schedule() -> str:
    """The schedule, checked now so that a typo fails the code location."""
    text = os.environ.get(METHODS_SETTING, "").strip() or DEFAULT_METHOD_SCHEDULE
    try:
        parse_methods(text)
    except ValueError as error:
        raise SettingError(
            f"{METHODS_SETTING}: {error}. A valid schedule: {DEFAULT_METHOD_SCHEDULE}"
        ) from None
    return text


def sources(settings: Settings) -> dict[str, Any]:
    return {
        "make_an_lpa_db": make_an_lpa_database(settings),
        "method_schedule": MethodScheduleSetting(
            measure=NAME, schedule=method_schedule(), methods=list(METHODS), what="satisfaction method"
        ),
        "satisfaction_thresholds": SatisfactionThresholds(
            unknown_ratings_max_percent=number(
                "PERFPLAT_CHECK_UNKNOWN_RATINGS_MAX_PERCENT",
                DEFAULTS.unknown_ratings_max_percent,
                float,
                high=100,
            ),
            minimum_responses=number("PERFPLAT_CHECK_MINIMUM_RESPONSES", DEFAULTS.minimum_responses, int),
        ),
    }
