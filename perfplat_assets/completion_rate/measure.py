"""The completion rate, declared once: its table in the metrics store (a month's sessions, GA4's flags and
the database's cross-check) and what is published from it."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Float, Integer, String, Table, Text

from perfplat_assets.common.measure import PERCENTAGE, DataType, Measure
from perfplat_assets.completion_rate.checks import CHECKS
from perfplat_assets.completion_rate.ga4_report import GA4_RUN_TAG
from perfplat_assets.completion_rate.rate import CompletionRate
from perfplat_assets.metrics_store.tables import (
    blocked_by_column,
    metadata,
    month_column,
    not_available_column,
    stored_asset,
)

NAME = "completion_rate"

table = stored_asset(
    Table(
        NAME,
        metadata,
        month_column(),
        Column(
            "sessions_started", Integer, nullable=False, comment="GA4 sessions that reached a start page."
        ),
        Column(
            "sessions_completed",
            Integer,
            nullable=False,
            comment="GA4 sessions that reached 'who is applying'.",
        ),
        Column("completion_rate_percent", Float, comment="Completed per 100 started, one decimal place."),
        Column("subject_to_thresholding", Boolean, nullable=False, comment="GA4 withheld small counts."),
        Column("sampled", Boolean, nullable=False, comment="GA4 answered from a sample."),
        Column(
            "data_loss_from_other_row", Boolean, nullable=False, comment="GA4 folded rows into '(other)'."
        ),
        # NULL in the three columns below: stored before perfplat recorded them.
        Column("data_truncated", Boolean, comment="GA4's data_truncation_reasons were raised."),
        Column("data_truncation_reasons", Text, comment="GA4's reasons for truncating the data."),
        Column(
            "ga4_time_zone", String(64), comment="The property's reporting time zone GA4's months are in."
        ),
        # The Make an LPA database's own figure for the month, for the cross-check (NULL: no applications
        # table).
        Column("database_lpas_started", Integer, comment="LPAs started, in the Make an LPA database."),
        Column("database_lpas_created", Integer, comment="LPAs created, in the Make an LPA database."),
        Column(
            "database_completion_rate_percent", Float, comment="Created per 100 started, from the database."
        ),
        not_available_column(),
        blocked_by_column(),
    ),
    CompletionRate,
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
    note="Sessions that reached the 'who is applying' page (the LPA is created) per 100 sessions that "
    "reached a page starting a new LPA, from Google Analytics 4, one decimal place. GA4 counts sessions, not "
    "journeys, so users who return to finish an LPA can push the ratio up; a month over 100 is withheld",
    settles=True,  # GA4's figures for a month settle in the days after it closes
    run_tags={GA4_RUN_TAG: "true"},  # GA4's run-level concurrency limit
)
