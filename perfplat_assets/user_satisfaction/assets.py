"""User satisfaction: the feedback form's ratings, counted per month in the Make an LPA database."""

from collections.abc import Iterator

from dagster import AssetCheckResult, AssetExecutionContext, Output

from perfplat_assets.common.make_an_lpa_database import MakeAnLpaDatabase
from perfplat_assets.common.run_start import RunStart
from perfplat_assets.common.settings import MethodScheduleSetting
from perfplat_assets.partitions import monthly_asset, partition_months
from perfplat_assets.quality.checks import output_with_checks
from perfplat_assets.user_satisfaction.calculation import UserSatisfaction, satisfaction_figures
from perfplat_assets.user_satisfaction.measure import USER_SATISFACTION
from perfplat_assets.user_satisfaction.queries.make_an_lpa_database import read_rating_counts
from perfplat_assets.user_satisfaction.resources.thresholds import SatisfactionThresholds


@monthly_asset(USER_SATISFACTION.name, kinds={"sql"}, checks=USER_SATISFACTION.checks)
def user_satisfaction(
    context: AssetExecutionContext,
    run_start: RunStart,
    make_an_lpa_db: MakeAnLpaDatabase,
    method_schedule: MethodScheduleSetting,
    satisfaction_thresholds: SatisfactionThresholds,
) -> Iterator[Output[list[UserSatisfaction]] | AssetCheckResult]:
    """Feedback ratings per month, counted inside the database so that no free text, email or phone is read,
    and the percentage by the method OPG published with in that month (see the README)."""
    run_start.check(context)
    months = partition_months(context)
    schedule = method_schedule.parsed()
    counts = make_an_lpa_db.read(read_rating_counts, months, make_an_lpa_db.feedback_table)
    figures = [satisfaction_figures(month, counts[month], schedule) for month in months]
    limits = satisfaction_thresholds.limits()
    yield from output_with_checks(
        context, USER_SATISFACTION.checks, figures, limits, {"source": make_an_lpa_db.describe()}
    )
