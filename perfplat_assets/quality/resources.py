"""The thresholds of the warning checks: judgement calls, so configuration."""

from dagster import ConfigurableResource
from pydantic import Field

from perfplat_assets.quality.rules import Limits

LIMITS = Limits()  # the defaults, stated once in `Limits`


class QualityThresholds(ConfigurableResource):
    completion_rate_max_gap_points: float = Field(
        default=LIMITS.completion_rate_max_gap_points,
        description="Warn when GA4's rate and the database's created/started ratio differ by more points.",
    )
    unknown_ratings_max_percent: float = Field(
        default=LIMITS.unknown_ratings_max_percent,
        description="Warn when more responses than this share carry none of the five ratings.",
    )
    minimum_responses: int = Field(
        default=LIMITS.minimum_responses,
        description="Warn when a month's satisfaction rests on fewer rated responses.",
    )

    def limits(self) -> Limits:
        """The thresholds as the rules take them."""
        return Limits(
            completion_rate_max_gap_points=self.completion_rate_max_gap_points,
            unknown_ratings_max_percent=self.unknown_ratings_max_percent,
            minimum_responses=self.minimum_responses,
        )
