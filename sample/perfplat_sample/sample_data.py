"""Deterministic synthetic data for one month of Make an LPA, shaped like the real thing.

Every generator is seeded by the month alone, so a month's sample is the same on every machine and every
run, and months can be generated independently (the embedded databases are seeded lazily, month by month).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

from perfplat_assets.common.months import LONDON, Month
from perfplat_assets.services.deputy_reporting.service import DEPUTY_REPORTING
from perfplat_assets.uptime.calculation import hour_starts
from perfplat_assets.user_satisfaction.calculation import Rating

RATINGS = tuple(rating.form_value for rating in Rating)
# Ratings the real table has been seen to hold besides the five: legacy values and empty submissions.
STRAY_RATINGS = ("good", "", None)

START_PAGES = ("/user/dashboard/create", "/lpa/type")


def _rng(kind: str, month: Month) -> random.Random:
    return random.Random(f"perfplat-sample/{kind}/{month.key}")


def _months_since_launch(month: Month) -> int:
    return (month.first_day.year - 2021) * 12 + month.first_day.month - 3


def _moment_in(month: Month, rng: random.Random) -> datetime:
    """A uniformly random instant of the month, London time (aware)."""
    span = (month.end - month.start).total_seconds()
    return (month.start + timedelta(seconds=rng.uniform(0, span))).astimezone(LONDON)


@dataclass(frozen=True)
class SampleFeedback:
    received: datetime
    rating: str | None
    details: str
    email: str
    phone: str

    def message(self) -> dict[str, object]:
        """The jsonb `message` as the service stores it, personal data included."""
        message: dict[str, object] = {
            "details": self.details,
            "email": self.email,
            "phone": self.phone,
            "agent": "Mozilla/5.0 (sample)",
            "fromPage": "/lpa/1234567/checkout",
        }
        if self.rating is not None:
            message["rating"] = self.rating
        return message


def sample_feedback(month: Month) -> Iterator[SampleFeedback]:
    """A few thousand responses, their mix drifting a little from month to month."""
    rng = _rng("feedback", month)
    age = _months_since_launch(month)
    responses = int(2600 + 900 * math.sin(age / 5) + rng.randint(0, 1200))
    weights = [
        52 + 6 * math.sin(age / 7) + rng.uniform(-3, 3),
        27 + rng.uniform(-3, 3),
        8 + rng.uniform(-2, 2),
        5 + rng.uniform(-1.5, 1.5),
        6 + rng.uniform(-2, 2),
    ]
    for number in range(responses):
        stray = rng.random() < 0.004
        rating = rng.choice(STRAY_RATINGS) if stray else rng.choices(RATINGS, weights)[0]
        yield SampleFeedback(
            received=_moment_in(month, rng),
            rating=rating,
            details=f"sample free text {month.label}-{number}: my attorney's name is Jane Example",
            email=f"sample.user.{month.label}.{number}@example.invalid",
            phone=f"07700 9{number % 100000:05d}",
        )


# The new-deputy report (NDR), whose responses carry `ndr_id` rather than `report_id`, was withdrawn in
# April 2026.
NDR_LAST_MONTH = Month.of(2026, 3)
DEPUTY_ROLES = ("LAY", "PA", "PROF")
REPORT_TYPES = ("102", "103", "104", "102-4", "103-4")


@dataclass(frozen=True)
class SampleSatisfaction:
    """A row of digideps' `satisfaction` table: `created_at` in London wall-clock time, to the second, as
    digideps writes it."""

    created_at: datetime
    score: int
    report_id: int | None
    ndr_id: int | None
    deputy_role: str
    report_type: str
    comments: str | None


def sample_satisfaction(month: Month) -> Iterator[SampleSatisfaction]:
    """A few hundred scores a month, from April 2023: most given on submitting a report, a few on a new-deputy
    report (until March 2026), and some linked to neither (which digideps' figures leave out)."""
    if not DEPUTY_REPORTING.has(month):
        return
    rng = _rng("deputy-reporting", month)
    age = _months_since_launch(month)
    responses = 300 + 60 * (age % 6) + rng.randint(0, 150)
    # Scores 1 (very dissatisfied) to 5 (very satisfied).
    weights = [
        3 + rng.uniform(-1, 1),
        4 + rng.uniform(-1, 1),
        9 + rng.uniform(-2, 2),
        38,
        46 + rng.uniform(-4, 4),
    ]
    ids = age * 10_000
    for number in range(responses):
        created_at = _moment_in(month, rng).replace(tzinfo=None, microsecond=0)
        roll = rng.random()
        ndr = roll < 0.04 and month <= NDR_LAST_MONTH
        unlinked = 0.04 <= roll < 0.09
        yield SampleSatisfaction(
            created_at=created_at,
            score=rng.choices((1, 2, 3, 4, 5), weights)[0],
            report_id=None if ndr or unlinked else ids + number,
            ndr_id=ids + number if ndr else None,
            deputy_role=rng.choice(DEPUTY_ROLES),
            report_type=rng.choice(REPORT_TYPES),
            comments="sample comment: the report was straightforward" if rng.random() < 0.2 else None,
        )


@dataclass(frozen=True)
class SampleCase:
    case_type: str
    receipt_date: date
    online_lpa_id: str | None


def sample_cases(month: Month) -> Iterator[SampleCase]:
    """Sirius receipts: mostly LPAs, a share of them made with Make an LPA, the share moving monthly."""
    rng = _rng("sirius", month)
    age = _months_since_launch(month)
    lpas = 4200 + rng.randint(-600, 600)
    take_up = min(0.9, 0.36 + 0.004 * age + 0.03 * math.sin(age / 3) + rng.uniform(-0.02, 0.02))
    days = (month.last_day - month.first_day).days + 1
    for _ in range(lpas):
        received = month.first_day + timedelta(days=rng.randrange(days))
        online = f"A{rng.randrange(10**10):010d}" if rng.random() < take_up else None
        yield SampleCase("LPA", received, online)
    for _ in range(rng.randint(150, 300)):
        received = month.first_day + timedelta(days=rng.randrange(days))
        yield SampleCase(rng.choice(("EPA", "DEPUTYSHIP")), received, None)


@dataclass(frozen=True)
class SampleSession:
    """One GA4 session: when it started (London time) and the pages it viewed."""

    session_id: str
    started_at: datetime
    page_paths: tuple[str, ...]
    lpa_id: int | None

    @property
    def started_lpa(self) -> bool:
        return any(_is_start_page(path) for path in self.page_paths)

    @property
    def created_lpa(self) -> bool:
        return any(path.endswith("/applicant") for path in self.page_paths)


def _is_start_page(path: str) -> bool:
    return path == "/lpa/type" or path.startswith("/user/dashboard/create")


@lru_cache(maxsize=128)
def sample_sessions(month: Month) -> tuple[SampleSession, ...]:
    """Sessions on the service: most browse, about half start an LPA, most of those get it created.

    A few returning users reach the applicant page of an LPA started in an earlier session, which is why
    the GA4 ratio can run high.
    """
    rng = _rng("ga4", month)
    age = _months_since_launch(month)
    sessions = 3000 + 40 * (age % 12) + rng.randint(0, 900)
    completion = 0.62 + 0.08 * math.sin(age / 4) + rng.uniform(-0.03, 0.03)
    result = []
    for number in range(sessions):
        started_at = _moment_in(month, rng)
        lpa_id = rng.randrange(10**6, 10**8)
        paths: list[str] = ["/home", "/login", "/user/dashboard"]
        roll = rng.random()
        if roll < 0.5:
            start = rng.choice(START_PAGES)
            if start == "/user/dashboard/create" and rng.random() < 0.3:
                start = f"/user/dashboard/create/{rng.randrange(10**6, 10**8)}"
            paths += [start, f"/lpa/{lpa_id}/donor"]
            if rng.random() < completion:
                paths += [f"/lpa/{lpa_id}/when-lpa-starts", f"/lpa/{lpa_id}/applicant"]
        elif roll < 0.53:
            paths += [f"/lpa/{lpa_id}/applicant", f"/lpa/{lpa_id}/correspondent"]
        else:
            lpa_id = None
        result.append(SampleSession(f"{month.label}-{number:06d}", started_at, tuple(paths), lpa_id))
    return tuple(result)


def sample_health_checks(months: Sequence[Month]) -> dict[datetime, float]:
    """The health check's hourly average status: healthy, but for a few hours now and then."""
    hourly: dict[datetime, float] = {}
    for month in months:
        rng = _rng("uptime", month)
        hours = hour_starts(month)
        hourly |= dict.fromkeys(hours, 1.0)
        for moment in rng.sample(hours, rng.choice((0, 0, 0, 1, 2))):
            hourly[moment] = rng.choice((0.0, 0.5, 0.75))
    return hourly
