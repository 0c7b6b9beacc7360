"""Uptime: the share of the month the service's Route 53 health check found it healthy."""

from collections.abc import Iterator

from dagster import AssetCheckResult, AssetExecutionContext, Output

from perfplat_assets.common.run_start import RunStart
from perfplat_assets.partitions import monthly_asset, partition_months
from perfplat_assets.quality.checks import output_with_checks
from perfplat_assets.quality.rules import Limits
from perfplat_assets.uptime.calculation import Uptime
from perfplat_assets.uptime.calculation import uptime as month_uptime
from perfplat_assets.uptime.measure import UPTIME
from perfplat_assets.uptime.resources import Route53HealthCheck


@monthly_asset(UPTIME.name, kinds={"aws"}, checks=UPTIME.checks)
def uptime(
    context: AssetExecutionContext, run_start: RunStart, route53_health_check: Route53HealthCheck
) -> Iterator[Output[list[Uptime]] | AssetCheckResult]:
    """The share of the month the service's Route 53 health check found it healthy, from CloudWatch's
    hourly data, one query for every month of the run."""
    run_start.check(context)
    months = partition_months(context)
    hourly = route53_health_check.hourly_status(months)
    where = route53_health_check.describe()
    figures = [month_uptime(month, hourly, where) for month in months]
    yield from output_with_checks(context, UPTIME.checks, figures, Limits(), {"source": where})
