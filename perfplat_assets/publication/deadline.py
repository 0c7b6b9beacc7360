"""The publication's deadline: by when the month that just closed must be published by a run.

OPG's monthly automation copies the month file from S3 at 12:00 UTC on the 1st; perfplat's deadline is an
hour before it (`PERFPLAT_PUBLICATION_DEADLINE`, a cron in UTC), so that a person has time to publish by
hand. Pure: the Dagster side finds the last deadline (from the cron) and whether a run published the month.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from perfplat_assets.common.months import Month, last_closed_month

DEFAULT_DEADLINE = "0 11 1 * *"
CHECK_NAME = "published_by_deadline"
AUTOMATION = (
    "OPG's monthly automation copies the month file from S3 at 12:00 UTC on the 1st and opens its pull "
    "request without a month that is missing."
)


def due_month(deadline: datetime) -> Month:
    """The month a deadline is for: the one that closed last, in London, before it."""
    return last_closed_month(deadline)


@dataclass(frozen=True)
class DeadlineStatus:
    """Whether the month due at `deadline` was published by a run, in words."""

    month: Month
    deadline: datetime
    published: bool

    @property
    def description(self) -> str:
        when = f"{self.deadline:%Y-%m-%d %H:%M} UTC"
        if self.published:
            return f"{self.month} is published by a run (deadline {when})."
        return (
            f"{self.month} was not published by a run by {when} (an imported month does not count). "
            + AUTOMATION
        )
