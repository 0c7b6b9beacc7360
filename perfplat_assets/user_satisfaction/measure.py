"""User satisfaction, declared once: its table in the metrics store (a month's rating counts, method and
percentage) and what is published from it."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String

from perfplat_assets.common.measure import COUNT_CEILING, Bounds, DataType, Measure
from perfplat_assets.metrics_store.tables import measure_table
from perfplat_assets.user_satisfaction.calculation import (
    DEFAULT_METHOD_SCHEDULE,
    METHOD_DESCRIPTIONS,
    SATISFACTION_PERCENT,
    Rating,
    UserSatisfaction,
)
from perfplat_assets.user_satisfaction.checks import CHECKS, satisfaction_inconsistencies

NAME = "user_satisfaction"

table = measure_table(
    NAME,
    UserSatisfaction,
    *(
        Column(
            rating.column,
            Integer,
            nullable=False,
            comment=f"Responses rating the service '{rating.label}'.",
        )
        for rating in Rating
    ),
    Column(
        "unknown_ratings",
        Integer,
        nullable=False,
        comment="Responses with a rating that is none of the five.",
    ),
    Column(
        "total_responses", Integer, nullable=False, comment="The database's own count of rated responses."
    ),
    Column("satisfaction_percent", Integer, comment="The published percentage, by the month's method."),
    Column("method", String(40), nullable=False, comment="The satisfaction method in force that month."),
)


def _values(month: UserSatisfaction) -> dict[str, float] | None:
    if month.satisfaction_percent is None:
        return None
    return {SATISFACTION_PERCENT: month.satisfaction_percent, **month.counts.published()}


RATING_COUNT = Bounds(0, COUNT_CEILING - 1, whole=True, what="a rating count")

USER_SATISFACTION = Measure(
    name=NAME,
    home=__package__,
    title="User satisfaction",
    figures=UserSatisfaction,
    table=table,
    data_types=(
        DataType(
            SATISFACTION_PERCENT,
            "User satisfaction",
            "per cent",
            Bounds(0, 100, whole=True, what="a satisfaction percentage"),
            "Satisfaction with the service, rounded to a whole number",
        ),
        *(
            DataType(
                rating.data_type,
                rating.label,
                "responses",
                RATING_COUNT,
                f"Responses to the feedback form rating the service '{rating.data_type.replace('-', ' ')}'",
            )
            for rating in Rating
        ),
    ),
    values=_values,
    checks=CHECKS,
    note="From the feedback form at the end of a session, rounded to a whole number",
    breakdown="Ratings",
    breakdown_note="What people said when asked how satisfied they were with the service: the responses "
    "behind the satisfaction score",
    methods=METHOD_DESCRIPTIONS,
    default_methods=DEFAULT_METHOD_SCHEDULE,
    methods_setting="SATISFACTION_METHODS",
    consistency=satisfaction_inconsistencies,
)
