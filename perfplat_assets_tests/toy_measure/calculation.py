"""The toy measure's figures: a month's average processing days, as its source gives them. Pure: no Dagster,
no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from perfplat_assets.common.months import Month


@dataclass(frozen=True)
class ProcessingDays:
    month: Month
    average_days: float | None
    not_available_reason: str | None = None
    blocked_by: str | None = None
