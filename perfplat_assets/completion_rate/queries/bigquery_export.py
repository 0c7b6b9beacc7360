"""The completion rate exactly, as the service defines it, counted in GA4's BigQuery export: sessions that
went from a start page to "who is applying". Pure: the query, its parameters and which months the
export's tables can answer; no client, no I/O.

The definition (README, "Completion rate"):
- a session is `(user_pseudo_id, ga_session_id)`; an event without either is in no session;
- only `page_view` events count, from the daily tables `events_YYYYMMDD`, never `events_intraday_*`;
- a page is the path of `page_location`, without query string or fragment; the host is not checked, case
  matters, and one trailing slash is allowed;
- a session started if it viewed a start page, and completed if it viewed the applicant page no earlier
  than its first start-page view and within 24 hours of it;
- a session belongs to the Europe/London month of its first start-page view;
- rate = completed / started x 100, half-up to one decimal: at most 100 by construction.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from perfplat_assets.common.months import Month

# The methods the completion rate can be made by, as the notes, the CSVW and the report state them.
DATA_API_RATIO = "ga4-data-api-ratio"
EXPORT_JOURNEYS = "ga4-export-journeys"

START_PAGE = r"^(/user/dashboard/create(/[0-9]+)?|/lpa/type)/?$"
APPLICANT_PAGE = r"^/lpa/[0-9]+/applicant/?$"
# A URL's path: after the scheme and host, if any, up to a query string or fragment.
PATH = r"^(?:[A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)?([^?#]*)"
JOURNEY_LIMIT = timedelta(hours=24)  # the applicant page within 24 hours of the first start page
# Tables are named by date in the property's time zone, which may be up to 14 hours from UTC either way:
# the suffix bounds reach a day further than the timestamps do, and the timestamps are then exact.
TABLE_MARGIN = timedelta(days=1)
# A session's first start-page view may come before the month it is counted in: reading a day before the
# first month lets a session that started on its last evening be told apart from one that started after.
LOOK_BACK = timedelta(hours=24)
DAILY_TABLE_PREFIX, INTRADAY_TABLE_PREFIX = "events_", "events_intraday_"

JOURNEYS_SQL = f"""
-- perfplat: the completion rate, exactly (sessions from a start page to "who is applying")
WITH page_views AS (
  SELECT
    user_pseudo_id,
    (SELECT value.int_value FROM UNNEST(event_params) WHERE key = 'ga_session_id') AS ga_session_id,
    event_timestamp,
    REGEXP_EXTRACT(
      (SELECT value.string_value FROM UNNEST(event_params) WHERE key = 'page_location'), r'{PATH}'
    ) AS path
  FROM `{{dataset}}.events_*`
  WHERE _TABLE_SUFFIX BETWEEN @first_table AND @last_table
    AND event_name = 'page_view'
    AND event_timestamp >= @read_from AND event_timestamp < @read_until
),
sessions AS (
  SELECT
    user_pseudo_id,
    ga_session_id,
    MIN(IF(REGEXP_CONTAINS(path, r'{START_PAGE}'), event_timestamp, NULL)) AS started_at
  FROM page_views
  WHERE user_pseudo_id IS NOT NULL AND ga_session_id IS NOT NULL
  GROUP BY user_pseudo_id, ga_session_id
),
journeys AS (
  SELECT
    s.started_at,
    COUNTIF(v.event_timestamp IS NOT NULL) > 0 AS completed
  FROM sessions AS s
  LEFT JOIN page_views AS v
    ON v.user_pseudo_id = s.user_pseudo_id
    AND v.ga_session_id = s.ga_session_id
    AND REGEXP_CONTAINS(v.path, r'{APPLICANT_PAGE}')
    AND v.event_timestamp BETWEEN s.started_at AND s.started_at + @journey_micros
  WHERE s.started_at >= @months_from AND s.started_at < @months_until
  GROUP BY s.user_pseudo_id, s.ga_session_id, s.started_at
)
SELECT
  FORMAT_TIMESTAMP('%Y-%m', TIMESTAMP_MICROS(started_at), 'Europe/London') AS month,
  COUNT(*) AS started,
  COUNTIF(completed) AS completed
FROM journeys
GROUP BY month
ORDER BY month
"""


def _micros(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp()) * 1_000_000


def _suffix(day: date) -> str:
    return f"{day:%Y%m%d}"


@dataclass(frozen=True)
class JourneysQuery:
    """The one query for every month of a run: its text and its named parameters, never values formatted
    into the text (but the dataset's name, which a table reference cannot take as a parameter and which is
    checked when the code location loads)."""

    sql: str
    parameters: Mapping[str, int | str]


def journeys_query(dataset: str, months: Sequence[Month]) -> JourneysQuery:
    """The query counting, per London month of `months` (contiguous or not), the sessions that started and
    completed; it reads from a day before the first month to 24 hours after the last."""
    first, last = min(months), max(months)
    read_from, read_until = first.start - LOOK_BACK, last.end + JOURNEY_LIMIT
    parameters: dict[str, int | str] = {
        "first_table": _suffix((read_from - TABLE_MARGIN).date()),
        "last_table": _suffix((read_until + TABLE_MARGIN).date()),
        "read_from": _micros(read_from),
        "read_until": _micros(read_until),
        "months_from": _micros(first.start),
        "months_until": _micros(last.end),
        "journey_micros": int(JOURNEY_LIMIT.total_seconds()) * 1_000_000,
    }
    return JourneysQuery(JOURNEYS_SQL.replace("{dataset}", dataset), parameters)


def days_needed(month: Month) -> list[date]:
    """The daily tables a month needs before it is counted: each of its London days, and the day after
    (a journey started on its last evening may finish then)."""
    days = (month.last_day - month.first_day).days + 2
    return [month.first_day + timedelta(days=n) for n in range(days)]


@dataclass(frozen=True)
class Coverage:
    """What the export's tables say of a month: whether it can be counted, and if not, why."""

    month: Month
    settled: bool
    before_export: bool  # the month began before the export's first daily table
    reason: str | None


def coverage(tables: Collection[str], months: Sequence[Month]) -> dict[Month, Coverage]:
    """Which months the export can answer, from its table names: a month is counted only when the daily
    tables of all its London days, and the day after, exist (GA4 writes a day's table hours after the day
    ends). A table counts once it exists."""
    daily = {name.removeprefix(DAILY_TABLE_PREFIX) for name in tables if _is_daily(name)}
    intraday = {
        name.removeprefix(INTRADAY_TABLE_PREFIX) for name in tables if name.startswith(INTRADAY_TABLE_PREFIX)
    }
    first_table = min(daily, default=None)
    found = {}
    for month in months:
        needed = days_needed(month)
        missing = [day for day in needed if _suffix(day) not in daily]
        before = first_table is None or _suffix(needed[0]) < first_table
        found[month] = Coverage(month, not missing, before, _missing_reason(month, missing, daily, intraday))
    return found


def _is_daily(name: str) -> bool:
    suffix = name.removeprefix(DAILY_TABLE_PREFIX)
    return name.startswith(DAILY_TABLE_PREFIX) and len(suffix) == 8 and suffix.isdigit()


def _missing_reason(
    month: Month, missing: Sequence[date], daily: Collection[str], intraday: Collection[str]
) -> str | None:
    if not missing:
        return None
    if not daily and intraday:
        return (
            f"the export has only events_intraday_* tables (streaming only), so no settled day of {month}: "
            "turn on the Daily export in GA4 Admin (Product links, BigQuery links, Frequency: Daily)"
        )
    day, newest = missing[0], max(daily, default="")
    if _suffix(day) > newest:
        return (
            f"the export has no table for {day.isoformat()} yet, so {month} is not counted from part of it: "
            "the settled run on the 4th will take it"
        )
    return (
        f"the export has no table for {day.isoformat()}, though it has later days, so {month} is not counted "
        "from part of it: check the BigQuery link in GA4 Admin, then re-run the month"
    )
