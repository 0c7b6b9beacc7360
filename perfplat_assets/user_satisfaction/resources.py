"""The satisfaction method schedule (the Make an LPA database is in `common.make_an_lpa_database`)."""

from dagster import ConfigurableResource
from pydantic import Field

from perfplat_assets.user_satisfaction.scoring import DEFAULT_METHOD_SCHEDULE, MethodSchedule


class SatisfactionMethods(ConfigurableResource):
    """Which satisfaction method is in force from which month: `YYYY-MM:method,...`."""

    schedule: str = Field(default=DEFAULT_METHOD_SCHEDULE, description="e.g. " + DEFAULT_METHOD_SCHEDULE)

    def parsed(self) -> MethodSchedule:
        return MethodSchedule.parse(self.schedule)
