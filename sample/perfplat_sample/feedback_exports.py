"""Synthetic GOV.UK Feedback Explorer exports of Use a lasting power of attorney's done page, as
alphagov/support-api writes them: one file a month, from the first month to the last closed one.

Months up to `LAST_AGGREGATED` hold what GOV.UK keeps of an aggregated day: a row per rating with its
count, and the responses that came with a comment, which are in those counts too. Later months hold every
response as a row of its own. Every generator is seeded by the month alone, so a month's file is the same on
every machine. Nothing in it is about a person: the comments are fixed sample sentences.
"""

from __future__ import annotations

import csv
import io
import math
import os
import random
import tempfile
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from pydantic import Field

from perfplat_assets.common.months import Month, last_closed_month, months_between
from perfplat_assets.common.sql_source import DEFAULT_DATA_DIR
from perfplat_assets.services.use_an_lpa.service import USE_AN_LPA
from perfplat_assets.user_satisfaction.queries.feedback_exports import (
    AGGREGATED,
    DONE_PAGE,
    HEADER,
    INDIVIDUAL,
    SLUG,
    FeedbackExportsReading,
)
from perfplat_assets.user_satisfaction.resources.feedback_exports import FeedbackExports
from perfplat_sample.serving import ServesTheSample

EXPORTS_FOLDER = "use-an-lpa-feedback-exports"
LAST_AGGREGATED = Month.of(2025, 12)
COMMENT_SHARE = 0.04
SAMPLE_COMMENT = "Sample comment: no personal data."
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0 (perfplat sample)"
REFERRER = "https://use-lasting-power-of-attorney.service.gov.uk/logout"
ORGANISATION = "Office of the Public Guardian"
# Ratings 1 (very dissatisfied) to 5 (very satisfied): Use an LPA's responses lean to very satisfied.
WEIGHTS = (4, 3, 5, 22, 66)


def export_name(month: Month) -> str:
    return f"feedex_{month.first_day}_{month.last_day}_done_{SLUG}.csv"


def written_at(month: Month) -> datetime:
    """When the sample says GOV.UK wrote the month's export: 06:00 UTC on the next month's first day, after
    the month's last UTC day ended."""
    return datetime.combine(month.next().first_day, time(6), UTC)


def _moment(day: date, rng: random.Random) -> datetime:
    return datetime.combine(day, time(0), UTC) + timedelta(seconds=rng.randrange(86_400))


def _responses(month: Month) -> list[tuple[datetime, int, bool]]:
    """The month's responses (UTC moment, rating 1 to 5, whether it came with a comment), in time order:
    some 1,000 to 3,000 a month, drifting with the seasons."""
    rng = random.Random(f"perfplat-sample/feedback-exports/{month.key}")
    age = (month.first_day.year - 2021) * 12 + month.first_day.month - 3
    count = int(1900 + 600 * math.sin(age / 4) + rng.randint(-300, 300))
    days = [month.first_day + timedelta(days=n) for n in range(month.last_day.day)]
    weights = [weight * rng.uniform(0.85, 1.15) for weight in WEIGHTS]
    responses = [
        (_moment(rng.choice(days), rng), rng.choices(range(1, 6), weights)[0], rng.random() < COMMENT_SHARE)
        for _ in range(count)
    ]
    return sorted(responses)


def _individual(moment: datetime, rating: int, comment: bool) -> list[str]:
    return [
        f"{moment:%Y-%m-%d %H:%M:%S}",
        SLUG,
        SAMPLE_COMMENT if comment else "",
        str(rating),
        "Firefox",
        "128.0",
        "Linux ",
        USER_AGENT,
        REFERRER,
        INDIVIDUAL,
        ORGANISATION,
        ORGANISATION,
    ]


def _aggregated_row(day: date, rating: int, count: int) -> list[str]:
    """A day's total for one rating, as `ServiceFeedbackAggregator` stores it and the presenter writes it
    (no user agent, parsed as "Other"; no organisation: its row has no content item)."""
    browser = ["Other", "", "Other ", "", ""]
    return [
        f"{day} 00:00:00",
        DONE_PAGE,
        f"Rating of {rating}: {count}",
        str(rating),
        *browser,
        AGGREGATED,
        "",
        "",
    ]


def _problem_report(month: Month) -> list[str]:
    """A "report a problem" contact on the done page, which a path-filtered export holds too."""
    moment = _moment(month.first_day + timedelta(days=9), random.Random(f"problem/{month.key}"))
    what = "Sample: signing out\nSample: nothing went wrong"
    browser = ["Firefox", "128.0", "Linux ", USER_AGENT, REFERRER]
    return [
        f"{moment:%Y-%m-%d %H:%M:%S}",
        DONE_PAGE,
        what,
        "",
        *browser,
        "problem-report",
        ORGANISATION,
        ORGANISATION,
    ]


def sample_export(month: Month) -> bytes:
    """The month's export, as `FeedbackExportRequest#generate_csv` writes it (Ruby's CSV: `\\n` line ends)."""
    responses = _responses(month)
    rows: list[list[str]] = []
    if month <= LAST_AGGREGATED:
        totals = Counter((moment.date(), rating) for moment, rating, _ in responses)
        for (day, rating), count in sorted(totals.items()):
            rows.append(_aggregated_row(day, rating, count))
        rows += [_individual(moment, rating, True) for moment, rating, comment in responses if comment]
    else:
        rows += [_individual(moment, rating, comment) for moment, rating, comment in responses]
    rows.append(_problem_report(month))
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return text.getvalue().encode("utf-8")


def last_written(now: datetime | None = None) -> Month:
    """The last month whose export the sample says GOV.UK has written by `now`: the last closed month, or the
    one before in the hours between its end in London and `written_at`."""
    now = now or datetime.now(UTC)
    month = last_closed_month(now)
    while written_at(month) > now:
        month = month.previous()
    return month


def sample_exports(data_dir: str | Path, through: Month | None = None) -> Path:
    """The folder of the sample's exports under `data_dir`, holding a file a month from the first month to
    `through` (by default `last_written`): written the first time they are asked for, each in one rename, its
    modification time when the sample says GOV.UK wrote it."""
    folder = Path(data_dir) / EXPORTS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for month in months_between(USE_AN_LPA.first_month, through or last_written()):
        target = folder / export_name(month)
        if target.exists():
            continue
        descriptor, temporary = tempfile.mkstemp(dir=data_dir, prefix=".feedex-", suffix=".partial")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(sample_export(month))
            moment = written_at(month).timestamp()
            os.utime(temporary, (moment, moment))
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    return folder


class EmbeddedFeedbackExports(ServesTheSample, FeedbackExports):
    """The sample's exports in place of PERFPLAT_USE_AN_LPA_FEEDBACK_EXPORTS', written under `data_dir` when
    first read and read through the production code's directory reader."""

    data_dir: str = Field(default=DEFAULT_DATA_DIR, description="Home of the embedded sample's files.")
    location: str | None = Field(default=None, description="Unused: the sample's exports are in data_dir.")

    def read(self, months: Sequence[Month]) -> FeedbackExportsReading:
        return self._read_directory(sample_exports(self.data_dir), months)
