"""The completion rate's checks: each rule, and the check that holds it. Pure: no Dagster."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from perfplat_assets.completion_rate.calculation import CompletionRate
from perfplat_assets.quality.rules import Check, Finding, Limits, outside_0_100


@dataclass(frozen=True)
class CompletionRateLimits(Limits):
    """The judgement call of the cross-check's warning (its `CompletionRateThresholds` setting)."""

    max_gap_points: float = 10.0


def completion_rate_within_range(rates: Sequence[CompletionRate], _: Limits) -> list[Finding]:
    return [
        Finding(
            r.month,
            f"completion rate {r.month} is {r.completion_rate_percent}%, outside 0..100 "
            f"({r.sessions_completed} sessions reached the applicant page, {r.sessions_started} "
            "a start page): the session count over-counts returning users; the figure is not publishable",
            {
                "completion_rate_percent": r.completion_rate_percent,
                "sessions_started": r.sessions_started,
                "sessions_completed": r.sessions_completed,
            },
        )
        for r in rates
        if outside_0_100(r.completion_rate_percent)
    ]


def completion_rate_available(rates: Sequence[CompletionRate], _: Limits) -> list[Finding]:
    return [
        Finding(
            r.month,
            f"completion rate {r.month} is not available "
            f"({r.not_available_reason or 'no sessions reached a start page'}); "
            "it is left out of the publication, never published as 0",
            {"sessions_started": r.sessions_started, "sessions_completed": r.sessions_completed},
        )
        for r in rates
        if r.completion_rate_percent is None
    ]


def ga4_response_exact(rates: Sequence[CompletionRate], _: Limits) -> list[Finding]:
    """GA4's own flags; `data_truncated` (GA4's data_truncation_reasons) is named, with the reasons, when
    raised."""
    findings = []
    for r in rates:
        flags = {
            "subject_to_thresholding": r.flags.subject_to_thresholding,
            "sampled": r.flags.sampled,
            "data_loss_from_other_row": r.flags.data_loss_from_other_row,
        }
        raised = [flag for flag, up in flags.items() if up]
        values: dict[str, Any] = dict(flags)
        if r.flags.data_truncated:
            reasons = "; ".join(r.flags.data_truncation_reasons)
            raised.append(f"data_truncated ({reasons})")
            values |= {"data_truncated": True, "data_truncation_reasons": reasons}
        if raised:
            findings.append(
                Finding(
                    r.month,
                    f"GA4 flagged its response for this run's months ({r.month} among them) as not "
                    f"exact: {', '.join(raised)}",
                    values,
                )
            )
    return findings


def completion_rate_agrees_with_applications(
    rates: Sequence[CompletionRate], limits: CompletionRateLimits
) -> list[Finding]:
    """GA4's rate against the Make an LPA database's LPAs created per 100 started, stored beside it."""
    findings = []
    max_gap_points = limits.max_gap_points
    for r in rates:
        if r.applications is None:
            findings.append(
                Finding(r.month, f"completion rate {r.month} cannot be cross-checked: no applications table")
            )
            continue
        rate, database_rate = r.completion_rate_percent, r.applications.completion_rate_percent
        if rate is None or database_rate is None:
            continue
        gap = round(abs(rate - database_rate), 1)
        if gap > max_gap_points:
            started, created = r.applications.started, r.applications.created
            findings.append(
                Finding(
                    r.month,
                    f"completion rate {r.month}: GA4 says {rate}%, the Make an LPA database "
                    f"{database_rate}% ({created} LPAs created / {started} started), {gap} points apart "
                    f"(more than {max_gap_points})",
                    {
                        "ga4_completion_rate": rate,
                        "database_completion_rate": database_rate,
                        "lpas_started": started,
                        "lpas_created": created,
                        "gap_points": gap,
                    },
                )
            )
    return findings


CHECKS: tuple[Check[CompletionRate], ...] = (
    Check(
        completion_rate_within_range,
        "The rate is within 0..100: a rate over 100 is a definition problem, not a figure.",
        blocks_publication=True,
    ),
    Check(
        completion_rate_available,
        "Some sessions reached a start page. With none there is no rate, so the month is published without "
        "one (never as 0); this check says so.",
    ),
    Check(
        ga4_response_exact,
        "GA4 did not threshold, sample, fold rows into '(other)' or truncate the data.",
    ),
    Check(
        completion_rate_agrees_with_applications,
        "GA4's rate is close to the Make an LPA database's ratio of LPAs created to LPAs started.",
    ),
)
