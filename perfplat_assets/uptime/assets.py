from collections.abc import Iterator

import pandas as pd
from dagster import AssetCheckResult, AssetExecutionContext, Output, asset

from perfplat_assets.partitions import METRICS_STORE, MONTHLY_ASSET, partition_months
from perfplat_assets.quality import rules
from perfplat_assets.quality.checks import Check, check_specs, evaluate, output_with_checks
from perfplat_assets.uptime.availability import uptime as month_uptime
from perfplat_assets.uptime.resources import Route53HealthCheck

CHECKS = (
    Check("uptime_within_range", "Uptime is within 0..100.", blocks_publication=True),
    Check(
        "uptime_has_enough_data",
        "The health check has data for enough of the month's hours; otherwise uptime is left out.",
    ),
)


@asset(
    **MONTHLY_ASSET,
    io_manager_key=METRICS_STORE,
    kinds={"aws"},
    check_specs=check_specs("uptime", CHECKS),
)
def uptime(
    context: AssetExecutionContext, route53_health_check: Route53HealthCheck
) -> Iterator[Output[pd.DataFrame] | AssetCheckResult]:
    """The share of the month the service's Route 53 health check found it healthy, from CloudWatch's
    hourly data, one query for every month of the run."""
    months = partition_months(context)
    hourly = route53_health_check.hourly_status(months)
    where = route53_health_check.describe()
    rows = [month_uptime(month, hourly, where).as_row() for month in months]
    evaluation = evaluate(
        CHECKS,
        {
            "uptime_within_range": rules.uptime_within_range(rows),
            "uptime_has_enough_data": rules.uptime_has_enough_data(rows),
        },
    )
    yield from output_with_checks(context, rows, evaluation, {"source": where})
