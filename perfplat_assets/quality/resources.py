"""The thresholds of the warning checks: judgement calls, so configuration."""

from dagster import ConfigurableResource
from pydantic import Field


class QualityThresholds(ConfigurableResource):
    completion_rate_max_gap_points: float = Field(
        default=10.0,
        description="Warn when GA4's rate and the database's created/started ratio differ by more points.",
    )
    unknown_ratings_max_percent: float = Field(
        default=2.0, description="Warn when more responses than this share carry none of the five ratings."
    )
    minimum_responses: int = Field(
        default=100, description="Warn when a month's satisfaction rests on fewer rated responses."
    )
