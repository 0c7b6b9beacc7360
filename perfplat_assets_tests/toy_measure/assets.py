"""The toy measure's asset, declared as every measure's is."""

from collections.abc import Iterator

from dagster import AssetCheckResult, AssetExecutionContext, Output

from perfplat_assets.partitions import monthly_asset, partition_months
from perfplat_assets.quality.checks import output_with_checks
from perfplat_assets.quality.rules import Limits
from perfplat_assets_tests.toy_measure.calculation import ProcessingDays
from perfplat_assets_tests.toy_measure.measure import AVERAGE_PROCESSING_DAYS
from perfplat_assets_tests.toy_measure.resources import ProcessingTimes


@monthly_asset(AVERAGE_PROCESSING_DAYS.name, kinds={"python"}, checks=AVERAGE_PROCESSING_DAYS.checks)
def average_processing_days(
    context: AssetExecutionContext, processing_times: ProcessingTimes
) -> Iterator[Output[list[ProcessingDays]] | AssetCheckResult]:
    """Average days from receipt to registration, a month at a time."""
    figures = [ProcessingDays(m, processing_times.average_days(m)) for m in partition_months(context)]
    where = {"source": "sample" if processing_times.embedded else "processing times"}
    yield from output_with_checks(context, AVERAGE_PROCESSING_DAYS.checks, figures, Limits(), where)
