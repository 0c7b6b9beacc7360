"""Calendar months as OPG reports them: Europe/London local time, half-open windows.

`Month` is the one form of a month inside perfplat. Text becomes a month at the edges, in one named place
each: `Month.parse` for a partition key, a metrics-store key or a month people typed (`2025-05`);
`Month.from_timestamp` for a published `_timestamp`; GA4's `yearMonth` in `completion_rate.queries.data_api`.
Out again: `key` (partition key and store), `label` (people: `str(month)`), `published_timestamp`, and the
month file's name in `common.service.Service.month_file_name`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month, identified by its first day."""

    first_day: date

    def __post_init__(self) -> None:
        if self.first_day.day != 1:
            raise ValueError(f"a month starts on day 1, not {self.first_day.isoformat()}")

    @classmethod
    def of(cls, year: int, month: int) -> Month:
        return cls(date(year, month, 1))

    @classmethod
    def parse(cls, text: str) -> Month:
        """Accept a partition key (`2025-05-01`) or a month (`2025-05`)."""
        text = text.strip()
        try:
            if len(text) == 7:
                return cls(date.fromisoformat(text + "-01"))
            return cls(date.fromisoformat(text))
        except ValueError as error:
            raise ValueError(f"{text!r} is not a month: expected YYYY-MM or YYYY-MM-01") from error

    @classmethod
    def from_timestamp(cls, timestamp: object) -> Month:
        """The month of a published record's `_timestamp` (`2025-05-01T00:00:00+00:00`)."""
        return cls.parse(str(timestamp)[:10])

    @classmethod
    def containing(cls, moment: datetime) -> Month:
        local = moment.astimezone(LONDON) if moment.tzinfo else moment
        return cls(date(local.year, local.month, 1))

    @property
    def key(self) -> str:
        """The partition key, `YYYY-MM-01`."""
        return self.first_day.isoformat()

    @property
    def label(self) -> str:
        """`YYYY-MM`, as people and the figures file write it."""
        return self.first_day.strftime("%Y-%m")

    def next(self) -> Month:
        year, month = self.first_day.year, self.first_day.month
        return Month.of(year + month // 12, month % 12 + 1)

    def previous(self) -> Month:
        year, month = self.first_day.year, self.first_day.month
        return Month.of(year - 1, 12) if month == 1 else Month.of(year, month - 1)

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.next().first_day.toordinal() - 1)

    @property
    def start(self) -> datetime:
        """Midnight on the first day, London time, as an aware UTC datetime."""
        return datetime.combine(self.first_day, datetime.min.time(), LONDON).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """Exclusive end: the start of the next month."""
        return self.next().start

    @property
    def wall_clock_start(self) -> datetime:
        """Midnight on the first day as London's clocks read it, without a zone: the start for a column that
        holds London wall-clock times (`timestamp without time zone`). It marks the same instant as `start`:
        the clocks change at 01:00 UTC on a Sunday, never at midnight on a first, so that midnight is
        neither skipped nor repeated."""
        return datetime.combine(self.first_day, datetime.min.time())

    @property
    def wall_clock_end(self) -> datetime:
        """Exclusive end in London wall-clock time: the next month's `wall_clock_start`."""
        return self.next().wall_clock_start

    @property
    def published_timestamp(self) -> str:
        """OPG's `_timestamp`: always midnight `+00:00` on the first, whatever the clocks say."""
        return f"{self.key}T00:00:00+00:00"

    def __str__(self) -> str:
        return self.label


def months_between(first: Month, last: Month) -> list[Month]:
    """Every month from `first` to `last`, both included."""
    months, month = [], first
    while month <= last:
        months.append(month)
        month = month.next()
    return months


def last_closed_month(now: datetime | None = None) -> Month:
    """The month that most recently ended in London."""
    return Month.containing(now or datetime.now(UTC)).previous()


def contiguous(months: Sequence[Month]) -> list[Month]:
    """The months sorted, refusing gaps: a query covers one half-open window."""
    ordered = sorted(set(months))
    if not ordered:
        raise ValueError("no months to query")
    for earlier, later in pairwise(ordered):
        if earlier.next() != later:
            raise ValueError(f"months must be contiguous; {earlier} is followed by {later}")
    return ordered


def spans(months: Collection[Month]) -> str:
    """`2026-06 to 2026-11`, or `2026-01, 2026-03 to 2026-04` where there are gaps."""
    runs: list[list[Month]] = []
    for month in sorted(months):
        if runs and runs[-1][-1].next() == month:
            runs[-1].append(month)
        else:
            runs.append([month])
    return ", ".join(str(run[0]) if len(run) == 1 else f"{run[0]} to {run[-1]}" for run in runs)
