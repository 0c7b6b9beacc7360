"""The publication's deadline: by when the month that just closed must be published by a run.

OPG's monthly automation copies the month file from S3 at 12:00 UTC on the 1st; perfplat's deadline is an
hour before it (`PERFPLAT_<SERVICE>_PUBLICATION_DEADLINE`, a cron in UTC), so that a person has time to
publish by hand. Pure: the Dagster side finds the last deadline (from the cron) and, from the store's journal,
when a run first published the month.

A month counts as published by the deadline only if its first publication by a run was at or before it: a
month published late stays late, however often it is published again, so the check's history keeps the
failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

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


def _utc(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}{'' if number == 1 else 's'}"


def lateness(late: timedelta) -> str:
    """How late, as a person says it: minutes under an hour, hours under a day, else days (each rounded to
    the nearest, so 4 days and 22 hours is "5 days")."""
    seconds = late.total_seconds()
    minutes = round(seconds / 60)
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return _count(minutes, "minute")
    hours = round(seconds / 3600)
    if hours < 24:
        return _count(hours, "hour")
    return _count(round(seconds / 86400), "day")


@dataclass(frozen=True)
class DeadlineStatus:
    """The month due at `deadline` and when a run first published it (None: no run has), in words.
    `unknown` says why that cannot be told (the store could not be read); the check then fails, as it
    cannot say the month is published."""

    month: Month
    deadline: datetime
    published_at: datetime | None
    unknown: str | None = None

    @property
    def published(self) -> bool:
        """Published by a run at or before the deadline."""
        return self.unknown is None and self.published_at is not None and self.published_at <= self.deadline

    @property
    def description(self) -> str:
        when = _utc(self.deadline)
        if self.unknown is not None:
            return (
                f"Whether {self.month} was published by a run by {when} cannot be told: "
                f"{self.unknown.rstrip('.')}."
            )
        if self.published_at is None:
            return (
                f"{self.month} was not published by a run by {when} (an imported month does not count). "
                + AUTOMATION
            )
        if self.published:
            return f"{self.month} was published {_utc(self.published_at)}, by its deadline ({when})."
        return (
            f"{self.month} was published {_utc(self.published_at)}, "
            f"{lateness(self.published_at - self.deadline)} after the deadline ({when}); its first "
            "publication by a run is what counts, so publishing it again does not change this."
        )
