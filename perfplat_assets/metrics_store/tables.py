"""The metrics store's schema: per service, one table per asset, one row per month (or per month and
dataType), and the service's publication record; and the tables every service shares.

Each asset's table is declared once, beside its asset, as a template (`stored_asset`, on `templates`); each
service gets its own copy of every template, named `<service>__<template>` (`service_table`), so that the
services' months, publications and journals never meet. `month` holds the partition key (`YYYY-MM-01`).
These tables are perfplat's long-term record: the services delete feedback after two years, so the
aggregates here are the only history.
"""

from __future__ import annotations

from dataclasses import dataclass
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

# What the store creates: the tables every service shares, and each service's copies of the templates.
metadata = MetaData()
# Each service's tables, declared once: what `service_table` copies for a service.
templates = MetaData()

# Each stored asset's template and the figures a month of it is (see `common.columns` for how one maps to the
# other), as the asset's own folder registers them with `stored_asset`.
STORED_TEMPLATES: dict[str, tuple[Table, type[Any]]] = {}
# Each service's copy of a stored asset's table, by its name (`<service>__<asset>`, the asset key's path
# joined with `__`), and the figures its rows hold: what the IO manager reads and writes.
STORED_ASSETS: dict[str, tuple[Table, type[Any]]] = {}
SEPARATOR = "__"  # between a service's name and its table's


def stored_asset(table: Table, figures: type[Any]) -> Table:
    """Register an asset's table template (on `templates`, named after the asset) and the figures its rows
    hold. Each service's copy is made by `service_table`.

    The template is declared with its asset, so the store imports no measure. A store creates the tables
    made when it first connects: whatever builds one for the pipeline (the code location, the `perfplat`
    command, through `configuration`) imports `perfplat_assets.store_schema`, which makes them all."""
    if table.metadata is not templates:
        raise ValueError(f"{table.name} is not on the metrics store's templates")
    STORED_TEMPLATES[table.name] = (table, figures)
    return table


def table_name(service: str, template: str) -> str:
    """A service's copy of a template: `make_an_lpa__published_records`."""
    return f"{service}{SEPARATOR}{template}"


def service_table(service: str, template: Table) -> Table:
    """The service's own copy of `template` (made, and registered with the store, the first time)."""
    if template.metadata is not templates:
        raise ValueError(f"{template.name} is not a template of the metrics store's tables")
    name = table_name(service, template.name)
    table = metadata.tables.get(name)
    if table is None:
        table = template.to_metadata(metadata, name=name)
        if template.name in STORED_TEMPLATES:
            STORED_ASSETS[name] = (table, STORED_TEMPLATES[template.name][1])
    return table


def measure_table(name: str, figures: type[Any], *columns: Column) -> Table:
    """A measure's table template, registered: its month, its own `columns`, then why a month has no figure
    and why a blocking check withholds it."""
    table = Table(name, templates, month_column(), *columns, not_available_column(), blocked_by_column())
    return stored_asset(table, figures)


def month_column() -> Column:
    return Column("month", String(10), primary_key=True, comment="The month (YYYY-MM-01, Europe/London).")


def blocked_by_column() -> Column:
    return Column("blocked_by", Text, comment="Why a blocking check withholds the month from publication.")


def not_available_column() -> Column:
    return Column(
        "not_available_reason", Text, comment="Why there is no figure for the month, if there is none."
    )


# A service's publication record: the templates below, copied for each service.
published_records = Table(
    "published_records",
    templates,
    month_column(),
    Column("data_type", String(60), primary_key=True),
    Column("count", Float, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),
    Column("import_id", Integer),  # set when the value came from an imported published file (`imports`)
    # Set for an imported month whose published values disagree with each other (a percentage its own
    # counts do not give): adopted as published all the same, and marked in notes.md.
    Column("inconsistent", Text),
    # True for a value computed from the embedded sample's synthetic sources: every file it is published in
    # says so, and a series holding such values never takes real ones (nor real ones these).
    Column("synthetic", Boolean),
)

# Provenance of imported published history: which file (by digest), when, and what it brought.
imports = Table(
    "imports",
    templates,
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
    templates,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("month", String(10), nullable=False, index=True),
    Column("data_type", String(60), nullable=False),
    Column("previous_count", Float),
    Column("new_count", Float),
    Column("revised_at", DateTime(timezone=True), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("publication_id", Integer),  # the journal entry; NULL for revisions made before the journal
)

# The publication journal: one row per publication of the service, written before any target is touched.
# `state` is `applying` until every target holds the publication (`applied`) or it was undone everywhere
# (`undone`); `targets` maps each target to planned, applied, failed or undone (JSON).
publications = Table(
    "publications",
    templates,
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

# Shared by every service. Every version perfplat made in a publication directory, with its files' names and
# sha256 digests (JSON): what the directory target trusts, since anything inside it could have been planted.
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


# The templates of a service's publication record, in the order they are created.
PUBLICATION_RECORD = (published_records, imports, revisions, publications)


@dataclass(frozen=True)
class PublicationRecord:
    """A service's own copies of the publication record's tables."""

    published_records: Table
    imports: Table
    revisions: Table
    publications: Table


def publication_record(service: str) -> PublicationRecord:
    """The publication record of the service named `service`."""
    return PublicationRecord(*(service_table(service, template) for template in PUBLICATION_RECORD))
