"""The publication directory's versions on record in the metrics store: each version perfplat made, with its
files' names and digests, so that the directory adopts, keeps and prunes only what it made itself."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select, update

from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.metrics_store.tables import directory_versions
from perfplat_assets.publication.committing.journal import in_store


def directory_versions_of(store: MetricsStore, directory: str) -> dict[str, dict[str, str]]:
    """The versions perfplat made in `directory`, each with its files' names and digests."""
    query = select(directory_versions).where(directory_versions.c.directory == directory)
    with (
        in_store(store, "reading the publication directory's versions"),
        store.transaction(commit=False) as connection,
    ):
        rows = connection.execute(query.order_by(directory_versions.c.id)).mappings().all()
    return {row["version"]: json.loads(row["files"]) for row in rows}


def record_directory_version(
    store: MetricsStore, directory: str, version: str, files: Mapping[str, str]
) -> None:
    """On record before the version is written, so every version perfplat made is one it knows."""
    row = {
        "directory": directory,
        "version": version,
        "files": json.dumps(dict(sorted(files.items()))),
        "created_at": datetime.now(UTC),
    }
    with (
        in_store(store, "recording a version of the publication directory"),
        store.transaction() as connection,
    ):
        connection.execute(insert(directory_versions).values(row))


def forget_directory_versions(store: MetricsStore, directory: str, versions: Sequence[str]) -> None:
    """Versions pruned from the directory leave the record."""
    if not versions:
        return
    with (
        in_store(store, "pruning the publication directory's versions"),
        store.transaction() as connection,
    ):
        connection.execute(
            delete(directory_versions).where(
                directory_versions.c.directory == directory, directory_versions.c.version.in_(list(versions))
            )
        )


def move_directory_versions(store: MetricsStore, source: str, destination: str, keep: Sequence[str]) -> None:
    """The record of `source`'s versions becomes `destination`'s, in one transaction, but for `keep` (the
    carry-over of the single-service layout into its service's folder keeps the index's record at the top)."""
    with in_store(store, "moving the publication directory's versions"), store.transaction() as connection:
        connection.execute(
            update(directory_versions)
            .where(directory_versions.c.directory == source, directory_versions.c.version.not_in(list(keep)))
            .values(directory=destination)
        )


def replace_directory_version(
    store: MetricsStore, directory: str, version: str, files: Mapping[str, str]
) -> None:
    """`version`'s record, replaced whole in one transaction: for a record that changes in place (the index's
    digests), where a version's never does."""
    row = {
        "directory": directory,
        "version": version,
        "files": json.dumps(dict(sorted(files.items()))),
        "created_at": datetime.now(UTC),
    }
    with in_store(store, "recording the publication's index"), store.transaction() as connection:
        connection.execute(
            delete(directory_versions).where(
                directory_versions.c.directory == directory, directory_versions.c.version == version
            )
        )
        connection.execute(insert(directory_versions).values(row))
