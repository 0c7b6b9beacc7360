"""User satisfaction's checks: each rule, and the check that holds it. Pure: no Dagster."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction

from perfplat_assets.common.months import Month
from perfplat_assets.common.rounding import round_half_up
from perfplat_assets.quality.rules import Check, Finding, Limits
from perfplat_assets.user_satisfaction.calculation import (
    METHODS,
    SATISFACTION_PERCENT,
    Rating,
    RatingCounts,
    UserSatisfaction,
)


@dataclass(frozen=True)
class SatisfactionLimits(Limits):
    """The judgement calls of satisfaction's warning checks (its `SatisfactionThresholds` settings)."""

    unknown_ratings_max_percent: float = 2.0
    minimum_responses: int = 100


def rating_counts_add_up(satisfaction: Sequence[UserSatisfaction], _: Limits) -> list[Finding]:
    findings = []
    for month in satisfaction:
        counts = month.counts
        if counts.total != counts.database_total:
            findings.append(
                Finding(
                    month.month,
                    f"user satisfaction {month.month}: the five rating counts add up to {counts.total}, "
                    f"but the database counts {counts.database_total} rated responses",
                    {
                        **{rating.column: counts.count(rating) for rating in Rating},
                        "total_responses": counts.database_total,
                    },
                )
            )
    return findings


def unknown_ratings_within_share(
    satisfaction: Sequence[UserSatisfaction], limits: SatisfactionLimits
) -> list[Finding]:
    findings = []
    max_share_percent = limits.unknown_ratings_max_percent
    for month in satisfaction:
        unknown = month.counts.unknown
        responses = month.counts.database_total + unknown
        share = 100 * unknown / responses if responses else 0.0
        if share > max_share_percent:
            findings.append(
                Finding(
                    month.month,
                    f"user satisfaction {month.month}: {unknown} of {responses} responses "
                    f"({share:.1f}%) have a rating that is none of the five "
                    f"(more than {max_share_percent}%): has the feedback form changed?",
                    {"unknown_ratings": unknown, "responses": responses, "share": round(share, 2)},
                )
            )
    return findings


def enough_responses(satisfaction: Sequence[UserSatisfaction], limits: SatisfactionLimits) -> list[Finding]:
    minimum = limits.minimum_responses
    return [
        Finding(
            month.month,
            f"user satisfaction {month.month} rests on {month.counts.database_total} responses, fewer than "
            f"{minimum}: the percentage is not a reliable statistic",
            {"total_responses": month.counts.database_total, "minimum": minimum},
        )
        for month in satisfaction
        if month.counts.database_total < minimum
    ]


CHECKS: tuple[Check[UserSatisfaction], ...] = (
    Check(
        rating_counts_add_up,
        "The five rating counts add up to the database's own count of rated responses.",
        blocks_publication=True,
    ),
    Check(unknown_ratings_within_share, "Few responses carry a rating that is none of the five."),
    Check(enough_responses, "Enough rated responses for the percentage to be a statistic."),
)


def satisfaction_inconsistencies(
    values: Mapping[tuple[Month, str], float], method_for: Callable[[Month], str | None]
) -> list[tuple[Month, str]]:
    """Months whose satisfaction percentage is not what its five published counts give under the month's
    method, rounded half up as OPG rounds it, with both figures. A month without all five counts, or whose
    method is not known (`method_for` gives None), cannot be checked and is not named."""
    found = []
    for month in sorted({month for month, data_type in values if data_type == SATISFACTION_PERCENT}):
        pairs = [(month, SATISFACTION_PERCENT), *((month, rating.data_type) for rating in Rating)]
        if not all(pair in values and math.isfinite(values[pair]) for pair in pairs):
            continue
        method = method_for(month)
        counts = RatingCounts(**{rating.column: int(values[(month, rating.data_type)]) for rating in Rating})
        if method is None or counts.total == 0:
            continue
        score, percent = METHODS[method](counts), values[(month, SATISFACTION_PERCENT)]
        expected = round_half_up(score, 0)
        if Fraction(percent) != expected:
            found.append(
                (
                    month,
                    f"{SATISFACTION_PERCENT} {percent:g} is not {expected}, what {month}'s five rating "
                    f"counts give by the {method} method ({float(score):.2f}, rounded half up)",
                )
            )
    return found
