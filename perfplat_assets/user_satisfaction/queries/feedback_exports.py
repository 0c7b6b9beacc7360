"""GOV.UK Feedback Explorer's CSV exports of Use a lasting power of attorney's done page: what one export
holds, and the months a set of them counts. Pure functions on bytes handed in; no Dagster, no I/O.

The format is alphagov/support-api's (read at b2f37c2, 2026-06-30):

- `FeedbackExportRequest#generate_csv` writes `FeedbackCsvRowPresenter::HEADER_ROW` (twelve columns since
  June 2017) and a row a contact; the file is named `feedex_<from>_<to>_<path parts>.csv`, `0000-00-00`
  when no start was asked (the query then starts at 1970-01-01), both days included.
- `creation date` is `created_at.strftime("%F %T")` in the app's time zone, which is never set: UTC. The
  export's range, the aggregation's days and so the months counted here are UTC days: a month is the UTC
  calendar month, which in summer starts an hour after London's. An aggregated day cannot be split by the
  hour, so no other day is possible.
- `path or service name` holds the slug for `service-feedback` and the path for every other type.
- Every night `ServiceFeedbackAggregator` replaces a day's ratings by one `aggregated-service-feedback` row
  per path and rating, `feedback` `Rating of <rating>: <count>`, and deletes the individual rows *without
  a comment*: rows with a comment stay, and are also in the day's totals. So a day with aggregated rows is
  counted from them alone, and its individual rows are reported, not counted. (The export, run in batches,
  may even catch a day half-way through its aggregation: the same rule counts it once.)
- An export holds only actionable rows free of suspected personal information
  (`AnonymousContact.for_query_parameters`): an aggregated day's totals count every actionable rating, a
  day not yet aggregated lacks the ratings whose comment GOV.UK suspects of holding personal data.

Only `creation date`, `path or service name`, `service satisfaction rating`, `type` and the aggregated
count are read; `feedback`, `user agent` and `referrer` (free text) are never kept, logged or put in a
message, and neither is any other cell: a message says where and what is wrong, never what is there.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from perfplat_assets.common.files import byte_order_mark, line_of
from perfplat_assets.common.months import Month
from perfplat_assets.user_satisfaction.calculation import Rating, RatingCounts

SETTING = "PERFPLAT_USE_AN_LPA_FEEDBACK_EXPORTS"
DONE_PAGE = "/done/use-lasting-power-of-attorney"
SLUG = DONE_PAGE.rsplit("/", 1)[1]
HEADER = (
    "creation date",
    "path or service name",
    "feedback",
    "service satisfaction rating",
    "browser name",
    "browser version",
    "browser platform",
    "user agent",
    "referrer",
    "type",
    "primary organisation",
    "all organisations",
)
INDIVIDUAL, AGGREGATED = "service-feedback", "aggregated-service-feedback"
NOT_RATINGS = ("problem-report", "long-form-contact")
MAX_EXPORT_BYTES = 50_000_000  # years of the done page's rows are a few megabytes
MAX_ROWS = 1_000_000
MAX_DAY_COUNT = 9_999_999  # of one rating on one day: the done page has some hundred responses a day
NAME_FORM = f"feedex_<from>_<to>_done_{SLUG}.csv"
NO_START = "0000-00-00"
NO_START_DAY = date(1970, 1, 1)  # AnonymousContact.for_query_parameters: `options[:from] || Date.new(1970)`

# Why a response (a contact, for the other types) is not counted: the tally's keys.
OTHER_PAGE = "a rating of another page or service"
NOT_A_RATING = "a problem report or a long-form contact, not a rating"
IN_DAYS_TOTALS = "a rating with a comment on a day GOV.UK has aggregated: already in that day's totals"
DAY_NOT_OVER = "on a day that had not ended (UTC) when the export was written"

_RATINGS = {
    "1": Rating.VERY_DISSATISFIED,
    "2": Rating.DISSATISFIED,
    "3": Rating.NEITHER,
    "4": Rating.SATISFIED,
    "5": Rating.VERY_SATISFIED,
}
_DAY = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_OUR_NAME = re.compile(rf"feedex_({_DAY})_({_DAY})_done_{re.escape(SLUG)}\.csv")
_FEEDEX_NAME = re.compile(rf"feedex_{_DAY}_{_DAY}(_[A-Za-z0-9.-]+)*\.csv")  # path segments, organisation
_CREATED = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2})")
_AGGREGATED_COUNT = re.compile(r"Rating of ([1-5]): ([0-9]{1,7})")
_DOWNLOAD_AGAIN = "download the export from the Feedback Explorer again and keep it as it came"


class FeedbackExportError(ValueError):
    """An export cannot be used as it is; the message names the file, the line and what to do, and never
    holds what the file holds."""


@dataclass(frozen=True)
class ExportName:
    """What a Feedback Explorer export's name says: the first and last day asked for (UTC, both included)."""

    first_day: date
    last_day: date

    def touches(self, months: Sequence[Month]) -> bool:
        return any(self.first_day <= month.last_day and month.first_day <= self.last_day for month in months)


def export_name(name: str) -> ExportName:
    """The range of an export of the done page named as GOV.UK names it; otherwise a FeedbackExportError
    saying why the file is not one (the caller warns and does not read it)."""
    found = _OUR_NAME.fullmatch(name)
    if found is None:
        if _FEEDEX_NAME.fullmatch(name):
            raise FeedbackExportError(
                "is a Feedback Explorer export of other pages (or filtered by organisation or document type, "
                f"which leaves out the aggregated days), not of {DONE_PAGE} alone"
            )
        raise FeedbackExportError(f"is not a Feedback Explorer export of {DONE_PAGE} ({NAME_FORM})")
    first, last = found.groups()
    try:
        first_day = NO_START_DAY if first == NO_START else date.fromisoformat(first)
        last_day = date.fromisoformat(last)
    except ValueError:
        raise FeedbackExportError(f"names a day that does not exist ({NAME_FORM})") from None
    if last_day < first_day:
        raise FeedbackExportError("names a range that ends before it starts")
    return ExportName(first_day, last_day)


def choose_exports(names: Iterable[str], months: Sequence[Month]) -> tuple[list[str], list[str]]:
    """The names to read for `months` (exports whose range touches one of them), and a warning for each
    name that is not an export of the done page: such a file is not read, but is not passed over in
    silence either."""
    chosen, warnings = [], []
    for name in sorted(names):
        try:
            if export_name(name).touches(months):
                chosen.append(name)
        except FeedbackExportError as error:
            warnings.append(f"{name} {error}: not read")
    return chosen, warnings


@dataclass(frozen=True)
class Export:
    """One export as it was handed over: how messages name it (its path, or s3://bucket/key), when it was
    written (a time-zone-aware moment: the file's modification time, the object's LastModified) and its
    bytes."""

    label: str
    modified: datetime
    data: bytes = field(repr=False)

    @property
    def name(self) -> str:
        return self.label.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ParsedExport:
    """One export's counts: responses per UTC day and rating (None: a rating none of the five) for each
    day it covers, and the responses (or other contacts) it does not count, per day and reason. Nothing a
    person wrote is kept."""

    label: str
    name: ExportName
    modified: datetime  # UTC
    covered_until: date | None  # the last day of its range that had ended (UTC) when it was written
    digest: str
    ratings: dict[date, Counter[Rating | None]]
    not_counted: dict[date, Counter[str]]

    def covers(self, day: date) -> bool:
        return self.covered_until is not None and self.name.first_day <= day <= self.covered_until


@dataclass
class _Day:
    aggregated: dict[Rating, int] = field(default_factory=dict)
    individual: Counter[Rating | None] = field(default_factory=Counter)
    not_counted: Counter[str] = field(default_factory=Counter)


def parse_export(export: Export) -> ParsedExport:
    """Read one export strictly, or refuse it with a FeedbackExportError naming the file and the line."""
    if export.modified.tzinfo is None:
        raise ValueError(f"{export.label}: the modification time must be time-zone-aware")
    try:
        name = export_name(export.name)
    except FeedbackExportError as error:
        raise FeedbackExportError(f"{export.label} {error}") from None
    modified = export.modified.astimezone(UTC).replace(tzinfo=None)
    ended = modified.date() - timedelta(days=1)  # the last UTC day over by then
    covered_until = min(name.last_day, ended) if ended >= name.first_day else None
    days: dict[date, _Day] = {}
    for where, created, cells in _rows(export):
        if created > modified:
            raise FeedbackExportError(
                f"{where}: the row was created after the file was last modified, so its modification time "
                f"is not when GOV.UK wrote it; {_DOWNLOAD_AGAIN}"
            )
        day = created.date()
        if not name.first_day <= day <= name.last_day:
            raise FeedbackExportError(
                f"{where}: the row's creation date is outside the days the file's name says it holds "
                f"({name.first_day} to {name.last_day}); {_DOWNLOAD_AGAIN}"
            )
        _count_row(days.setdefault(day, _Day()), where, created, cells)
    ratings, not_counted = {}, {}
    for day, held in days.items():
        ratings[day], not_counted[day] = _resolve(held)
        if covered_until is None or day > covered_until:
            not_counted[day][DAY_NOT_OVER] += sum(ratings.pop(day).values())
    return ParsedExport(
        export.label,
        name,
        export.modified.astimezone(UTC),
        covered_until,
        hashlib.sha256(export.data).hexdigest(),
        ratings,
        {day: tally for day, tally in not_counted.items() if tally},
    )


def _resolve(day: _Day) -> tuple[Counter[Rating | None], Counter[str]]:
    """A day's responses: the aggregated totals where GOV.UK has aggregated the day (its individual rows
    left are ratings with a comment, already in the totals), else the individual ratings."""
    not_counted = Counter(day.not_counted)
    if not day.aggregated:
        return Counter(day.individual), not_counted
    if individual := sum(day.individual.values()):
        not_counted[IN_DAYS_TOTALS] += individual
    return Counter[Rating | None](day.aggregated), not_counted


def _count_row(day: _Day, where: str, created: datetime, cells: list[str]) -> None:
    kind, place = cells[HEADER.index("type")], cells[HEADER.index("path or service name")]
    rating = cells[HEADER.index("service satisfaction rating")]
    if kind in NOT_RATINGS:
        day.not_counted[NOT_A_RATING] += 1
    elif kind == INDIVIDUAL:
        if place == SLUG:
            day.individual[_RATINGS.get(rating)] += 1
        else:
            day.not_counted[OTHER_PAGE] += 1
    elif kind == AGGREGATED:
        count = _aggregated_count(where, created, cells[HEADER.index("feedback")], rating)
        if place != DONE_PAGE:
            day.not_counted[OTHER_PAGE] += count[1]
            return
        if count[0] in day.aggregated:
            raise FeedbackExportError(
                f"{where}: a second aggregated row for {created.date()} and rating {rating}; GOV.UK "
                f"aggregates a day once; {_DOWNLOAD_AGAIN}"
            )
        day.aggregated[count[0]] = count[1]
    else:
        raise FeedbackExportError(
            f"{where}: the type is none of GOV.UK's four ({INDIVIDUAL}, {AGGREGATED}, "
            f"{', '.join(NOT_RATINGS)}); {_DOWNLOAD_AGAIN}"
        )


def _aggregated_count(where: str, created: datetime, feedback: str, rating: str) -> tuple[Rating, int]:
    """An aggregated row's rating and count, from `Rating of <1-5>: <count>`, strictly: the text itself is
    never put in the message."""
    found = _AGGREGATED_COUNT.fullmatch(feedback)
    if found is None:
        raise FeedbackExportError(
            f"{where}: an aggregated row's feedback is not 'Rating of <1 to 5>: <count>' (a whole number "
            f"of at most {len(str(MAX_DAY_COUNT))} digits); {_DOWNLOAD_AGAIN}"
        )
    if found.group(1) != rating:
        raise FeedbackExportError(
            f"{where}: an aggregated row's feedback and service satisfaction rating name different ratings; "
            f"{_DOWNLOAD_AGAIN}"
        )
    if created.time() != time(0):
        raise FeedbackExportError(
            f"{where}: an aggregated row's creation date is not midnight, where GOV.UK dates a day's "
            f"totals; {_DOWNLOAD_AGAIN}"
        )
    return _RATINGS[rating], int(found.group(2))


def _rows(export: Export) -> Iterator[tuple[str, datetime, list[str]]]:
    """Each row after the header: where it is (`file line N`), its creation date (naive UTC) and its cells,
    checked for their number and the date's form."""
    reader = csv.reader(io.StringIO(_decode(export), newline=""), strict=True)
    line, rows = 1, 0  # where the row being read starts: a quoted comment may span lines
    try:
        for cells in reader:
            row_line, line = line, reader.line_num + 1
            where = f"{export.label} line {row_line}"
            if row_line == 1:
                _check_header(cells, where)
                continue
            rows += 1
            if rows > MAX_ROWS:
                raise FeedbackExportError(
                    f"{where}: more than {MAX_ROWS:,} rows, so not an export of one service's done page"
                )
            if len(cells) != len(HEADER):
                raise FeedbackExportError(
                    f"{where}: {len(cells)} values, but the header has {len(HEADER)} columns; "
                    f"{_DOWNLOAD_AGAIN}"
                )
            yield where, _created(cells[0], where), cells
    except csv.Error as error:  # its messages name a limit or a delimiter, never the text
        raise FeedbackExportError(f"{export.label} line {line}: not readable as CSV ({error})") from None
    if line == 1:
        raise FeedbackExportError(
            f"{export.label} is empty: a Feedback Explorer export starts with its header"
        )


def _check_header(cells: list[str], where: str) -> None:
    expected = f"a Feedback Explorer export's header is {','.join(HEADER)}"
    if len(cells) != len(HEADER):
        raise FeedbackExportError(
            f"{where}: the header has {len(cells)} columns, not {len(HEADER)}; {expected}"
        )
    for position, (cell, name) in enumerate(zip(cells, HEADER, strict=True), start=1):
        if cell != name:
            raise FeedbackExportError(f"{where}: column {position} of the header is not {name!r}; {expected}")


def _created(text: str, where: str) -> datetime:
    """`YYYY-MM-DD HH:MM:SS`, UTC (support-api sets no time zone), as a naive UTC datetime."""
    found = _CREATED.fullmatch(text)
    try:
        if found is None:
            raise ValueError
        day, hour, minute, second = found.groups()
        return datetime.combine(date.fromisoformat(day), time(int(hour), int(minute), int(second)))
    except ValueError:
        raise FeedbackExportError(
            f"{where}: the creation date is not a moment written YYYY-MM-DD HH:MM:SS; {_DOWNLOAD_AGAIN}"
        ) from None


def _decode(export: Export) -> str:
    """UTF-8 without a byte order mark, as support-api writes it. A byte order mark is refused: it means a
    program (a spreadsheet, an editor) saved the file again, so its rows may have been changed and its
    modification time is no longer when GOV.UK wrote it."""
    data = export.data
    if encoding := byte_order_mark(data):
        raise FeedbackExportError(
            f"{export.label} line 1: starts with a {encoding.split()[0]} byte order mark, which GOV.UK's "
            "exports never have: another program saved it again, which may have changed its rows and its "
            f"modification time; {_DOWNLOAD_AGAIN}"
        )
    if b"\0" in data:
        offset = data.index(b"\0")
        raise FeedbackExportError(
            f"{export.label} line {line_of(data, offset)}: a NUL byte at byte offset {offset}, so not UTF-8 "
            f"text; {_DOWNLOAD_AGAIN}"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        offset = error.start
    raise FeedbackExportError(
        f"{export.label} line {line_of(data, offset)}: not UTF-8 at byte offset {offset}; {_DOWNLOAD_AGAIN}"
    )


@dataclass(frozen=True)
class FeedbackExportsReading:
    """What a set of exports counts for the months asked: each month's `RatingCounts`, or why it is not
    available; per month, the responses (or, for the other types, contacts) not counted, by reason; and a
    warning for each file not read."""

    counts: dict[Month, RatingCounts | str]
    not_counted: dict[Month, dict[str, int]]
    warnings: tuple[str, ...] = ()


def read_exports(
    exports: Sequence[Export], months: Sequence[Month], warnings: Sequence[str] = ()
) -> FeedbackExportsReading:
    """The months' counts from these exports (each refused, if it must be, naming file and line)."""
    return count_months([parse_export(export) for export in exports], months, warnings)


def rating_counts(exports: Sequence[Export], months: Sequence[Month]) -> dict[Month, RatingCounts | str]:
    return read_exports(exports, months).counts


def count_months(
    parsed: Sequence[ParsedExport], months: Sequence[Month], warnings: Sequence[str] = ()
) -> FeedbackExportsReading:
    """Each month counted when the exports cover every one of its days once; two exports that both cover a
    day and differ make the month unavailable (the format has no row id: a response in both could not be
    counted once), unless they are byte for byte the same, when one is counted."""
    counts: dict[Month, RatingCounts | str] = {}
    not_counted: dict[Month, dict[str, int]] = {}
    for month in sorted(set(months)):
        totals: Counter[Rating | None] = Counter()
        tally: Counter[str] = Counter()
        missing: list[date] = []
        clashes: dict[tuple[str, str], list[date]] = {}
        for day in _days(month):
            covering = [export for export in parsed if export.covers(day)]
            differing = [export for export in covering if export.digest != covering[0].digest]
            if differing:
                clashes.setdefault((covering[0].label, differing[0].label), []).append(day)
            elif covering:
                totals.update(covering[0].ratings.get(day, Counter()))
                tally.update(covering[0].not_counted.get(day, Counter()))
            else:
                missing.append(day)
                for export in parsed:
                    tally.update(export.not_counted.get(day, Counter()))
        not_counted[month] = dict(sorted(tally.items()))
        if clashes:
            counts[month] = _clash_reason(clashes)
        elif missing:
            counts[month] = _missing_reason(month, missing, parsed)
        else:
            counts[month] = _rating_counts(totals)
    return FeedbackExportsReading(counts, not_counted, tuple(warnings))


def _rating_counts(totals: Counter[Rating | None]) -> RatingCounts:
    known = {rating.column: totals[rating] for rating in Rating}
    return RatingCounts(**known, unknown=totals[None], rated_responses=sum(known.values()))


def _days(month: Month) -> list[date]:
    return [month.first_day + timedelta(days=n) for n in range(month.last_day.day)]


def day_ranges(days: Sequence[date], most: int = 6) -> str:
    """Days, compactly: `2026-07-03, 2026-07-30 to 2026-07-31`, the first `most` runs and how many more."""
    runs: list[list[date]] = []
    for day in sorted(days):
        if runs and day - runs[-1][-1] == timedelta(days=1):
            runs[-1].append(day)
        else:
            runs.append([day])
    shown = [str(run[0]) if len(run) == 1 else f"{run[0]} to {run[-1]}" for run in runs[:most]]
    more = f" and {len(runs) - most} more runs of days" if len(runs) > most else ""
    return ", ".join(shown) + more


def _clash_reason(clashes: dict[tuple[str, str], list[date]]) -> str:
    pairs = "; ".join(
        f"{one} and {other} both cover {day_ranges(days)}" for (one, other), days in clashes.items()
    )
    return (
        f"not available: {pairs}, and they differ; the exports have no row id, so a response in both could "
        f"not be counted once: keep one export a day in {SETTING}"
    )


def _missing_reason(month: Month, missing: list[date], parsed: Sequence[ParsedExport]) -> str:
    if len(missing) == month.last_day.day and not any(export.name.touches([month]) for export in parsed):
        return (
            f"not available yet: no export in {SETTING} covers {month} ({month.first_day} to "
            f"{month.last_day}); add GOV.UK's Feedback Explorer export of {DONE_PAGE} for those days"
        )
    early = []
    for export in parsed:
        days = [day for day in missing if export.name.first_day <= day <= export.name.last_day]
        if days:
            written = f"{export.modified:%Y-%m-%d %H:%M:%S} UTC"
            early.append(f"{export.label} was written at {written}, before {days[0]} ended")
    return (
        f"not available yet: no export in {SETTING} covers {day_ranges(missing)}"
        + (f" ({'; '.join(early[:3])})" if early else "")
        + f"; add GOV.UK's Feedback Explorer export of {DONE_PAGE} for those days"
    )
