"""The satisfaction percentage, by the methods OPG has published with, and a database's answer checked before
any of it is counted. Pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction
from typing import Any, TypeVar

from perfplat_assets.common.answers import Answer, AnswerCheck
from perfplat_assets.common.methods import MethodSchedule
from perfplat_assets.common.months import Month
from perfplat_assets.common.rounding import round_half_up


class Rating(Enum):
    """A rating on the feedback form, in the order of the published series: the value the form stores, the
    dataType OPG publishes it under, its metrics-store column (the member's name), how people read it, and its
    weight in GDS's weighted score."""

    VERY_SATISFIED = ("very-satisfied", "very-satisfied", "Very satisfied", 100)
    SATISFIED = ("satisfied", "satisfied", "Satisfied", 75)
    NEITHER = ("neither-satisfied-or-dissatisfied", "neither", "Neither satisfied nor dissatisfied", 50)
    DISSATISFIED = ("dissatisfied", "dissatisfied", "Dissatisfied", 25)
    VERY_DISSATISFIED = ("very-dissatisfied", "very-dissatisfied", "Very dissatisfied", 0)

    def __init__(self, form_value: str, data_type: str, label: str, gds_weight: int) -> None:
        self.form_value = form_value
        self.data_type = data_type
        self.label = label
        self.gds_weight = gds_weight

    @property
    def column(self) -> str:
        """The metrics-store column, and the `RatingCounts` field."""
        return self.name.lower()

    @classmethod
    def from_form_value(cls, value: str | None) -> Rating | None:
        """The rating the form stored, or None for anything that is none of the five."""
        return _BY_FORM_VALUE.get(value)


_BY_FORM_VALUE: dict[str | None, Rating] = {rating.form_value: rating for rating in Rating}


@dataclass(frozen=True)
class RatingCounts:
    """Responses per rating (a field per `Rating.column`); `unknown` holds any rating that is none of the
    five, or none at all.

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
        known: dict[str, int] = {}
        unknown = 0
        for value, count in counts.items():
            rating = Rating.from_form_value(value)
            if rating is None:
                unknown += count
            else:
                known[rating.column] = known.get(rating.column, 0) + count
        return cls(**known, unknown=unknown, rated_responses=rated_responses)

    def count(self, rating: Rating) -> int:
        return getattr(self, rating.column)

    @property
    def total(self) -> int:
        """Responses with one of the five ratings: the base of every percentage."""
        return sum(self.count(rating) for rating in Rating)

    @property
    def database_total(self) -> int:
        """The rated responses as the database counted them (the counts' own sum when it was not asked)."""
        return self.total if self.rated_responses is None else self.rated_responses

    def published(self) -> dict[str, int]:
        """Counts under their published dataType names."""
        return {rating.data_type: self.count(rating) for rating in Rating}

    def columns(self) -> dict[str, int]:
        """The counts as the metrics store's columns."""
        return {
            **{rating.column: self.count(rating) for rating in Rating},
            "unknown_ratings": self.unknown,
            "total_responses": self.database_total,
        }

    @classmethod
    def from_columns(cls, row: Mapping[str, Any]) -> RatingCounts:
        return cls(
            **{rating.column: row[rating.column] for rating in Rating},
            unknown=row["unknown_ratings"],
            rated_responses=row["total_responses"],
        )


Key = TypeVar("Key", bound=Hashable)


def counted_ratings(
    rows: Iterable[tuple[object, Key, object]],
    months: Sequence[Month],
    rating_of: Callable[[Key], Rating | None],
    counts_of: Callable[[Mapping[Key, int]], RatingCounts],
) -> Answer[RatingCounts]:
    """A database's answer to a ratings query (rows of the month's number in `months` from 1, the source's
    rating, responses), checked: each count a whole number, 0 or more, one row per month and rating, and
    only the months asked for (another is ignored and reported). `rating_of` reads a source's rating,
    `counts_of` makes a month's counts of its responses by rating; a month with no rows has all zeros. A
    rating that is none of the five is never shown: it is text from people."""
    check = AnswerCheck(months)
    by_month: dict[Month, dict[Key, int]] = {month: {} for month in months}
    for position, key, responses in rows:
        month = check.month_at(position, months)
        rating = rating_of(key)
        named = f"{rating.label.lower()} responses" if rating else "responses rated none of the five"
        if month is None or not check.once(month, key, f"the row of {named}"):
            continue
        by_month[month][key] = check.count(month, responses, named)
    return check.answer({month: counts_of(responses) for month, responses in by_month.items()})


def weighted_gds_score(counts: RatingCounts) -> Fraction:
    """GDS's weighted score: very dissatisfied 0, then 25, 50, 75, very satisfied 100."""
    return Fraction(sum(rating.gds_weight * counts.count(rating) for rating in Rating), counts.total)


def top_two_box_share(counts: RatingCounts) -> Fraction:
    """The share of responses that were satisfied or very satisfied."""
    return Fraction(100 * (counts.satisfied + counts.very_satisfied), counts.total)


METHODS: dict[str, Callable[[RatingCounts], Fraction]] = {
    "weighted-gds": weighted_gds_score,
    "top-two-box": top_two_box_share,
}

# How the notes, the CSVW and the report describe each method.
METHOD_DESCRIPTIONS = {
    "weighted-gds": "weighted GDS score: (0 x very dissatisfied + 25 x dissatisfied + 50 x neither "
    "+ 75 x satisfied + 100 x very satisfied) / responses",
    "top-two-box": "top-two-box share: 100 x (satisfied + very satisfied) / responses",
}

# The published dataType of the percentage; each rating's count is published under `Rating.data_type`.
SATISFACTION_PERCENT = "user-satisfaction-percent"

# OPG published the weighted score up to March 2026 and the top-two-box share from April 2026.
DEFAULT_METHOD_SCHEDULE = "2021-03:weighted-gds,2026-04:top-two-box"


def parse_methods(text: str) -> MethodSchedule:
    """A satisfaction method schedule, `YYYY-MM:method,...`, e.g. DEFAULT_METHOD_SCHEDULE."""
    return MethodSchedule.parse(text, METHODS, "satisfaction method")


@dataclass(frozen=True)
class UserSatisfaction:
    """A month of `user_satisfaction`: what flows to the dataset and is kept in the metrics store."""

    month: Month
    counts: RatingCounts
    satisfaction_percent: int | None
    method: str
    not_available_reason: str | None
    blocked_by: str | None = None  # why a blocking check withholds the month from publication


def not_available(month: Month, reason: str, schedule: MethodSchedule) -> UserSatisfaction:
    """A month its source cannot give yet (an export that does not cover it): no figure, never 0."""
    return UserSatisfaction(month, RatingCounts(), None, schedule.method_for(month), reason)


def satisfaction_figures(month: Month, counts: RatingCounts, schedule: MethodSchedule) -> UserSatisfaction:
    """The month's figures as OPG publishes them: the percentage rounded half-up to a whole number."""
    method = schedule.method_for(month)
    if counts.total == 0:
        return UserSatisfaction(month, counts, None, method, "no feedback with a rating this month")
    percent = round_half_up(METHODS[method](counts), 0)
    return UserSatisfaction(month, counts, int(percent), method, None)
