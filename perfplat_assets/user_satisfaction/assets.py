"""User satisfaction, for any service: its ratings counted per month in whichever source the service reads
them from, and the percentage by the method in force that month."""

from collections.abc import Iterator, Sequence
from typing import Any

from dagster import AssetCheckResult, AssetExecutionContext, AssetsDefinition, Output

from perfplat_assets.common.answers import Answer
from perfplat_assets.common.make_an_lpa_database import MakeAnLpaDatabase
from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service
from perfplat_assets.partitions import ServiceResources, monthly_asset, service_months
from perfplat_assets.quality.checks import output_with_checks
from perfplat_assets.user_satisfaction.calculation import (
    RatingCounts,
    UserSatisfaction,
    not_available,
    satisfaction_figures,
)
from perfplat_assets.user_satisfaction.measure import USER_SATISFACTION
from perfplat_assets.user_satisfaction.queries.make_an_lpa_database import read_rating_counts
from perfplat_assets.user_satisfaction.resources.deputy_reporting_database import DeputyReportingDatabase

KINDS = {"make_an_lpa_database": {"sql"}, "feedback_exports": {"csv"}, "deputy_reporting_database": {"sql"}}


def rating_counts(
    source: Any, months: Sequence[Month]
) -> tuple[dict[Month, RatingCounts | str], Answer, str]:
    """Each month's counts from the service's source, or why the month is not available; the source's answer
    (a database's checked: a month it answered wrongly is withheld, naming the table and what was wrong),
    and how a message names it. Make an LPA's database serves two measures, so its feedback query is this
    measure's, run on it. The feedback exports keep their own rules."""
    if isinstance(source, MakeAnLpaDatabase):
        answer = source.read(read_rating_counts, months, source.feedback_table)
        named = source.table_named(source.feedback_table)
    elif isinstance(source, DeputyReportingDatabase):
        answer, named = source.rating_counts(months), source.table_named(source.satisfaction_table)
    else:
        answer, named = source.rating_counts(months), source.describe()
    checked = Answer.of(answer)
    return checked.by_month(months, named, USER_SATISFACTION.title.lower()), checked, named


def build_asset(service: Service) -> AssetsDefinition:
    """The service's `user_satisfaction` asset."""
    kind = service.source_of(USER_SATISFACTION.name)

    @monthly_asset(
        service,
        USER_SATISFACTION.name,
        kinds=KINDS.get(kind, set()),
        checks=USER_SATISFACTION.checks,
        roles=("ratings", "method_schedule", "satisfaction_thresholds"),
    )
    def user_satisfaction(context: AssetExecutionContext) -> Iterator[Output[list[Any]] | AssetCheckResult]:
        """Feedback ratings per month, counted inside the source so that no free text, email or phone is
        read, and the percentage by the method OPG published with in that month (see the README)."""
        months = service_months(context, service)
        if not months:
            return
        resources = ServiceResources(context, service)
        schedule = resources.method_schedule.parsed()
        counts, answer, named = rating_counts(resources.ratings, months)
        for line in answer.said(named, USER_SATISFACTION.title.lower()):
            context.log.warning(line)
        figures: list[UserSatisfaction] = [
            satisfaction_figures(month, found, schedule)
            if isinstance(found, RatingCounts)
            else not_available(month, found, schedule)
            for month, found in ((month, counts[month]) for month in months)
        ]
        limits = resources.satisfaction_thresholds.limits()
        metadata = {"service": service.title, "source": resources.ratings.describe()}
        metadata |= answer.metadata(named)
        yield from output_with_checks(context, USER_SATISFACTION.checks, figures, limits, metadata)

    return user_satisfaction
