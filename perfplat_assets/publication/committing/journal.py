"""The publication journal in the metrics store: the snapshot a plan is built from, the commit point, each
target's state, and the compensating step that undoes a publication in the store.

The store is the source of truth. A publication commits its rows, its revisions and its journal entry
(`applying`) in one transaction before any target is touched; the targets are then brought into line and
the entry marked `applied`. An entry left `applying` is completed by the next publication, as is one an
import of published history journals (`history/importing.py`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from perfplat_assets.common.columns import to_row
from perfplat_assets.common.database import failure
from perfplat_assets.common.errors import SourceUnavailable
from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service
from perfplat_assets.measures import method_measures
from perfplat_assets.metrics_store.resources import SETTING, MetricsStore
from perfplat_assets.metrics_store.tables import publication_record, service_table
from perfplat_assets.publication.committing.plan import Pair, PublicationPlan, StoreSnapshot

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
    note: str | None = None  # for an import, where from ("imported from <path>")

    @property
    def imported(self) -> bool:
        return self.run_id.startswith(IMPORT_RUN_PREFIX)


@contextmanager
def in_store(store: MetricsStore, doing: str) -> Iterator[None]:
    """Work on the store, its errors as one clear sentence (`StoreFailed`): a lost connection is not a schema
    problem."""
    try:
        yield
    except SourceUnavailable as error:
        raise StoreFailed(f"{doing}: {error}") from None
    except DBAPIError as error:
        raise StoreFailed(failure(error, SETTING, store.engine().url, doing)) from None


def read_snapshot(store: MetricsStore, service: Service) -> StoreSnapshot:
    """Everything a plan of `service`'s publication is built from, read in one transaction."""
    record = publication_record(service.name)
    tables = {
        m.name: service_table(service.name, m.table)
        for m in method_measures()
        if m.name in service.measure_names
    }
    with in_store(store, "reading the published values"), store.transaction(commit=False) as connection:
        published = connection.execute(select(record.published_records)).mappings().all()
        revisions = record.revisions
        history = connection.execute(select(revisions).order_by(revisions.c.id)).mappings().all()
        methods = {
            name: connection.execute(select(table.c.month, table.c.method)).all()
            for name, table in tables.items()
        }
    return StoreSnapshot(
        service=service,
        published={(Month.parse(r["month"]), r["data_type"]): r["count"] for r in published},
        adopted={
            (Month.parse(r["month"]), r["data_type"]): r["inconsistent"]
            for r in published
            if r["inconsistent"]
        },
        published_at={Month.parse(r["month"]): r["published_at"] for r in published},
        synthetic=frozenset(Month.parse(r["month"]) for r in published if r["synthetic"]),
        revision_history=[dict(row) for row in history],
        methods={
            # A row stored before its measure recorded a method holds NULL: its schedule says which.
            name: {Month.parse(month): method for month, method in rows if method}
            for name, rows in methods.items()
        },
    )


def synthetic_months(store: MetricsStore, services: Sequence[Service]) -> dict[str, frozenset[Month]]:
    """By service name, the months of its series computed from the embedded sample."""
    found: dict[str, frozenset[Month]] = {}
    with in_store(store, "reading the published values"), store.transaction(commit=False) as connection:
        for service in services:
            table = publication_record(service.name).published_records
            rows = connection.execute(select(table.c.month).where(table.c.synthetic.is_(True)).distinct())
            found[service.name] = frozenset(Month.parse(month) for (month,) in rows)
    return found


def latest_entries(store: MetricsStore, services: Sequence[Service]) -> dict[str, int]:
    """By service name, the id of its journal's newest entry (0 for none): where a command's own
    publications begin, to say afterwards what it published."""
    found: dict[str, int] = {}
    with in_store(store, "reading the journal"), store.transaction(commit=False) as connection:
        for service in services:
            publications = publication_record(service.name).publications
            newest = connection.execute(select(func.max(publications.c.id))).scalar()
            found[service.name] = int(newest or 0)
    return found


def published_since(
    store: MetricsStore, services: Sequence[Service], since: Mapping[str, int]
) -> dict[str, list[Month]]:
    """By service name, the months of publications applied after the entries `since` (`latest_entries`)."""
    found: dict[str, list[Month]] = {}
    with in_store(store, "reading the journal"), store.transaction(commit=False) as connection:
        for service in services:
            publications = publication_record(service.name).publications
            query = select(publications.c.months).where(
                publications.c.id > since.get(service.name, 0), publications.c.state == APPLIED
            )
            months = {
                Month.parse(key) for (keys,) in connection.execute(query) for key in keys.split(",") if key
            }
            if months:
                found[service.name] = sorted(months)
    return found


def published_values(store: MetricsStore, services: Sequence[Service]) -> dict[str, dict[Pair, float]]:
    """By service name, what each of `services` has published, read in one transaction."""
    found: dict[str, dict[Pair, float]] = {}
    with in_store(store, "reading the published values"), store.transaction(commit=False) as connection:
        for service in services:
            table = publication_record(service.name).published_records
            rows = connection.execute(select(table.c.month, table.c.data_type, table.c.count)).all()
            found[service.name] = {(Month.parse(month), data_type): count for month, data_type, count in rows}
    return found


def incomplete(store: MetricsStore, service: Service) -> list[JournalEntry]:
    """The service's publications whose targets may not all hold them yet, oldest first."""
    publications = publication_record(service.name).publications
    query = select(publications).where(publications.c.state == APPLYING).order_by(publications.c.id)
    with (
        in_store(store, "reading the publication journal"),
        store.transaction(commit=False) as connection,
    ):
        rows = connection.execute(query).mappings().all()
    return [
        JournalEntry(
            id=row["id"],
            months=tuple(Month.parse(key) for key in row["months"].split(",")),
            run_id=row["run_id"],
            targets=json.loads(row["targets"]),
            digest=row["plan_digest"],
            note=row["note"],
        )
        for row in rows
    ]


def first_published(store: MetricsStore, service: Service, month: Month) -> datetime | None:
    """When a run's publication holding `month` first reached every target (its entry `applied`; one that
    a later run completed, when that run did), or None. An import's entry does not count: OPG published
    those months, perfplat only took them over; nor does an undone one, which no target kept."""
    publications = publication_record(service.name).publications
    query = (
        select(publications.c.months, publications.c.finished_at)
        .where(
            publications.c.state == APPLIED,
            publications.c.finished_at.is_not(None),
            ~publications.c.run_id.startswith(IMPORT_RUN_PREFIX, autoescape=True),
            publications.c.months.contains(month.key, autoescape=True),
        )
        .order_by(publications.c.finished_at)
    )
    with (
        in_store(store, f"reading when {service}'s {month} was first published"),
        store.transaction(commit=False) as connection,
    ):
        rows = connection.execute(query).all()
    finished = next((at for months, at in rows if month.key in months.split(",")), None)
    # SQLite keeps no offset: the store writes UTC, so a naive time read back is UTC.
    if finished is None:
        return None
    return finished.replace(tzinfo=UTC) if finished.tzinfo is None else finished.astimezone(UTC)


def journal_entry(
    months: Sequence[str],
    digest: str,
    run_id: str,
    now: datetime,
    targets: Mapping[str, str],
    note: str | None = None,
) -> dict[str, object]:
    """A journal entry's row, `applying`, for `months` (their keys): a publication's, or an import's (no
    targets), which the next publication completes."""
    return {
        "months": ",".join(months),
        "plan_digest": digest,
        "run_id": run_id,
        "started_at": now,
        "state": APPLYING,
        "targets": json.dumps(dict(targets)),
        "note": note,
    }


def commit(
    store: MetricsStore, plan: PublicationPlan, run_id: str, targets: Sequence[str], now: datetime
) -> int:
    """The commit point: the months' rows, their revisions and the journal entry, in one transaction."""
    record = publication_record(plan.service.name)
    keys = [month.key for month in plan.months]
    rows = [
        {
            "month": month.key,
            "data_type": data_type,
            "count": value,
            "published_at": now,
            "synthetic": month in plan.synthetic or None,
        }
        for (month, data_type), value in sorted(plan.values.items())
    ]
    with in_store(store, "recording the publication"), store.transaction() as connection:
        entry = journal_entry(keys, plan.digest, run_id, now, dict.fromkeys(targets, PLANNED))
        publication_id = connection.execute(insert(record.publications).values(entry)).inserted_primary_key[0]
        store.replace_months(connection, record.published_records, keys, rows)
        if plan.revisions:
            connection.execute(
                insert(record.revisions),
                [
                    {**to_row(r), "revised_at": now, "run_id": run_id, "publication_id": publication_id}
                    for r in plan.revisions
                ],
            )
    return int(publication_id)


def mark_target(store: MetricsStore, service: Service, publication_id: int, target: str, state: str) -> None:
    publications = publication_record(service.name).publications
    with in_store(store, f"recording {target} as {state}"), store.transaction() as connection:
        current = connection.execute(
            select(publications.c.targets).where(publications.c.id == publication_id)
        ).scalar_one()
        states = json.loads(current) | {target: state}
        connection.execute(
            update(publications).where(publications.c.id == publication_id).values(targets=json.dumps(states))
        )


def finish(
    store: MetricsStore,
    service: Service,
    entries: Sequence[int],
    targets: Sequence[str],
    now: datetime,
    note: str | None = None,
) -> None:
    """Every target holds these publications of the service."""
    publications = publication_record(service.name).publications
    values = {"state": APPLIED, "finished_at": now, "targets": json.dumps(dict.fromkeys(targets, APPLIED))}
    with in_store(store, "marking the publication complete"), store.transaction() as connection:
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
            "synthetic": month in snapshot.synthetic or None,
        }
        for (month, data_type), value in sorted(snapshot.published.items())
        if month in plan.months
    ]
    record = publication_record(plan.service.name)
    publications, revisions = record.publications, record.revisions
    with in_store(store, "undoing the publication"), store.transaction() as connection:
        store.replace_months(connection, record.published_records, keys, previous)
        connection.execute(delete(revisions).where(revisions.c.publication_id == publication_id))
        connection.execute(
            update(publications)
            .where(publications.c.id == publication_id)
            .values(state=UNDONE, finished_at=now, targets=json.dumps(dict.fromkeys(targets, UNDONE)))
        )
