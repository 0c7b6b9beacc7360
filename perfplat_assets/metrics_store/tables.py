"""The metrics store's schema: one table per asset, one row per month (or per month and dataType).

`month` holds the partition key (`YYYY-MM-01`). These tables are perfplat's long-term record: the service
deletes feedback after two years, so the aggregates here are the only history.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from perfplat_assets import asset_names
from perfplat_assets.completion_rate.rate import CompletionRate
from perfplat_assets.digital_take_up.take_up import DigitalTakeUp
from perfplat_assets.publication.records import DatasetValue
from perfplat_assets.uptime.availability import Uptime
from perfplat_assets.user_satisfaction.scoring import Rating, UserSatisfaction

metadata = MetaData()


def _month() -> Column:
    return Column("month", String(10), primary_key=True, comment="The month (YYYY-MM-01, Europe/London).")


def _blocked_by() -> Column:
    return Column("blocked_by", Text, comment="Why a blocking check withholds the month from publication.")


def _not_available() -> Column:
    return Column(
        "not_available_reason", Text, comment="Why there is no figure for the month, if there is none."
    )


user_satisfaction = Table(
    asset_names.USER_SATISFACTION,
    metadata,
    _month(),
    *(
        Column(
            rating.column, Integer, nullable=False, comment=f"Responses rating the service '{rating.label}'."
        )
        for rating in Rating
    ),
    Column(
        "unknown_ratings",
        Integer,
        nullable=False,
        comment="Responses with a rating that is none of the five.",
    ),
    Column(
        "total_responses", Integer, nullable=False, comment="The database's own count of rated responses."
    ),
    Column("satisfaction_percent", Integer, comment="The published percentage, by the month's method."),
    Column("method", String(40), nullable=False, comment="The satisfaction method in force that month."),
    _not_available(),
    _blocked_by(),
)

digital_take_up = Table(
    asset_names.DIGITAL_TAKE_UP,
    metadata,
    _month(),
    Column("digital_applications", Integer, comment="LPA applications made from a Make an LPA form."),
    Column("total_applications", Integer, comment="LPA applications received in the month."),
    Column("take_up_percent", Float, comment="Digital applications per 100, one decimal place."),
    Column("source", String(40), nullable=False, comment="Sirius, or the product team's figures file."),
    Column("note", Text, nullable=False, comment="The figures file's note for the month."),
    _not_available(),
    _blocked_by(),
)

completion_rate = Table(
    asset_names.COMPLETION_RATE,
    metadata,
    _month(),
    Column("sessions_started", Integer, nullable=False, comment="GA4 sessions that reached a start page."),
    Column(
        "sessions_completed", Integer, nullable=False, comment="GA4 sessions that reached 'who is applying'."
    ),
    Column("completion_rate_percent", Float, comment="Completed per 100 started, one decimal place."),
    Column("subject_to_thresholding", Boolean, nullable=False, comment="GA4 withheld small counts."),
    Column("sampled", Boolean, nullable=False, comment="GA4 answered from a sample."),
    Column("data_loss_from_other_row", Boolean, nullable=False, comment="GA4 folded rows into '(other)'."),
    # NULL in the three columns below: stored before perfplat recorded them.
    Column("data_truncated", Boolean, comment="GA4's data_truncation_reasons were raised."),
    Column("data_truncation_reasons", Text, comment="GA4's reasons for truncating the data."),
    Column("ga4_time_zone", String(64), comment="The property's reporting time zone GA4's months are in."),
    # The Make an LPA database's own figure for the month, for the cross-check (NULL: no applications table).
    Column("database_lpas_started", Integer, comment="LPAs started, in the Make an LPA database."),
    Column("database_lpas_created", Integer, comment="LPAs created, in the Make an LPA database."),
    Column("database_completion_rate_percent", Float, comment="Created per 100 started, from the database."),
    _not_available(),
    _blocked_by(),
)

uptime = Table(
    asset_names.UPTIME,
    metadata,
    _month(),
    Column("hours_in_month", Integer, nullable=False, comment="Hours in the month (743 to 745 in London)."),
    Column("hours_with_data", Integer, nullable=False, comment="Hours with health-check data."),
    Column("uptime_percent", Float, comment="The share of the month found healthy, two decimal places."),
    _not_available(),
    _blocked_by(),
)

performance_dataset = Table(
    asset_names.PERFORMANCE_DATASET,
    metadata,
    _month(),
    Column("data_type", String(60), primary_key=True, comment="The published dataType."),
    Column("count", Float, nullable=False, comment="The value published under it."),
    _blocked_by(),
)

published_records = Table(
    "published_records",
    metadata,
    _month(),
    Column("data_type", String(60), primary_key=True),
    Column("count", Float, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("import_id", Integer),  # set when the value came from an imported published file (`imports`)
)

# Provenance of imported published history: which file (by digest), when, and what it brought.
imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("source", Text, nullable=False),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("records_in_file", Integer, nullable=False),
    Column("records_imported", Integer, nullable=False),
)


# Append-only: every change to a value already published, and the run that made it.
revisions = Table(
    "revisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("month", String(10), nullable=False, index=True),
    Column("data_type", String(60), nullable=False),
    Column("previous_count", Float),
    Column("new_count", Float),
    Column("revised_at", DateTime(timezone=True), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("publication_id", Integer),  # the journal entry; NULL for revisions made before the journal
)

# The publication journal: one row per publication, written before any target is touched. `state` is
# `applying` until every target holds the publication (`applied`) or it was undone everywhere (`undone`);
# `targets` maps each target to planned, applied, failed or undone (JSON).
publications = Table(
    "publications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("months", Text, nullable=False),  # partition keys, comma-separated
    Column("plan_digest", String(64), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("state", String(20), nullable=False, index=True),
    Column("targets", Text, nullable=False),
    Column("note", Text),
)

# Every version perfplat made in a publication directory, with its files' names and sha256 digests (JSON):
# what the directory target trusts, since anything inside the directory could have been planted there.
directory_versions = Table(
    "directory_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("directory", Text, nullable=False, index=True),
    Column("version", String(100), nullable=False),
    Column("files", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("directory", "version"),
)

TABLES = {table.name: table for table in metadata.sorted_tables}

# Each stored asset's table and the figures a month of it is (see `common.columns` for how one maps to the
# other).
STORED_ASSETS: dict[str, tuple[Table, type[Any]]] = {
    asset_names.USER_SATISFACTION: (user_satisfaction, UserSatisfaction),
    asset_names.DIGITAL_TAKE_UP: (digital_take_up, DigitalTakeUp),
    asset_names.COMPLETION_RATE: (completion_rate, CompletionRate),
    asset_names.UPTIME: (uptime, Uptime),
    asset_names.PERFORMANCE_DATASET: (performance_dataset, DatasetValue),
}
