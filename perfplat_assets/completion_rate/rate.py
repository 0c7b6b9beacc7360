"""The completion rate from session counts. Pure functions, no I/O."""

from __future__ import annotations

from dataclasses import dataclass

from perfplat_assets.common.months import Month
from perfplat_assets.common.rounding import percentage


@dataclass(frozen=True)
class ReportFlags:
    """GA4's own warnings that a figure is not exact."""

    subject_to_thresholding: bool = False
    sampled: bool = False
    data_loss_from_other_row: bool = False

    @property
    def exact(self) -> bool:
        return not (self.subject_to_thresholding or self.sampled or self.data_loss_from_other_row)


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

    def as_row(self) -> dict[str, object]:
        """The month's row in the metrics store."""
        return {"month": self.month.key, **{k: v for k, v in vars(self).items() if k != "month"}}


def completion_rate(month: Month, counts: SessionCounts, flags: ReportFlags) -> CompletionResult:
    """Sessions that reached the applicant page per 100 that reached a start page, one decimal, half-up.

    The ratio is of two session counts, not of journeys, so save-and-return users can push it past 100:
    the figure is computed as it is and the quality checks decide whether it may be published.
    """
    if counts.started == 0:
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
    )
