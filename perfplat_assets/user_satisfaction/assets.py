from collections.abc import Iterator

import pandas as pd
from dagster import AssetCheckResult, AssetExecutionContext, Output, asset

from perfplat_assets.make_an_lpa_database import MakeAnLpaDatabase
from perfplat_assets.partitions import METRICS_STORE, MONTHLY_ASSET, partition_months
from perfplat_assets.quality import rules
from perfplat_assets.quality.checks import Check, check_specs, evaluate, output_with_checks
from perfplat_assets.quality.resources import QualityThresholds
from perfplat_assets.user_satisfaction.resources import SatisfactionMethods
from perfplat_assets.user_satisfaction.scoring import satisfaction_figures

CHECKS = (
    Check(
        "rating_counts_add_up",
        "The five rating counts add up to the database's own count of rated responses.",
        blocks_publication=True,
    ),
    Check("unknown_ratings_within_share", "Few responses carry a rating that is none of the five."),
    Check("enough_responses", "Enough rated responses for the percentage to be a statistic."),
)


@asset(
    **MONTHLY_ASSET,
    io_manager_key=METRICS_STORE,
    kinds={"sql"},
    check_specs=check_specs("user_satisfaction", CHECKS),
)
def user_satisfaction(
    context: AssetExecutionContext,
    make_an_lpa_db: MakeAnLpaDatabase,
    satisfaction_methods: SatisfactionMethods,
    quality_thresholds: QualityThresholds,
) -> Iterator[Output[pd.DataFrame] | AssetCheckResult]:
    """Feedback ratings per month, counted inside the database so that no free text, email or phone is read,
    and the percentage by the method OPG published with in that month (see the README)."""
    months = partition_months(context)
    schedule = satisfaction_methods.parsed()
    counts = make_an_lpa_db.rating_counts(months)
    rows = [satisfaction_figures(month, counts[month], schedule).as_row() for month in months]
    evaluation = evaluate(
        CHECKS,
        {
            "rating_counts_add_up": rules.rating_counts_add_up(rows),
            "unknown_ratings_within_share": rules.unknown_ratings_within_share(
                rows, quality_thresholds.unknown_ratings_max_percent
            ),
            "enough_responses": rules.enough_responses(rows, quality_thresholds.minimum_responses),
        },
    )
    yield from output_with_checks(context, rows, evaluation, {"source": make_an_lpa_db.describe()})
