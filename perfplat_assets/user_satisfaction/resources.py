"""The satisfaction method schedule and the thresholds of its warning checks (the Make an LPA database is
in `common.make_an_lpa_database`)."""

from dagster import ConfigurableResource
from pydantic import Field

from perfplat_assets.user_satisfaction.checks import SatisfactionLimits
from perfplat_assets.user_satisfaction.scoring import DEFAULT_METHOD_SCHEDULE, MethodSchedule


class SatisfactionMethods(ConfigurableResource):
    """Which satisfaction method is in force from which month: `YYYY-MM:method,...`."""

    schedule: str = Field(default=DEFAULT_METHOD_SCHEDULE, description="e.g. " + DEFAULT_METHOD_SCHEDULE)

    def parsed(self) -> MethodSchedule:
        return MethodSchedule.parse(self.schedule)


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
