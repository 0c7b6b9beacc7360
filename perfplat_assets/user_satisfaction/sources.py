"""User satisfaction's sources for a service, from its settings: the ratings (from the kind of source the
service declares: its own database's feedback table, GOV.UK's feedback exports, or the digideps
`satisfaction` table), the method schedule and the thresholds of its checks, each the service's own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from perfplat_assets.common.make_an_lpa_database import make_an_lpa_database
from perfplat_assets.common.service import Service
from perfplat_assets.common.settings import (
    MethodScheduleSetting,
    SettingError,
    Settings,
    absolute_path,
    database_url,
    env,
    is_set,
    method_schedule,
    number,
    prefix_problem,
    service_variable,
    text_of,
    valid_bucket,
)
from perfplat_assets.common.sources import SourceResource
from perfplat_assets.user_satisfaction.calculation import METHODS
from perfplat_assets.user_satisfaction.measure import NAME, USER_SATISFACTION
from perfplat_assets.user_satisfaction.resources.deputy_reporting_database import DeputyReportingDatabase
from perfplat_assets.user_satisfaction.resources.feedback_exports import FeedbackExports
from perfplat_assets.user_satisfaction.resources.thresholds import DEFAULTS, SatisfactionThresholds

EXPORTS_EXAMPLE = "e.g. /srv/feedback-exports or s3://opg-feedback-exports/use-an-lpa/"


def exports_location(name: str) -> str:
    """Where the exports are: `s3://bucket/prefix` by S3's rules (no `..`), else an absolute directory;
    checked now. The location names no secret, so a refusal quotes it."""
    text = text_of(name)
    if not text.lower().startswith("s3:") and "://" not in text:
        absolute_path(name, "directory", "/srv/feedback-exports")
        return text
    bucket, _, prefix = text.removeprefix("s3://").partition("/")
    problem = None
    if not text.startswith("s3://"):
        problem = "a directory or s3://bucket/prefix"
    elif not valid_bucket(bucket):
        problem = f"s3://bucket/prefix with a valid bucket name, not {bucket!r}"
    elif prefix and prefix_problem(prefix):
        problem = f"s3://bucket/prefix with a valid prefix ({prefix_problem(prefix)}), not {prefix!r}"
    if problem:
        raise SettingError(f"{name} must be {problem}, {EXPORTS_EXAMPLE}")
    return text


def _feedback_exports(settings: Settings, service: Service) -> SourceResource:
    location = FeedbackExports.setting
    text = exports_location(location)
    fields = {"region_name": env("AWS_REGION"), "endpoint_url": env("AWS_ENDPOINT_URL_S3")}
    # The location names no secret: read now, so that a malformed one fails the code location.
    return settings.source(FeedbackExports, bool(text), location=text or None, **fields)


def _deputy_reporting_database(settings: Settings, service: Service) -> SourceResource:
    url = DeputyReportingDatabase.setting
    return settings.source(DeputyReportingDatabase, is_set(url), url=database_url(url))


# The kinds of source a service's ratings come from, by the name its declaration gives (`Uses.source`).
RATING_SOURCES: dict[str, Callable[[Settings, Service], SourceResource]] = {
    "make_an_lpa_database": make_an_lpa_database,
    "feedback_exports": _feedback_exports,
    "deputy_reporting_database": _deputy_reporting_database,
}


def sources(settings: Settings, service: Service) -> dict[str, Any]:
    """By role, what the service's user satisfaction reads."""
    kind = service.source_of(NAME)
    if kind not in RATING_SOURCES:
        known = ", ".join(RATING_SOURCES)
        raise ValueError(f"{service.name} reads user satisfaction from {kind!r}, which is none of {known}")
    return {
        "ratings": RATING_SOURCES[kind](settings, service),
        "method_schedule": MethodScheduleSetting(
            measure=NAME,
            schedule=method_schedule(service, USER_SATISFACTION).text,
            methods=list(METHODS),
            what="satisfaction method",
        ),
        "satisfaction_thresholds": SatisfactionThresholds(
            unknown_ratings_max_percent=number(
                service_variable(service, "CHECK_UNKNOWN_RATINGS_MAX_PERCENT"),
                DEFAULTS.unknown_ratings_max_percent,
                float,
                high=100,
            ),
            minimum_responses=number(
                service_variable(service, "CHECK_MINIMUM_RESPONSES"), DEFAULTS.minimum_responses, int
            ),
        ),
    }
