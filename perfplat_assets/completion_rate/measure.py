"""The completion rate, declared once: its table in the metrics store (a month's sessions, GA4's flags and
the database's cross-check) and what is published from it."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Integer, String, Text

from perfplat_assets.common.measure import PERCENTAGE, DataType, Measure
from perfplat_assets.completion_rate.calculation import CompletionRate
from perfplat_assets.completion_rate.checks import CHECKS
from perfplat_assets.completion_rate.queries.bigquery_export import DATA_API_RATIO, EXPORT_JOURNEYS
from perfplat_assets.metrics_store.tables import measure_table

NAME = "completion_rate"

# GA4 allows 10 concurrent requests per property, shared with its other users; perfplat takes at most this
# many. Two guards hold it, and every dagster.yaml states it (a test checks they agree): runs carrying
# GA4_RUN_TAG are limited under `tag_concurrency_limits`, and the completion_rate step's pool, GA4_POOL,
# shares `pools.default_limit` slots across every run, however it was launched (a UI backfill tags nothing).
GA4_CONCURRENCY_LIMIT = 3
GA4_RUN_TAG = "perfplat/ga4"
GA4_POOL = "ga4"

table = measure_table(
    NAME,
    CompletionRate,
    Column("sessions_started", Integer, nullable=False, comment="GA4 sessions that reached a start page."),
    Column(
        "sessions_completed",
        Integer,
        nullable=False,
        comment="GA4 sessions that reached 'who is applying'.",
    ),
    Column("completion_rate_percent", Float, comment="Completed per 100 started, one decimal place."),
    Column("subject_to_thresholding", Boolean, nullable=False, comment="GA4 withheld small counts."),
    Column("sampled", Boolean, nullable=False, comment="GA4 answered from a sample."),
    Column("data_loss_from_other_row", Boolean, nullable=False, comment="GA4 folded rows into '(other)'."),
    # NULL in the three columns below: stored before perfplat recorded them.
    Column("data_truncated", Boolean, comment="GA4's data_truncation_reasons were raised."),
    Column("data_truncation_reasons", Text, comment="GA4's reasons for truncating the data."),
    Column("ga4_time_zone", String(64), comment="The property's reporting time zone GA4's months are in."),
    # The Make an LPA database's own figure for the month, for the cross-check (NULL: no applications
    # table).
    Column("database_lpas_started", Integer, comment="LPAs started, in the Make an LPA database."),
    Column("database_lpas_created", Integer, comment="LPAs created, in the Make an LPA database."),
    Column("database_completion_rate_percent", Float, comment="Created per 100 started, from the database."),
    # NULL below: stored before the export was a source (the Data API's ratio, without a comparison).
    Column("method", String(40), comment="Which source counted it: the export's journeys or the Data API."),
    Column("data_api_sessions_started", Integer, comment="Beside an exact month: the Data API's started."),
    Column(
        "data_api_sessions_completed", Integer, comment="Beside an exact month: the Data API's completed."
    ),
    Column("data_api_completion_rate_percent", Float, comment="Beside an exact month: the Data API's ratio."),
)


def _values(month: CompletionRate) -> dict[str, float] | None:
    percent = month.completion_rate_percent
    return None if percent is None else {"completion-rate": percent}


COMPLETION_RATE = Measure(
    name=NAME,
    home=__package__,
    title="Completion rate",
    figures=CompletionRate,
    table=table,
    data_types=(
        DataType(
            "completion-rate",
            "Completion rate",
            "per cent",
            PERCENTAGE,
        ),
    ),
    values=_values,
    checks=CHECKS,
    note="Sessions that began an LPA and reached the 'who is applying' page (the LPA is created), per 100 "
    "sessions that began one, from Google Analytics 4, one decimal place; a month over 100 is withheld",
    methods={
        EXPORT_JOURNEYS: "journeys in GA4's BigQuery export: a session (user_pseudo_id and ga_session_id) "
        "started if it viewed a start page (/user/dashboard/create, /user/dashboard/create/<digits> or "
        "/lpa/type) and completed if it viewed the 'who is applying' page (/lpa/<digits>/applicant) "
        "no earlier than its first start-page view and within 24 hours of it; page_view events of the "
        "daily tables only, the page being the path of page_location without query string or fragment "
        "(any host, case sensitive, one trailing slash allowed); each session in the Europe/London "
        "month of its first start-page view; completed per 100 started, half-up to one decimal (at "
        "most 100)",
        DATA_API_RATIO: "GA4 Data API ratio: sessions that viewed the 'who is applying' page per 100 "
        "sessions that viewed a start page, two counts GA4 makes independently (save-and-return users can "
        "push it over 100)",
    },
    # Before the export was a source, every month was the Data API's ratio.
    default_methods=f"2021-03:{DATA_API_RATIO}",
    settles=True,  # GA4's figures for a month settle in the days after it closes
    run_tags={GA4_RUN_TAG: "true"},  # GA4's run-level concurrency limit
)
