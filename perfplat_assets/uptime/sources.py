"""Uptime's source, from its settings: the service's Route 53 health check, read from CloudWatch."""

from __future__ import annotations

import re
from typing import Any

from perfplat_assets.common.service import Service
from perfplat_assets.common.settings import Settings, aws_region, env, given, is_set, named
from perfplat_assets.uptime.resources import Route53HealthCheck

# Route 53 gives each health check a UUID.
HEALTH_CHECK_ID = re.compile(r"[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")


def sources(settings: Settings, service: Service) -> dict[str, Any]:
    """By role, what uptime reads (its settings are its own: only Make an LPA publishes it)."""
    health_check = Route53HealthCheck.setting
    named(
        health_check,
        HEALTH_CHECK_ID,
        "a Route 53 health check id (a UUID), e.g. a1b2c3d4-0000-4000-8000-000000000000",
    )
    aws_region("PERFPLAT_UPTIME_REGION")
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
