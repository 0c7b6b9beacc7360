"""Applying a publication plan to every target: everywhere or nowhere, and finished by the next run if a
run is cut short. No Dagster: the asset hands in the store, the targets and a logger.

The order, under the store's publication lock:
1. **Recovery.** A publication the journal shows incomplete is completed first: the targets are brought
   into line with the store (which committed it), idempotently. An import's entry is completed the same
   way, but that is the normal path, not a recovery: the imported history is published for the first time.
2. **Plan.** One snapshot of the store; the whole plan is built and checked, and every target is read.
   Nothing has been written yet, so a refusal here says "Nothing was published".
3. **Commit point.** The store's rows, revisions and journal entry (`applying`) in one transaction.
4. **Apply**, target by target, each recorded in the journal, in the publisher's order: the directory,
   S3, then CKAN.
5. The entry is marked `applied`.

If a target that holds files fails, every target touched goes back to the bytes it held and the store is
reverted by a compensating transaction; if an undo fails, the store keeps the publication and the journal
keeps it `applying`, so the next run completes it. If CKAN fails, the files stay out and CKAN is completed
by the next run. Every failure says what each target holds now.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Protocol

from perfplat_assets.common.errors import SourceUnavailable, clause
from perfplat_assets.common.methods import MethodSchedule
from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service
from perfplat_assets.measures import default_method_schedules
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.publication.committing import journal
from perfplat_assets.publication.committing.journal import APPLIED, FAILED, StoreFailed
from perfplat_assets.publication.committing.plan import (
    PUBLIC_RECORDS,
    Pair,
    PlanRefused,
    PublicationPlan,
    RevisionStamp,
    StoreSnapshot,
    dropped_pairs,
    plan_problems,
    plan_publication,
    read_public_records,
)
from perfplat_assets.publication.committing.target import (
    Change,
    HeldFiles,
    PublicationFailed,
    PublicationTarget,
)

NOT_TOUCHED = "not touched"


class Log(Protocol):
    def info(self, message: str) -> None: ...

    def warning(self, message: str) -> None: ...


@dataclass(frozen=True)
class PublicationRequest:
    service: Service  # whose months they are
    months: Sequence[Month]
    values: Mapping[Pair, float]
    run_id: str
    csv_url: str | None
    last_closed: Month
    dry_run: bool = False
    # By measure, which method was in force when (PERFPLAT_SATISFACTION_METHODS): what the files state for
    # an imported month, which the store holds without one.
    schedules: Mapping[str, MethodSchedule] = field(default_factory=default_method_schedules)
    # The pairs of measures a check blocked in the months asked: their earlier publication stays.
    keep: Collection[Pair] = ()
    # Whether the values come from the embedded sample's synthetic sources (marked in the store, said in
    # every file a person reads).
    synthetic: bool = False


@dataclass
class PublicationOutcome:
    plan: PublicationPlan
    changes: list[Change]
    publication_id: int | None = None  # None for a dry run
    recovered: str | None = None  # what recovery found and did, if anything (a fault an earlier run left)
    # The imported history this run published for the first time (or, for a dry run, would), if any.
    imported_history: str | None = None
    # Imported months this run wrote to the targets, with the sha256 of the file they came from.
    imported: Mapping[Month, str] = field(default_factory=dict)


def publish(
    store: MetricsStore, targets: Sequence[PublicationTarget], request: PublicationRequest, log: Log
) -> PublicationOutcome:
    """Publish `request.months` to every target, or to none; raises `PublicationFailed` saying what each
    target holds."""
    try:
        with store.publication_lock() as lock_held:
            recovered, history, imported = _recover(store, targets, request, log)
            snapshot = _snapshot(store, request)
            now = datetime.now(UTC)
            plan = _checked_plan(snapshot, request, now)
            current = _read(targets, plan)
            changes = [change for t in targets for change in t.changes(plan, current[t.name])]
            if request.dry_run:
                return PublicationOutcome(plan, changes, recovered=recovered, imported_history=history)
            publication_id = _commit(store, plan, request.run_id, targets, now)
            _Committed(store, targets, plan, current, publication_id, snapshot).apply(log)
            _finish(store, plan, targets, publication_id, lock_held)
    except (StoreFailed, SourceUnavailable) as error:  # before the commit point: nothing was written
        raise PublicationFailed(f"{clause(error)}. Nothing was published") from None
    return PublicationOutcome(plan, changes, publication_id, recovered, history, imported)


def _commit(
    store: MetricsStore,
    plan: PublicationPlan,
    run_id: str,
    targets: Sequence[PublicationTarget],
    now: datetime,
) -> int:
    """The commit point, before any target is touched: if it fails, no target was."""
    try:
        return journal.commit(store, plan, run_id, [t.name for t in targets], now)
    except StoreFailed as error:
        raise PublicationFailed(
            f"{clause(error)}. No target was touched; the journal shows whether the store took the "
            "publication, and the next run completes it if so"
        ) from None


def _finish(
    store: MetricsStore,
    plan: PublicationPlan,
    targets: Sequence[PublicationTarget],
    publication_id: int,
    lock_held: Callable[[], bool],
) -> None:
    """Mark the publication applied, unless the lock was lost meanwhile: then another run may have
    published, and the next run re-applies the store's publication instead."""
    if not lock_held():
        raise PublicationFailed(_lost_lock(plan, targets))
    try:
        journal.finish(store, plan.service, [publication_id], [t.name for t in targets], datetime.now(UTC))
    except StoreFailed as error:
        raise PublicationFailed(
            f"Every target holds the publication of {_months(plan)} and so does the metrics store, "
            f"but {clause(error)}. The journal shows it incomplete; the next run confirms it and changes "
            "nothing"
        ) from None


def _snapshot(store: MetricsStore, request: PublicationRequest) -> StoreSnapshot:
    """What the store holds, with the request's schedules of methods for its imported months."""
    snapshot = journal.read_snapshot(store, request.service)
    return replace(snapshot, schedules={**snapshot.schedules, **request.schedules})


def _checked_plan(snapshot: StoreSnapshot, request: PublicationRequest, now: datetime) -> PublicationPlan:
    try:
        plan = plan_publication(
            snapshot,
            request.months,
            request.values,
            stamp=RevisionStamp(request.run_id, now, request.synthetic),
            csv_url=request.csv_url,
            keep=request.keep,
        )
    except PlanRefused as error:
        raise PublicationFailed(f"{clause(error)}. Nothing was published") from None
    problems = plan_problems(plan, request.last_closed)
    if problems:
        raise PublicationFailed(
            "The publication would not be in OPG's format, so nothing was published: "
            + " | ".join(problems[:10])
        )
    return plan


def _read(targets: Sequence[PublicationTarget], plan: PublicationPlan) -> dict[str, Any]:
    """What every target holds now, and the record-level guard: a pair already public is never dropped
    unless the plan records it as a revision."""
    current = {}
    for target in targets:
        try:
            current[target.name] = target.read_current(plan)
            held = current[target.name]
            public = held.files.get(PUBLIC_RECORDS) if isinstance(held, HeldFiles) else None
            records = read_public_records(public, f"the {target.name} target") if public else []
        except (PublicationFailed, PlanRefused) as error:
            raise PublicationFailed(f"{clause(error)}. Nothing was published") from None
        dropped = dropped_pairs(plan, records)
        if dropped:
            raise PublicationFailed(
                f"{PUBLIC_RECORDS} in the {target.name} target holds "
                f"{', '.join(str(m) for m in sorted({month for month, _ in dropped}))}, which the metrics "
                f"store does not ({len(dropped)} records): publishing would remove them. Point "
                "PERFPLAT_METRICS_DB_URL at the store that published them. Nothing was published"
            )
    return current


def _recover(
    store: MetricsStore, targets: Sequence[PublicationTarget], request: PublicationRequest, log: Log
) -> tuple[str | None, str | None, dict[Month, str]]:
    """Complete every publication the journal shows incomplete, from the store that committed it, before
    anything else. Re-applying is idempotent: a target that already holds it is left as it is. An import's
    entry is the normal path (its history reaches the targets for the first time), told at INFO; any other
    is an earlier run's fault, told as a recovery at WARNING. Returns what recovery found and did, what of
    imported history was published, and the imported months written, each with its file's sha256."""
    entries = journal.incomplete(store, request.service)
    if not entries:
        return None, None, {}
    faults = [entry for entry in entries if not entry.imported]
    imports = [entry for entry in entries if entry.imported]
    found = _incomplete_found(faults, targets) if faults else None
    history = _imported_history(request.service, imports) if imports else None
    if request.dry_run:
        return (
            found and f"{found}: a real run completes it first",
            history and f"{history} is not at every target yet: a real run publishes it first",
            {},
        )
    months = sorted({month for entry in entries for month in entry.months})
    snapshot = _snapshot(store, request)
    values = {pair: value for pair, value in snapshot.published.items() if pair[0] in months}
    stamp = RevisionStamp(request.run_id, datetime.now(UTC))
    plan = plan_publication(snapshot, months, values, stamp=stamp, csv_url=request.csv_url)
    for target in targets:
        try:
            target.apply(plan, target.read_current(plan))
        except PublicationFailed as error:
            what = f"An earlier {found}, and completing it" if found else f"Publishing {history}"
            raise PublicationFailed(
                f"{what} failed at {target.label}: {clause(error)}. The journal keeps it incomplete and "
                f"the next run tries again; {', '.join(map(str, request.months))} was not published"
            ) from None
    journal.finish(
        store,
        request.service,
        [e.id for e in entries],
        [t.name for t in targets],
        datetime.now(UTC),
        request.run_id,
    )
    done = found and f"{found}: completed by this run, every target now holds it"
    if done:
        log.warning(f"recovery: {done}")
    if history:
        history = f"{history} is published for the first time: every target now holds it"
        log.info(history)
    imported = {month: entry.digest for entry in imports for month in entry.months if month in plan.months}
    return done, history, imported


def _imported_history(service: Service, entries: Sequence[journal.JournalEntry]) -> str:
    """The imported history the journal holds for the targets, for people: its span, not every month."""
    months = sorted({month for entry in entries for month in entry.months})
    span = f"{months[0]}" if len(months) == 1 else f"{months[0]} to {months[-1]}, {len(months)} months"
    sources = "; ".join(f"journal entry #{e.id}, {e.note or f'sha256 {e.digest[:12]}'}" for e in entries)
    return f"{service}'s imported history ({span}; {sources})"


def _incomplete_found(entries: Sequence[journal.JournalEntry], targets: Sequence[PublicationTarget]) -> str:
    """What the journal recorded of the incomplete publications, target by target, for people."""
    months = sorted({month for entry in entries for month in entry.months})
    labels = {target.name: target.label for target in targets}
    journalled = "; ".join(
        f"#{e.id}: " + ", ".join(f"{labels.get(t, t)} {state}" for t, state in e.targets.items())
        for e in entries
    )
    return (
        f"publication {', '.join(f'#{e.id}' for e in entries)} of {', '.join(map(str, months))} (run "
        f"{', '.join(dict.fromkeys(e.run_id for e in entries))}; {journalled}) had not reached every target"
    )


@dataclass(frozen=True)
class _Committed:
    """A publication past its commit point: what it is applying, where, over what, and the store to put
    back if it must be undone."""

    store: MetricsStore
    targets: Sequence[PublicationTarget]
    plan: PublicationPlan
    current: Mapping[str, Any]  # what each target held before, as it read it: what an undo restores
    publication_id: int
    snapshot: StoreSnapshot

    def apply(self, log: Log) -> None:
        for index, target in enumerate(self.targets):
            try:
                target.apply(self.plan, self.current[target.name])
            except PublicationFailed as error:
                _record(self.store, self.plan.service, self.publication_id, target.name, FAILED, log)
                if not target.holds_files:
                    files = ", ".join(t.name for t in self.targets[:index])
                    raise PublicationFailed(
                        f"The files are published ({files}) but updating {target.label} failed: "
                        f"{clause(error)}. {target.label}: pending; metrics store: holds the publication, "
                        "its "
                        "journal says it is incomplete. Re-run the month (or run the next) to complete the "
                        "publication; nothing will be duplicated"
                    ) from None
                raise PublicationFailed(self.undo(index, str(error))) from None
            _record(self.store, self.plan.service, self.publication_id, target.name, APPLIED, log)

    def undo(self, failed_at: int, failure: str) -> str:
        """Every target touched (the failed one included) back to what it held; then the store, if they all
        are. Returns the failure message: what each target holds now."""
        held = {t.name: NOT_TOUCHED for t in self.targets[failed_at + 1 :]}
        for target in reversed(self.targets[: failed_at + 1]):
            try:
                held[target.name] = target.undo(self.plan, self.current[target.name]) or "unchanged"
            except PublicationFailed as error:
                held[target.name] = f"may hold part of the new publication (undoing failed: {error})"
        restored, store_state = self._undo_in_store(held)
        states = "; ".join(f"{t.label}: {held[t.name]}" for t in self.targets)
        ending = " Nothing remains published; fix the cause and re-run the month." if restored else ""
        return (
            f"Publishing {_months(self.plan)} failed at {self.targets[failed_at].label}: {failure}. "
            f"{states}; metrics store: {store_state}.{ending}"
        )

    def _undo_in_store(self, held: Mapping[str, str]) -> tuple[bool, str]:
        """The store reverted by a compensating transaction, once every target is back; else it keeps the
        publication, which the next run completes."""
        if any(state.startswith("may hold") for state in held.values()):
            return False, "holds the new publication, its journal says incomplete; the next run completes it"
        names = [t.name for t in self.targets]
        try:
            journal.compensate(
                self.store, self.publication_id, self.snapshot, self.plan, names, datetime.now(UTC)
            )
        except StoreFailed as error:
            return (
                False,
                f"holds the new publication, since undoing it failed ({error}); the next run completes it",
            )
        return True, "unchanged (the publication was undone)"


def _record(
    store: MetricsStore, service: Service, publication_id: int, target: str, state: str, log: Log
) -> None:
    """The journal's note of a target's state is for people: losing it loses no data (recovery re-applies
    whatever the store holds), so a failure to write it is logged, not raised."""
    try:
        journal.mark_target(store, service, publication_id, target, state)
    except StoreFailed as error:
        log.warning(f"the journal could not record {target} as {state}: {error}")


def _lost_lock(plan: PublicationPlan, targets: Sequence[PublicationTarget]) -> str:
    states = "; ".join(f"{t.label}: holds the new publication" for t in targets)
    return (
        f"The metrics store's connection holding the publication lock was lost while {_months(plan)} was "
        f"being published, so another run may have published meanwhile. {states}; metrics store: holds it, "
        "its journal says incomplete. The next run re-applies the store's publication to every target"
    )


def _months(plan: PublicationPlan) -> str:
    return ", ".join(map(str, plan.months))
