"""The toy measure's checks: its one rule, and the check that holds it. Pure: no Dagster."""

from __future__ import annotations

from collections.abc import Sequence

from perfplat_assets.quality.rules import Check, Finding, Limits
from perfplat_assets_tests.toy_measure.calculation import ProcessingDays


def processing_days_within_a_year(months: Sequence[ProcessingDays], _: Limits) -> list[Finding]:
    return [
        Finding(m.month, f"{m.average_days} days is more than a year", {"days": m.average_days})
        for m in months
        if m.average_days is not None and m.average_days > 365
    ]


CHECKS = (
    Check(processing_days_within_a_year, "No month averages more than a year.", blocks_publication=True),
)
