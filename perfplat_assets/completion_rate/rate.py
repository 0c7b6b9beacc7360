"""The completion rate from session counts. Pure functions, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from perfplat_assets.common.months import Month
from perfplat_assets.common.rounding import percentage

# The months perfplat publishes are London calendar months; GA4 buckets `yearMonth` in the property's zone.
LONDON_TIME_ZONE = "Europe/London"


@dataclass(frozen=True)
class ReportFlags:
    """GA4's own warnings that a figure is not exact, and the time zone its months are in."""

    subject_to_thresholding: bool = False
    sampled: bool = False
    data_loss_from_other_row: bool = False
    data_truncation_reasons: tuple[str, ...] = ()
    time_zone: str = LONDON_TIME_ZONE

    @property
    def data_truncated(self) -> bool:
        return bool(self.data_truncation_reasons)

    @property
    def exact(self) -> bool:
        return not (
            self.subject_to_thresholding
            or self.sampled
            or self.data_loss_from_other_row
            or self.data_truncated
        )

    @property
    def london_months(self) -> bool:
        return self.time_zone == LONDON_TIME_ZONE


@dataclass(frozen=True)
class SessionCounts:
    started: int = 0
    completed: int = 0


@dataclass(frozen=True)
class CompletionResult:
    month: Month
    sessions_started: int
    sessions_completed: int
    completion_rate_percent: float | None
    subject_to_thresholding: bool
    sampled: bool
    data_loss_from_other_row: bool
    not_available_reason: str | None
    data_truncated: bool = False
    data_truncation_reasons: str | None = None
    ga4_time_zone: str | None = LONDON_TIME_ZONE

    def as_row(self) -> dict[str, object]:
        """The month's row in the metrics store."""
        return {"month": self.month.key, **{k: v for k, v in vars(self).items() if k != "month"}}


def not_london_months(month: Month, time_zone: str) -> str:
    """Why a month's rate is not published when GA4's months are not London months."""
    return (
        f"the GA4 property's reporting time zone is {time_zone or 'not reported'}, so GA4's month "
        f"{month} is a {time_zone or 'unknown'} month, not a London month: the completion rate is not "
        f"published for it. Set the property's reporting time zone to {LONDON_TIME_ZONE} in GA4 Admin "
        "(Property details), then re-run the month"
    )


def completion_rate(month: Month, counts: SessionCounts, flags: ReportFlags) -> CompletionResult:
    """Sessions that reached the applicant page per 100 that reached a start page, one decimal, half-up.

    The ratio is of two session counts, not of journeys, so save-and-return users can push it past 100:
    the figure is computed as it is and the quality checks decide whether it may be published. GA4's
    months are in the property's time zone: unless that is London, no rate is given for them.
    """
    if not flags.london_months:
        rate, reason = None, not_london_months(month, flags.time_zone)
    elif counts.started == 0:
        rate, reason = None, f"GA4 reports no sessions on a start page in {month}"
    else:
        rate, reason = float(percentage(counts.completed, counts.started, 1)), None
    return CompletionResult(
        month,
        counts.started,
        counts.completed,
        rate,
        flags.subject_to_thresholding,
        flags.sampled,
        flags.data_loss_from_other_row,
        reason,
        data_truncated=flags.data_truncated,
        data_truncation_reasons="; ".join(flags.data_truncation_reasons) or None,
        ga4_time_zone=flags.time_zone or None,
    )
