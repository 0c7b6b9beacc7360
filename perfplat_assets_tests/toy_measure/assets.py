"""The toy measure's asset, declared as every measure's is: a factory, for each service that publishes it."""

from collections.abc import Iterator

from dagster import AssetCheckResult, AssetExecutionContext, AssetsDefinition, Output

from perfplat_assets.common.service import Service
from perfplat_assets.partitions import ServiceResources, monthly_asset, service_months
from perfplat_assets.quality.checks import output_with_checks
from perfplat_assets.quality.rules import Limits
from perfplat_assets_tests.toy_measure.calculation import ProcessingDays
from perfplat_assets_tests.toy_measure.measure import AVERAGE_PROCESSING_DAYS
from perfplat_assets_tests.toy_measure.resources import ProcessingTimes


def build_asset(service: Service) -> AssetsDefinition:
    """The service's `average_processing_days` asset."""

    @monthly_asset(
        service,
        AVERAGE_PROCESSING_DAYS.name,
        kinds={"python"},
        checks=AVERAGE_PROCESSING_DAYS.checks,
        roles=("processing_times",),
    )
    def average_processing_days(
        context: AssetExecutionContext,
    ) -> Iterator[Output[list[ProcessingDays]] | AssetCheckResult]:
        """Average days from receipt to registration, a month at a time."""
        months = service_months(context, service)
        if not months:
            return
        times: ProcessingTimes = ServiceResources(context, service).processing_times
        figures = [ProcessingDays(m, times.average_days(m)) for m in months]
        where = {"source": "sample" if times.embedded else "processing times"}
        yield from output_with_checks(context, AVERAGE_PROCESSING_DAYS.checks, figures, Limits(), where)

    return average_processing_days
