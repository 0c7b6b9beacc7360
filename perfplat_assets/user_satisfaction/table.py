"""User satisfaction's table in the metrics store: a month's rating counts, method and percentage."""

from sqlalchemy import Column, Integer, String, Table

from perfplat_assets.asset_names import USER_SATISFACTION
from perfplat_assets.metrics_store.tables import (
    blocked_by_column,
    metadata,
    month_column,
    not_available_column,
    stored_asset,
)
from perfplat_assets.user_satisfaction.scoring import Rating, UserSatisfaction

user_satisfaction_table = stored_asset(
    Table(
        USER_SATISFACTION,
        metadata,
        month_column(),
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
        not_available_column(),
        blocked_by_column(),
    ),
    UserSatisfaction,
)
