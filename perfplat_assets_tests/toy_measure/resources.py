"""The toy measure's source and its sample, declared in its own folder as a measure whose kind of source the
embedded default does not know would declare them."""

from __future__ import annotations

from pydantic import Field

from perfplat_assets.common.errors import SourceUnavailable
from perfplat_assets.common.months import Month
from perfplat_assets.common.sources import SourceResource

SETTING = "PERFPLAT_TOY_PROCESSING_TIMES_URL"


class ProcessingTimes(SourceResource):
    """Where registrations' processing times would be read from."""

    setting = SETTING
    url: str | None = Field(default=None)

    @property
    def embedded(self) -> bool:
        return False

    def average_days(self, month: Month) -> float:
        raise SourceUnavailable(f"the toy has no real source: unset {self.setting_name}")


class SampleProcessingTimes(ProcessingTimes):
    """The sample: 10 days, plus a tenth of a day per calendar month (10.5 in May)."""

    @property
    def embedded(self) -> bool:
        return True

    def average_days(self, month: Month) -> float:
        return 10 + month.first_day.month / 10
