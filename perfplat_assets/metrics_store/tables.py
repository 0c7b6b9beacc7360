"""The metrics store's schema: one table per asset, one row per month (or per month and dataType).

`month` holds the partition key (`YYYY-MM-01`). These tables are perfplat's long-term record: the service
deletes feedback after two years, so the aggregates here are the only history.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Float, Integer, MetaData, String, Table, Text

metadata = MetaData()


def _month() -> Column:
    return Column("month", String(10), primary_key=True)


user_satisfaction = Table(
    "user_satisfaction",
    metadata,
    _month(),
    Column("very_satisfied", Integer, nullable=False),
    Column("satisfied", Integer, nullable=False),
    Column("neither", Integer, nullable=False),
    Column("dissatisfied", Integer, nullable=False),
    Column("very_dissatisfied", Integer, nullable=False),
    Column("unknown_ratings", Integer, nullable=False),
    Column("total_responses", Integer, nullable=False),
    Column("satisfaction_percent", Integer),
    Column("method", String(40), nullable=False),
    Column("not_available_reason", Text),
    Column("blocked_by", Text),  # why a check withholds the month from publication
)

digital_take_up = Table(
    "digital_take_up",
    metadata,
    _month(),
    Column("digital_applications", Integer),
    Column("total_applications", Integer),
    Column("take_up_percent", Float),
    Column("source", String(40), nullable=False),
    Column("note", Text, nullable=False),
    Column("not_available_reason", Text),
    Column("blocked_by", Text),  # why a check withholds the month from publication
)

completion_rate = Table(
    "completion_rate",
    metadata,
    _month(),
    Column("sessions_started", Integer, nullable=False),
    Column("sessions_completed", Integer, nullable=False),
    Column("completion_rate_percent", Float),
    Column("subject_to_thresholding", Boolean, nullable=False),
    Column("sampled", Boolean, nullable=False),
    Column("data_loss_from_other_row", Boolean, nullable=False),
    # GA4's `metadata.data_truncation_reasons` (NULL: stored before perfplat recorded them).
    Column("data_truncated", Boolean),
    Column("data_truncation_reasons", Text),
    # The property's reporting time zone, which GA4's months are in (NULL: stored before it was recorded).
    Column("ga4_time_zone", String(64)),
    # The Make an LPA database's own figure for the month, for the cross-check (NULL: no applications table).
    Column("database_lpas_started", Integer),
    Column("database_lpas_created", Integer),
    Column("database_completion_rate_percent", Float),
    Column("not_available_reason", Text),
    Column("blocked_by", Text),  # why a check withholds the month from publication
)

uptime = Table(
    "uptime",
    metadata,
    _month(),
    Column("hours_in_month", Integer, nullable=False),
    Column("hours_with_data", Integer, nullable=False),
    Column("uptime_percent", Float),
    Column("not_available_reason", Text),
    Column("blocked_by", Text),  # why a check withholds the month from publication
)

performance_dataset = Table(
    "performance_dataset",
    metadata,
    _month(),
    Column("data_type", String(60), primary_key=True),
    Column("count", Float, nullable=False),
    Column("blocked_by", Text),
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

TABLES = {table.name: table for table in metadata.sorted_tables}
