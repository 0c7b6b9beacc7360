"""The publication journal in the metrics store: the snapshot a plan is built from, the commit point, each
target's state, and the compensating step that undoes a publication in the store.

The store is the source of truth. A publication commits its rows, its revisions and its journal entry
(`applying`) in one transaction before any target is touched; the targets are then brought into line and
the entry marked `applied`. An entry left `applying` is completed by the next publication.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import DBAPIError

from perfplat_assets.common.columns import to_row
from perfplat_assets.common.database import failure
from perfplat_assets.common.errors import SourceUnavailable
from perfplat_assets.common.months import Month
from perfplat_assets.measures import method_measures
from perfplat_assets.metrics_store.resources import SETTING, MetricsStore
from perfplat_assets.metrics_store.tables import (
    directory_versions,
    imports,
    publications,
    published_records,
    revisions,
)
from perfplat_assets.publication.committing.plan import Pair, PublicationPlan, StoreSnapshot
from perfplat_assets.publication.history.reading import PublishedHistory
from perfplat_assets.publication.published_format.records import count_value

APPLYING, APPLIED, UNDONE = "applying", "applied", "undone"  # an entry's states
PLANNED, FAILED = "planned", "failed"  # a target's states, beside APPLIED and UNDONE


class StoreFailed(RuntimeError):
    """The metrics store could not be read or written; the message says what was being done."""


IMPORT_RUN_PREFIX = "import-"  # the run id an import journals its months under


@dataclass(frozen=True)
class JournalEntry:
    id: int
    months: tuple[Month, ...]
    run_id: str
    targets: Mapping[str, str]
    digest: str = ""  # the plan's digest; for an import, the sha256 of the imported file

    @property
    def imported(self) -> bool:
        return self.run_id.startswith(IMPORT_RUN_PREFIX)


@contextmanager
def _store(store: MetricsStore, doing: str) -> Iterator[None]:
    """Store errors as one clear sentence: a lost connection is not a schema problem."""
    try:
        yield
    except SourceUnavailable as error:
        raise StoreFailed(f"{doing}: {error}") from None
    except DBAPIError as error:
        raise StoreFailed(failure(error, SETTING, store.engine().url, doing)) from None


def read_snapshot(store: MetricsStore) -> StoreSnapshot:
    """Everything a plan is built from, read in one transaction."""
    with _store(store, "reading the published values"), store.transaction(commit=False) as connection:
        published = connection.execute(select(published_records)).mappings().all()
        history = connection.execute(select(revisions).order_by(revisions.c.id)).mappings().all()
        methods = {
            measure.name: connection.execute(select(measure.table.c.month, measure.table.c.method)).all()
            for measure in method_measures()
        }
    return StoreSnapshot(
        published={(Month.parse(r["month"]), r["data_type"]): r["count"] for r in published},
        published_at={Month.parse(r["month"]): r["published_at"] for r in published},
        revision_history=[dict(row) for row in history],
        methods={
            # A row stored before its measure recorded a method holds NULL: its schedule says which.
            name: {Month.parse(month): method for month, method in rows if method}
            for name, rows in methods.items()
        },
    )


def incomplete(store: MetricsStore) -> list[JournalEntry]:
    """Publications whose targets may not all hold them yet, oldest first."""
    query = select(publications).where(publications.c.state == APPLYING).order_by(publications.c.id)
    with _store(store, "reading the publication journal"), store.transaction(commit=False) as connection:
        rows = connection.execute(query).mappings().all()
    return [
        JournalEntry(
            id=row["id"],
            months=tuple(Month.parse(key) for key in row["months"].split(",")),
            run_id=row["run_id"],
            targets=json.loads(row["targets"]),
            digest=row["plan_digest"],
        )
        for row in rows
    ]


def commit(
    store: MetricsStore, plan: PublicationPlan, run_id: str, targets: Sequence[str], now: datetime
) -> int:
    """The commit point: the months' rows, their revisions and the journal entry, in one transaction."""
    keys = [month.key for month in plan.months]
    rows = [
        {"month": month.key, "data_type": data_type, "count": value, "published_at": now}
        for (month, data_type), value in sorted(plan.values.items())
    ]
    entry = {
        "months": ",".join(keys),
        "plan_digest": plan.digest,
        "run_id": run_id,
        "started_at": now,
        "state": APPLYING,
        "targets": json.dumps(dict.fromkeys(targets, PLANNED)),
    }
    with _store(store, "recording the publication"), store.transaction() as connection:
        publication_id = connection.execute(insert(publications).values(entry)).inserted_primary_key[0]
        store.replace_months(connection, published_records, keys, rows)
        if plan.revisions:
            connection.execute(
                insert(revisions),
                [
                    {**to_row(r), "revised_at": now, "run_id": run_id, "publication_id": publication_id}
                    for r in plan.revisions
                ],
            )
    return int(publication_id)


def mark_target(store: MetricsStore, publication_id: int, target: str, state: str) -> None:
    with _store(store, f"recording {target} as {state}"), store.transaction() as connection:
        current = connection.execute(
            select(publications.c.targets).where(publications.c.id == publication_id)
        ).scalar_one()
        states = json.loads(current) | {target: state}
        connection.execute(
            update(publications).where(publications.c.id == publication_id).values(targets=json.dumps(states))
        )


def finish(
    store: MetricsStore,
    entries: Sequence[int],
    targets: Sequence[str],
    now: datetime,
    note: str | None = None,
) -> None:
    """Every target holds these publications."""
    values = {"state": APPLIED, "finished_at": now, "targets": json.dumps(dict.fromkeys(targets, APPLIED))}
    with _store(store, "marking the publication complete"), store.transaction() as connection:
        connection.execute(
            update(publications)
            .where(publications.c.id.in_(list(entries)))
            .values(values | ({"note": note} if note else {}))
        )


def compensate(
    store: MetricsStore,
    publication_id: int,
    snapshot: StoreSnapshot,
    plan: PublicationPlan,
    targets: Sequence[str],
    now: datetime,
) -> None:
    """Undo the publication in the store, once every target is back: the months' previous rows return, its
    revisions go, and the entry says `undone`. One transaction, so it happens whole or not at all."""
    keys = [month.key for month in plan.months]
    previous = [
        {
            "month": month.key,
            "data_type": data_type,
            "count": value,
            "published_at": snapshot.published_at[month],
        }
        for (month, data_type), value in sorted(snapshot.published.items())
        if month in plan.months
    ]
    with _store(store, "undoing the publication"), store.transaction() as connection:
        store.replace_months(connection, published_records, keys, previous)
        connection.execute(delete(revisions).where(revisions.c.publication_id == publication_id))
        connection.execute(
            update(publications)
            .where(publications.c.id == publication_id)
            .values(state=UNDONE, finished_at=now, targets=json.dumps(dict.fromkeys(targets, UNDONE)))
        )


@dataclass(frozen=True)
class ImportReport:
    already_imported_at: datetime | None  # set when this very file was imported before: nothing changed
    imported: int
    kept: int  # pairs the store already held with the same value
    differences: tuple[tuple[Pair, float, float], ...]  # (pair, the store's value, the file's), store kept
    publication_id: int | None  # the journal entry that takes the imported months to the targets


def import_history(
    store: MetricsStore, history: PublishedHistory, source: str, now: datetime
) -> ImportReport:
    """Load published history into the store. Precedence: a value the store already holds stays (perfplat
    computed or imported it before) and a different value in the file is reported, never applied; a pair
    the store lacks is loaded with its provenance. The imported months are journalled as a publication to
    complete, so the next publication writes them (and their month files) to every target."""
    with (
        _store(store, "importing published history"),
        store.publication_lock(),
        store.transaction(exclusive=published_records) as connection,
    ):
        before = connection.execute(select(imports.c.imported_at).where(imports.c.digest == history.digest))
        if (earlier := before.scalar_one_or_none()) is not None:
            return ImportReport(earlier, 0, len(history.values), (), None)
        held = {
            (Month.parse(row.month), row.data_type): row.count
            for row in connection.execute(select(published_records)).all()
        }
        new = {pair: value for pair, value in history.values.items() if pair not in held}
        differences = tuple(
            (pair, held[pair], value)
            for pair, value in sorted(history.values.items())
            if pair in held and count_value(pair[1], held[pair]) != count_value(pair[1], value)
        )
        import_id = connection.execute(
            insert(imports).values(
                digest=history.digest,
                source=source,
                imported_at=now,
                records_in_file=len(history.values),
                records_imported=len(new),
            )
        ).inserted_primary_key[0]
        publication_id = None
        if new:
            connection.execute(
                insert(published_records),
                [
                    {"month": m.key, "data_type": t, "count": v, "published_at": now, "import_id": import_id}
                    for (m, t), v in sorted(new.items())
                ],
            )
            months = sorted({month.key for month, _ in new})
            publication_id = connection.execute(
                insert(publications).values(
                    months=",".join(months),
                    plan_digest=history.digest,
                    run_id=f"{IMPORT_RUN_PREFIX}{history.digest[:12]}",
                    started_at=now,
                    state=APPLYING,
                    targets=json.dumps({}),
                    note=f"imported from {source}",
                )
            ).inserted_primary_key[0]
    return ImportReport(
        None, len(new), len(history.values) - len(new) - len(differences), differences, publication_id
    )


def directory_versions_of(store: MetricsStore, directory: str) -> dict[str, dict[str, str]]:
    """The versions perfplat made in `directory`, each with its files' names and digests."""
    query = select(directory_versions).where(directory_versions.c.directory == directory)
    with (
        _store(store, "reading the publication directory's versions"),
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
    with _store(store, "recording a version of the publication directory"), store.transaction() as connection:
        connection.execute(insert(directory_versions).values(row))


def forget_directory_versions(store: MetricsStore, directory: str, versions: Sequence[str]) -> None:
    """Versions pruned from the directory leave the record."""
    if not versions:
        return
    with _store(store, "pruning the publication directory's versions"), store.transaction() as connection:
        connection.execute(
            delete(directory_versions).where(
                directory_versions.c.directory == directory, directory_versions.c.version.in_(list(versions))
            )
        )
