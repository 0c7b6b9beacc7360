"""The completion rate from session counts, by either method (the export's journeys, or the Data API's
ratio of two session counts), and the export's answer checked before any of it is used. Pure functions, no
I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from perfplat_assets.common.answers import Answer, AnswerCheck, is_count
from perfplat_assets.common.months import Month, months_between
from perfplat_assets.common.rounding import percentage
from perfplat_assets.completion_rate.queries.bigquery_export import DATA_API_RATIO, EXPORT_JOURNEYS, Coverage

# The months perfplat publishes are London calendar months; GA4 buckets `yearMonth` in the property's zone.
LONDON_TIME_ZONE = "Europe/London"


@dataclass(frozen=True)
class ReportFlags:
    """GA4's own warnings that a figure is not exact, and the time zone its months are in: the one home of
    these flags, from GA4's response to the month's stored figures."""

    subject_to_thresholding: bool = False
    sampled: bool = False
    data_loss_from_other_row: bool = False
    data_truncation_reasons: tuple[str, ...] = ()
    time_zone: str = LONDON_TIME_ZONE

    @property
    def data_truncated(self) -> bool:
        return bool(self.data_truncation_reasons)

    @property
    def exact(self) -> bool:
        return not (
            self.subject_to_thresholding
            or self.sampled
            or self.data_loss_from_other_row
            or self.data_truncated
        )

    @property
    def london_months(self) -> bool:
        return self.time_zone == LONDON_TIME_ZONE

    def columns(self) -> dict[str, object]:
        """The flags as the metrics store's columns."""
        return {
            "subject_to_thresholding": self.subject_to_thresholding,
            "sampled": self.sampled,
            "data_loss_from_other_row": self.data_loss_from_other_row,
            "data_truncated": self.data_truncated,
            "data_truncation_reasons": "; ".join(self.data_truncation_reasons) or None,
            "ga4_time_zone": self.time_zone or None,
        }

    @classmethod
    def from_columns(cls, row: Mapping[str, Any]) -> ReportFlags:
        """Rows stored before the reasons or the time zone were recorded hold NULL: none, and London."""
        reasons = row["data_truncation_reasons"]
        return cls(
            subject_to_thresholding=bool(row["subject_to_thresholding"]),
            sampled=bool(row["sampled"]),
            data_loss_from_other_row=bool(row["data_loss_from_other_row"]),
            data_truncation_reasons=tuple(reasons.split("; ")) if reasons else (),
            time_zone=row["ga4_time_zone"] or LONDON_TIME_ZONE,
        )


@dataclass(frozen=True)
class SessionCounts:
    started: int = 0
    completed: int = 0


def journeys_answer(rows: Iterable[Mapping[str, object]], months: Sequence[Month]) -> Answer[SessionCounts]:
    """The export's answer (rows of `month` `YYYY-MM`, `started`, `completed`) for `months`, checked: each
    count a whole number, 0 or more, no more journeys completed than started, each month once. A row for a
    month outside the query's window (from the first of `months` to the last) is ignored and reported; one
    inside it but not among `months` (a month not settled between two that are) is not wanted, and dropped. A
    settled month the answer does not name had no session on a start page."""
    check = AnswerCheck(months_between(min(months), max(months)))
    counted: dict[Month, SessionCounts] = {}
    for row in rows:
        month = check.month_named(row.get("month"))
        if month is None or not check.once(month):
            continue
        started, completed = row.get("started"), row.get("completed")
        counts = SessionCounts(
            check.count(month, started, "journeys started"),
            check.count(month, completed, "journeys completed"),
        )
        if is_count(started) and is_count(completed) and counts.completed > counts.started:
            check.fault(
                month,
                f"has {counts.completed} journeys completed but {counts.started} started, and completions "
                "never exceed starts",
            )
        counted[month] = counts
    return check.answer({month: counted.get(month, SessionCounts()) for month in months}, among=months)


@dataclass(frozen=True)
class ApplicationCounts:
    """The Make an LPA database's own view of the month: LPAs started, and LPAs created."""

    started: int = 0
    created: int = 0

    @property
    def completion_rate_percent(self) -> float | None:
        """LPAs created per 100 started, one decimal, half-up; None when none were started."""
        return float(percentage(self.created, self.started, 1)) if self.started else None

    def columns(self) -> dict[str, object]:
        return {
            "database_lpas_started": self.started,
            "database_lpas_created": self.created,
            "database_completion_rate_percent": self.completion_rate_percent,
        }

    @classmethod
    def from_columns(cls, row: Mapping[str, Any]) -> ApplicationCounts | None:
        """None when the store holds no database figure (no applications table)."""
        if row["database_lpas_started"] is None:
            return None
        return cls(row["database_lpas_started"], row["database_lpas_created"])


@dataclass(frozen=True)
class DataApiComparison:
    """The Data API's ratio for a month the export counted exactly: kept beside the exact figure, and never
    published, so that the two can be compared."""

    started: int = 0
    completed: int = 0

    @property
    def completion_rate_percent(self) -> float | None:
        return float(percentage(self.completed, self.started, 1)) if self.started else None

    def columns(self) -> dict[str, object]:
        return {
            "data_api_sessions_started": self.started,
            "data_api_sessions_completed": self.completed,
            "data_api_completion_rate_percent": self.completion_rate_percent,
        }

    @classmethod
    def from_columns(cls, row: Mapping[str, Any]) -> DataApiComparison | None:
        """None when the month has no comparison (the Data API's own month, or no property to ask)."""
        if row.get("data_api_sessions_started") is None:
            return None
        return cls(row["data_api_sessions_started"], row["data_api_sessions_completed"])


@dataclass(frozen=True)
class CompletionRate:
    """A month of the `completion_rate` asset: what flows to the dataset and is kept in the metrics store.
    `applications` is None when the Make an LPA database has no applications table to cross-check with;
    `method` says which source counted it (`queries.bigquery_export.EXPORT_JOURNEYS` or `DATA_API_RATIO`),
    and `data_api` holds the Data API's ratio beside an exact month, for comparison."""

    month: Month
    sessions_started: int
    sessions_completed: int
    completion_rate_percent: float | None
    flags: ReportFlags
    applications: ApplicationCounts | None
    not_available_reason: str | None
    method: str = DATA_API_RATIO
    data_api: DataApiComparison | None = None
    blocked_by: str | None = None  # why a blocking check withholds the month from publication

    @property
    def ga4_time_zone(self) -> str | None:
        return self.flags.time_zone or None


def not_london_months(month: Month, time_zone: str) -> str:
    """Why a month's rate is not published when GA4's months are not London months."""
    return (
        f"the GA4 property's reporting time zone is {time_zone or 'not reported'}, so GA4's month "
        f"{month} is a {time_zone or 'unknown'} month, not a London month: the completion rate is not "
        f"published for it. Set the property's reporting time zone to {LONDON_TIME_ZONE} in GA4 Admin "
        "(Property details), then re-run the month"
    )


def exact_completion_rate(
    month: Month,
    counts: SessionCounts | str | None,
    why_not: str | None,
    applications: ApplicationCounts | None = None,
    data_api: DataApiComparison | None = None,
) -> CompletionRate:
    """The month counted in the export: sessions that completed the journey per 100 that began it, one
    decimal, half-up (at most 100 by construction); none, with `why_not`, when the export cannot count the
    whole month, none with why when its answer for the month was wrong (`counts` the reason), and none when
    no session began it."""
    if isinstance(counts, str):
        counts, rate, reason = SessionCounts(), None, counts
    elif counts is None:
        counts, rate, reason = SessionCounts(), None, why_not
    elif counts.started == 0:
        rate, reason = None, f"the export holds no session on a start page in {month}"
    else:
        rate, reason = float(percentage(counts.completed, counts.started, 1)), None
    flags = ReportFlags()  # the export has no thresholding, sampling or "(other)" row
    started, completed = counts.started, counts.completed
    return CompletionRate(
        month, started, completed, rate, flags, applications, reason, EXPORT_JOURNEYS, data_api
    )


def completion_rate(
    month: Month,
    counts: SessionCounts | str,
    flags: ReportFlags,
    applications: ApplicationCounts | None = None,
) -> CompletionRate:
    """Sessions that reached the applicant page per 100 that reached a start page, one decimal, half-up.

    The ratio is of two session counts, not of journeys, so save-and-return users can push it past 100:
    the figure is computed as it is and the quality checks decide whether it may be published. GA4's
    months are in the property's time zone: unless that is London, no rate is given for them. A month GA4
    answered wrongly (`counts` the reason) has none either.
    """
    if isinstance(counts, str):
        counts, rate, reason = SessionCounts(), None, counts
    elif not flags.london_months:
        rate, reason = None, not_london_months(month, flags.time_zone)
    elif counts.started == 0:
        rate, reason = None, f"GA4 reports no sessions on a start page in {month}"
    else:
        rate, reason = float(percentage(counts.completed, counts.started, 1)), None
    return CompletionRate(month, counts.started, counts.completed, rate, flags, applications, reason)


def month_figures(
    month: Month,
    export: Coverage | None,
    journeys: SessionCounts | str | None,
    data_api: tuple[SessionCounts | str, ReportFlags] | None,
    applications: ApplicationCounts | None,
) -> CompletionRate:
    """The month's figure from the source its months call for, never a mix within a month:

    - the export not read (`export` None): the Data API's ratio, as before the export was a source;
    - a month before the export's first daily table: the Data API's ratio, when its property is set;
    - otherwise the export's journeys (`journeys`, for a settled month), with the Data API's ratio beside
      it when its property is set; a month the export cannot yet count whole is left out, with why.

    A source's wrong answer for the month (a reason in place of its counts) leaves the figure out, with the
    reason; a wrong Data API answer beside an exact month is no comparison.
    """
    if export is None or export.before_export:
        if data_api is None:
            why = f"{month} is before the export's first daily table, and no GA4 property is set to count it"
            return exact_completion_rate(month, None, why, applications)
        return completion_rate(month, data_api[0], data_api[1], applications)
    comparison = None
    if data_api is not None and data_api[1].london_months and isinstance(data_api[0], SessionCounts):
        comparison = DataApiComparison(data_api[0].started, data_api[0].completed)
    counted = journeys if export.settled else None
    return exact_completion_rate(month, counted, export.reason, applications, comparison)
