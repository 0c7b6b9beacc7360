"""Uptime's source, from its settings: the service's Route 53 health check, read from CloudWatch."""

from __future__ import annotations

from typing import Any

from perfplat_assets.common.service import Service
from perfplat_assets.common.settings import Settings, env, given, is_set
from perfplat_assets.uptime.resources import Route53HealthCheck


def sources(settings: Settings, service: Service) -> dict[str, Any]:
    """By role, what uptime reads (its settings are its own: only Make an LPA publishes it)."""
    health_check = Route53HealthCheck.setting
    configured = is_set(health_check)
    fields = (
        {
            "health_check_id": env(health_check),
            "endpoint_url": env("AWS_ENDPOINT_URL_CLOUDWATCH"),
            **given(region="PERFPLAT_UPTIME_REGION"),
        }
        if configured
        else {}
    )
    return {"route53_health_check": settings.source(Route53HealthCheck, configured, **fields)}
