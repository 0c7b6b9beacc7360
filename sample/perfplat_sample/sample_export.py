"""The embedded sample as GA4's BigQuery export would hold it: one row per event, in daily tables.

`sample_sessions` says which pages each session viewed; the export is where the exact completion rate is
counted (a session's ordered page views), so the BigQuery emulator serves these rows. They have the export's
shape for the columns perfplat reads (`event_date`, `event_timestamp`, `event_name`, `user_pseudo_id`,
`event_params` with `ga_session_id` and `page_location`) and the export's awkward parts, so a query that
copes here copes with the real thing:

- `event_date` and the table's date are London dates, `event_timestamp` is UTC microseconds, so an event
  at 23:30 UTC in summer is in the next day's table, and a session near midnight spans two tables;
- a session is `user_pseudo_id` + `ga_session_id` (the session's start in Unix seconds, as GA4 sets it),
  and some users have several sessions, so neither alone identifies one;
- `page_location` is a full URL, sometimes with a query string or a fragment;
- noise, seeded by the month: `user_engagement`/`scroll` events that carry a page's location (an applicant
  page too), exact duplicates of some events, and a few page views with no `ga_session_id`.

Everything is deterministic per month and cached per month, like `sample_sessions`. The rows are shared
between calls: read them, do not change them.
"""

from __future__ import annotations

import gc
import random
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from perfplat_assets.common.months import LONDON, Month
from perfplat_sample.sample_data import SampleSession, sample_sessions

SITE = "https://www.lastingpowerofattorney.service.gov.uk"
TABLE_PREFIX = "events_"

Event = dict[str, Any]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_QUERY_STRINGS = ("?_ga=2.148392.1723.1717", "?utm_source=gov.uk&utm_medium=referral", "?lang=en")
_FRAGMENTS = ("#main-content", "#content")

# How often each kind of noise turns up (per page view, per event, per session).
_ENGAGEMENT_PER_PAGE = 0.05
_SCROLL_PER_PAGE = 0.03  # (the user_engagement and scroll draws are one draw)
_DUPLICATE_PER_EVENT = 0.004
_NO_SESSION_PER_SESSION = 0.01
# The share of sessions by a user seen earlier in the month: most that come back to an LPA started before.
_RETURNING_USER = {True: 0.8, False: 0.12}


def table_name(day: date) -> str:
    """The daily table's name, `events_YYYYMMDD`, for a London date."""
    return f"{TABLE_PREFIX}{day:%Y%m%d}"


def _micros(moment: datetime) -> int:
    return (moment - _EPOCH) // _MICROSECOND


def _param(key: str, string: str | None = None, integer: int | None = None) -> dict[str, Any]:
    return {
        "key": key,
        "value": {"string_value": string, "int_value": integer, "float_value": None, "double_value": None},
    }


def _location(path: str, roll: float) -> str:
    """The page's full URL (`roll` uniform in [0, 1)): now and then with a query string or a fragment, as
    browsers report them."""
    if roll < 0.05:
        return f"{SITE}{path}{_QUERY_STRINGS[int(roll * 60) % len(_QUERY_STRINGS)]}"
    if roll < 0.07:
        return f"{SITE}{path}{_FRAGMENTS[int(roll * 1000) % len(_FRAGMENTS)]}"
    return SITE + path


class _MonthBuilder:
    """Builds one month's events from its sample sessions with one random stream, seeded by the month.

    A month is ~20k events: the draws are plain `random()`s, events of one session share their (read-only)
    `ga_session_id` parameter and events on one page their `page_location`, and London dates are worked out
    once per day, which keeps a year of months to about a second."""

    def __init__(self, month: Month) -> None:
        self.rng = random.Random(f"perfplat-sample/ga4-export/{month.key}")
        self.chance = self.rng.random
        self.events: list[Event] = []
        self._days: dict[date, tuple[str, str, int]] = {}
        self._users: list[str] = []
        self._user_sessions: set[tuple[str, int]] = set()

    def _day(self, local: datetime) -> tuple[str, str, int]:
        """The London day's `event_date`, the next day's, and the instant (UTC micros) the day ends."""
        day = local.date()
        if day not in self._days:
            midnight = datetime.combine(day + timedelta(days=1), datetime.min.time(), LONDON)
            self._days[day] = (f"{day:%Y%m%d}", f"{midnight:%Y%m%d}", _micros(midnight))
        return self._days[day]

    def _user(self, session: SampleSession, session_id: int) -> str:
        """A new user, or one seen earlier in the month (most sessions that return to an LPA started
        before), never one with a session starting in the same second."""
        returning = session.created_lpa and not session.started_lpa
        user = None
        if self._users and self.chance() < _RETURNING_USER[returning]:
            user = self._users[int(self.chance() * len(self._users))]
        if user is None or (user, session_id) in self._user_sessions:
            first_visit = session_id - int(self.chance() * 86_400 * 90)
            user = f"{1_000_000_000 + int(self.chance() * 9_000_000_000)}.{first_visit}"
            self._users.append(user)
        self._user_sessions.add((user, session_id))
        return user

    def _add(self, name: str, micros: int, user: str, day: tuple[str, str, int], params: list[Any]) -> None:
        event = {
            "event_date": day[0] if micros < day[2] else day[1],
            "event_timestamp": micros,
            "event_name": name,
            "user_pseudo_id": user,
            "event_params": params,
        }
        self.events.append(event)
        if self.chance() < _DUPLICATE_PER_EVENT:
            self.events.append(dict(event))

    def add_session(self, session: SampleSession) -> None:
        """The session's page views in order, a few seconds to minutes apart, and its noise."""
        chance = self.chance
        session_id = int(session.started_at.timestamp())
        user = self._user(session, session_id)
        day = self._day(session.started_at.astimezone(LONDON))
        session_param = _param("ga_session_id", integer=session_id)
        micros = _micros(session.started_at)
        for number, path in enumerate(session.page_paths):
            if number:
                micros += 3_000_000 + int(chance() * 237_000_000)
            params = [session_param, _param("page_location", string=_location(path, chance()))]
            self._add("page_view", micros, user, day, params)
            noise = chance()
            if noise < _ENGAGEMENT_PER_PAGE + _SCROLL_PER_PAGE:
                name = "user_engagement" if noise < _ENGAGEMENT_PER_PAGE else "scroll"
                self._add(name, micros + 500_000 + int(chance() * 8_000_000), user, day, params)
        if chance() < _NO_SESSION_PER_SESSION:
            path = f"/lpa/{session.lpa_id}/applicant" if session.lpa_id else "/home"
            later = micros + 1 + int(chance() * 999_999)
            self._add("page_view", later, user, day, [_param("page_location", string=SITE + path)])


def _timestamp(event: Event) -> int:
    return event["event_timestamp"]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a month is built.

    A month is ~20k small dicts and lists, none in a cycle; with years of months cached, the collector
    would otherwise rescan them all again and again (more than doubling the build time). It is left as it
    was found."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@lru_cache(maxsize=128)
def month_events(month: Month) -> tuple[Event, ...]:
    """Every event of the month's sample sessions, by time; the last ones may fall on the next month's
    first London day (a session started before midnight)."""
    with _collector_paused():
        builder = _MonthBuilder(month)
        for session in sample_sessions(month):
            builder.add_session(session)
        builder.events.sort(key=_timestamp)
        return tuple(builder.events)


@lru_cache(maxsize=128)
def _events_by_table(month: Month) -> Mapping[str, tuple[Event, ...]]:
    """The month's events by daily table: runs of one `event_date`, as the events are in time order."""
    events = month_events(month)
    tables: dict[str, tuple[Event, ...]] = {}
    start = 0
    for end in range(1, len(events) + 1):
        if end == len(events) or events[end]["event_date"] != events[start]["event_date"]:
            tables[TABLE_PREFIX + events[start]["event_date"]] = events[start:end]
            start = end
    return tables


def _covered_days(months: Iterable[Month]) -> list[date]:
    """The London days of `months`, and the first day after the last of them."""
    ordered = sorted(set(months))
    days: set[date] = set()
    for month in ordered:
        day = month.first_day
        while day <= month.last_day:
            days.add(day)
            day += timedelta(days=1)
    if ordered:
        days.add(ordered[-1].next().first_day)
    return sorted(days)


class LazyExportTables(Mapping[str, tuple[Event, ...]]):
    """`export_tables` as a mapping that builds a month's rows only when one of its tables is read.

    Its keys (the table names) cost nothing, so an emulator can list a dataset of years of tables and load
    only those a query reads. A day's table holds every event of that London day, whichever month's
    session it belongs to (the first day of a month has the previous month's late sessions' tails).
    """

    def __init__(self, months: Iterable[Month]) -> None:
        self._days = {table_name(day): day for day in _covered_days(months)}

    def __getitem__(self, name: str) -> tuple[Event, ...]:
        day = self._days[name]
        month = Month.of(day.year, day.month)
        own = _events_by_table(month).get(name, ())
        spill = _events_by_table(month.previous()).get(name, ()) if day == month.first_day else ()
        return tuple(sorted(spill + own, key=_timestamp)) if spill else own

    def __iter__(self) -> Iterator[str]:
        return iter(self._days)

    def __len__(self) -> int:
        return len(self._days)


def export_tables(months: Iterable[Month]) -> dict[str, list[Event]]:
    """The export's daily tables (`events_YYYYMMDD`) for every London day of `months` and the first day
    after the last of them, each holding all the events of its day."""
    lazy = LazyExportTables(months)
    return {name: list(lazy[name]) for name in lazy}
