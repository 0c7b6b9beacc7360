"""Uptime: the share of the month the service's Route 53 health check found it healthy."""

from collections.abc import Iterator

from dagster import AssetCheckResult, AssetExecutionContext, AssetsDefinition, Output

from perfplat_assets.common.service import Service
from perfplat_assets.partitions import ServiceResources, monthly_asset, service_months
from perfplat_assets.quality.checks import output_with_checks
from perfplat_assets.quality.rules import Limits
from perfplat_assets.uptime.calculation import Uptime, hourly_answer, wrong_uptime
from perfplat_assets.uptime.calculation import uptime as month_uptime
from perfplat_assets.uptime.measure import UPTIME
from perfplat_assets.uptime.resources import Route53HealthCheck


def build_asset(service: Service) -> AssetsDefinition:
    """The service's `uptime` asset."""

    @monthly_asset(service, UPTIME.name, kinds={"aws"}, checks=UPTIME.checks, roles=("route53_health_check",))
    def uptime(context: AssetExecutionContext) -> Iterator[Output[list[Uptime]] | AssetCheckResult]:
        """The share of the month the service's Route 53 health check found it healthy, from CloudWatch's
        hourly data, one query for every month of the run."""
        months = service_months(context, service)
        if not months:
            return
        health_check: Route53HealthCheck = ServiceResources(context, service).route53_health_check
        answer = hourly_answer(health_check.hourly_status(months), months)
        where, named, measure = health_check.describe(), health_check.named, UPTIME.title.lower()
        for line in answer.said(named, measure):
            context.log.warning(line)
        found = answer.by_month(months, named, measure)
        figures = [
            wrong_uptime(month, hours) if isinstance(hours, str) else month_uptime(month, hours, where)
            for month, hours in ((month, found[month]) for month in months)
        ]
        metadata = {"source": where, **answer.metadata(named)}
        yield from output_with_checks(context, UPTIME.checks, figures, Limits(), metadata)

    return uptime
