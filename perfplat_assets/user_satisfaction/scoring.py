"""The satisfaction percentage, by the methods OPG has published with. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from fractions import Fraction

from perfplat_assets.common.months import FIRST_MONTH, Month
from perfplat_assets.common.rounding import round_half_up

# The feedback form's values, in the order of the published series, and their published names.
FORM_RATINGS = (
    "very-satisfied",
    "satisfied",
    "neither-satisfied-or-dissatisfied",
    "dissatisfied",
    "very-dissatisfied",
)
PUBLISHED_RATING_NAMES = {
    "very-satisfied": "very-satisfied",
    "satisfied": "satisfied",
    "neither-satisfied-or-dissatisfied": "neither",
    "dissatisfied": "dissatisfied",
    "very-dissatisfied": "very-dissatisfied",
}


@dataclass(frozen=True)
class RatingCounts:
    """Responses per rating; `unknown` holds any rating that is none of the five, or none at all.

    `rated_responses` is the database's own count of responses with one of the five ratings, taken
    separately so that the counts can be reconciled against it.
    """

    very_satisfied: int = 0
    satisfied: int = 0
    neither: int = 0
    dissatisfied: int = 0
    very_dissatisfied: int = 0
    unknown: int = 0
    rated_responses: int | None = None

    @classmethod
    def from_form_values(
        cls, counts: Mapping[str | None, int], rated_responses: int | None = None
    ) -> RatingCounts:
        known = {
            PUBLISHED_RATING_NAMES[value].replace("-", "_"): count
            for value, count in counts.items()
            if value in PUBLISHED_RATING_NAMES
        }
        unknown = sum(count for value, count in counts.items() if value not in PUBLISHED_RATING_NAMES)
        return cls(**known, unknown=unknown, rated_responses=rated_responses)

    @property
    def total(self) -> int:
        """Responses with one of the five ratings: the base of every percentage."""
        return (
            self.very_satisfied + self.satisfied + self.neither + self.dissatisfied + self.very_dissatisfied
        )

    def published(self) -> dict[str, int]:
        """Counts under their published dataType names."""
        return {
            f.name.replace("_", "-"): getattr(self, f.name)
            for f in fields(self)
            if f.name not in ("unknown", "rated_responses")
        }


def weighted_gds_score(counts: RatingCounts) -> Fraction:
    """GDS's weighted score: very dissatisfied 0, then 25, 50, 75, very satisfied 100."""
    weighted = (
        0 * counts.very_dissatisfied
        + 25 * counts.dissatisfied
        + 50 * counts.neither
        + 75 * counts.satisfied
        + 100 * counts.very_satisfied
    )
    return Fraction(weighted, counts.total)


def top_two_box_share(counts: RatingCounts) -> Fraction:
    """The share of responses that were satisfied or very satisfied."""
    return Fraction(100 * (counts.satisfied + counts.very_satisfied), counts.total)


METHODS: dict[str, Callable[[RatingCounts], Fraction]] = {
    "weighted-gds": weighted_gds_score,
    "top-two-box": top_two_box_share,
}

# OPG published the weighted score up to March 2026 and the top-two-box share from April 2026.
DEFAULT_METHOD_SCHEDULE = "2021-03:weighted-gds,2026-04:top-two-box"


@dataclass(frozen=True)
class MethodSchedule:
    """Which method is in force from which month on."""

    changes: tuple[tuple[Month, str], ...]

    @classmethod
    def parse(cls, text: str) -> MethodSchedule:
        """Parse `YYYY-MM:method,...`, e.g. the default `2021-03:weighted-gds,2026-04:top-two-box`."""
        changes = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            month_text, _, method = part.partition(":")
            if method not in METHODS:
                raise ValueError(
                    f"satisfaction method schedule {text!r}: {method!r} is not a method; "
                    f"use one of {', '.join(METHODS)}"
                )
            month = Month.parse(month_text)
            if any(seen == month for seen, _ in changes):
                raise ValueError(
                    f"satisfaction method schedule {text!r} names {month} twice: one method a month"
                )
            changes.append((month, method))
        if not changes:
            raise ValueError("the satisfaction method schedule is empty")
        changes.sort()
        if changes[0][0] > Month(FIRST_MONTH):
            raise ValueError(
                f"satisfaction method schedule {text!r} must start by {Month(FIRST_MONTH)}, the first month"
            )
        return cls(tuple(changes))

    def method_for(self, month: Month) -> str:
        in_force = [method for since, method in self.changes if since <= month]
        if not in_force:
            raise ValueError(f"no satisfaction method is in force for {month}")
        return in_force[-1]


@dataclass(frozen=True)
class SatisfactionResult:
    month: Month
    counts: RatingCounts
    method: str
    satisfaction_percent: int | None
    not_available_reason: str | None

    def as_row(self) -> dict[str, object]:
        """The month's row in the metrics store."""
        return {
            "month": self.month.key,
            **{name.replace("-", "_"): count for name, count in self.counts.published().items()},
            "unknown_ratings": self.counts.unknown,
            "total_responses": (
                self.counts.total if self.counts.rated_responses is None else self.counts.rated_responses
            ),
            "satisfaction_percent": self.satisfaction_percent,
            "method": self.method,
            "not_available_reason": self.not_available_reason,
        }


def satisfaction_figures(month: Month, counts: RatingCounts, schedule: MethodSchedule) -> SatisfactionResult:
    """The month's figures as OPG publishes them: the percentage rounded half-up to a whole number."""
    method = schedule.method_for(month)
    if counts.total == 0:
        return SatisfactionResult(month, counts, method, None, "no feedback with a rating this month")
    percent = round_half_up(METHODS[method](counts), 0)
    return SatisfactionResult(month, counts, method, int(percent), None)
