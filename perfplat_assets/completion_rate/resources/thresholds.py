"""The judgement call of the completion rate's cross-check, as a resource its settings configure."""

from dagster import ConfigurableResource
from pydantic import Field

from perfplat_assets.completion_rate.checks import CompletionRateLimits


class CompletionRateThresholds(ConfigurableResource):
    """The judgement call of the completion rate's cross-check against the service's database."""

    max_gap_points: float = Field(
        default=CompletionRateLimits().max_gap_points,
        description="Warn when GA4's rate and the database's created/started ratio differ by more points.",
    )

    def limits(self) -> CompletionRateLimits:
        return CompletionRateLimits(max_gap_points=self.max_gap_points)
