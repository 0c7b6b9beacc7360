"""The thresholds of satisfaction's warning checks, each service's own (the Make an LPA database is in
`common.make_an_lpa_database`, the method schedule is a `common.settings.MethodScheduleSetting`)."""

from dagster import ConfigurableResource
from pydantic import Field

from perfplat_assets.user_satisfaction.checks import SatisfactionLimits

DEFAULTS = SatisfactionLimits()  # stated once, on `SatisfactionLimits`


class SatisfactionThresholds(ConfigurableResource):
    """The judgement calls of satisfaction's warning checks: configuration, not code."""

    unknown_ratings_max_percent: float = Field(
        default=DEFAULTS.unknown_ratings_max_percent,
        description="Warn when more responses than this share carry none of the five ratings.",
    )
    minimum_responses: int = Field(
        default=DEFAULTS.minimum_responses,
        description="Warn when a month's satisfaction rests on fewer rated responses.",
    )

    def limits(self) -> SatisfactionLimits:
        return SatisfactionLimits(
            unknown_ratings_max_percent=self.unknown_ratings_max_percent,
            minimum_responses=self.minimum_responses,
        )
