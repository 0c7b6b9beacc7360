"""The metrics store's schema: one table per asset, one row per month (or per month and dataType).

Each asset's table is declared beside its asset and registered here (`stored_asset`); this module holds
the shared `metadata`, the columns every asset's table has, and the publication's record tables.
`month` holds the partition key (`YYYY-MM-01`). These tables are perfplat's long-term record: the service
deletes feedback after two years, so the aggregates here are the only history.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
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

metadata = MetaData()

# Each stored asset's table and the figures a month of it is (see `common.columns` for how one maps to the
# other), as the asset's own folder registers them with `stored_asset`.
STORED_ASSETS: dict[str, tuple[Table, type[Any]]] = {}


def stored_asset(table: Table, figures: type[Any]) -> Table:
    """Register an asset's table (on `metadata`, named after the asset) and the figures its rows hold.

    The table is declared with its asset, so the store imports no measure. A store creates the tables
    registered when it first connects: whatever builds one for the pipeline (the code location, the
    `perfplat` command, through `configuration`) imports `perfplat_assets.store_schema`, which gathers them
    all."""
    if table.metadata is not metadata:
        raise ValueError(f"{table.name} is not on the metrics store's metadata")
    STORED_ASSETS[table.name] = (table, figures)
    return table


def measure_table(name: str, figures: type[Any], *columns: Column) -> Table:
    """A measure's table, registered: its month, its own `columns`, then why a month has no figure and why a
    blocking check withholds it."""
    table = Table(name, metadata, month_column(), *columns, not_available_column(), blocked_by_column())
    return stored_asset(table, figures)


def month_column() -> Column:
    return Column("month", String(10), primary_key=True, comment="The month (YYYY-MM-01, Europe/London).")


def blocked_by_column() -> Column:
    return Column("blocked_by", Text, comment="Why a blocking check withholds the month from publication.")


def not_available_column() -> Column:
    return Column(
        "not_available_reason", Text, comment="Why there is no figure for the month, if there is none."
    )


published_records = Table(
    "published_records",
    metadata,
    month_column(),
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

# The alerts perfplat sent or still owes: one row per alert and channel, so each is delivered once per
# channel, across daemon restarts, and a channel that failed is tried again a bounded number of times.
alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    Column("alert_key", String(200), primary_key=True),
    Column("channel", String(20), primary_key=True),
    Column("title", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("last_error", Text),
)
