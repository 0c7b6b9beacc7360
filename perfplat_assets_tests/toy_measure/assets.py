"""The toy measure's asset, declared as every measure's is."""

from collections.abc import Iterator

from dagster import AssetCheckResult, AssetExecutionContext, Output

from perfplat_assets.partitions import monthly_asset, partition_months
from perfplat_assets.quality.checks import output_with_checks
from perfplat_assets.quality.rules import Limits
from perfplat_assets_tests.toy_measure.measure import AVERAGE_PROCESSING_DAYS, ProcessingDays, processing_days


@monthly_asset(AVERAGE_PROCESSING_DAYS.name, kinds={"python"}, checks=AVERAGE_PROCESSING_DAYS.checks)
def average_processing_days(
    context: AssetExecutionContext,
) -> Iterator[Output[list[ProcessingDays]] | AssetCheckResult]:
    """Average days from receipt to registration: a toy worked out from the month."""
    figures = [processing_days(month) for month in partition_months(context)]
    yield from output_with_checks(
        context, AVERAGE_PROCESSING_DAYS.checks, figures, Limits(), {"source": "the month"}
    )
