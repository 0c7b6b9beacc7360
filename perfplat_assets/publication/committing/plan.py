"""A publication plan: everything one publication will write, built whole from one snapshot of the metrics
store and validated before anything is written. Pure: no Dagster, no I/O.

The metrics store is the source of truth; every target (the directory, S3, CKAN) is a copy of it. A plan
says what the store will hold for the run's months (its rows and revisions) and, from that, the bytes of
every file each target gets and the change CKAN gets. Re-planning from the same snapshot gives the same
plan, with the same digest, which is what lets a later run complete an interrupted publication.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from perfplat_assets.common.columns import to_row
from perfplat_assets.common.errors import clause
from perfplat_assets.common.methods import MethodSchedule
from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service
from perfplat_assets.measures import Methods, default_method_schedules, measures, method_measures
from perfplat_assets.publication.published_format.checks import (
    MethodFor,
    implausible_measures,
    published_format_findings,
    taken_over_as_published,
)
from perfplat_assets.publication.published_format.files import (
    SeriesMarks,
    content_type,
    publication_files,
)
from perfplat_assets.publication.published_format.records import RECORDS_JSON, Record, record
from perfplat_assets.publication.published_format.revisions import Revision, find_revisions

PUBLIC_RECORDS = RECORDS_JSON  # the cumulative file whose records are public: what the guard protects

Pair = tuple[Month, str]  # (month, dataType): the unit of publication
Withholding = tuple[Month, str]  # (month, measure): the unit a check or a bound withholds


@dataclass(frozen=True)
class StoreSnapshot:
    """What the metrics store holds of `service`, read in one transaction: the published values, every
    revision so far (rows as `revisions.csv` lists them) and, by measure, the method of each month computed;
    and the schedules of methods by measure (PERFPLAT_SATISFACTION_METHODS, OPG's by default), which say the
    method of a month the store holds but perfplat did not compute: an imported one."""

    published: Mapping[Pair, float]
    published_at: Mapping[Month, datetime]
    revision_history: Sequence[Mapping[str, object]]
    methods: Methods
    schedules: Mapping[str, MethodSchedule] = field(default_factory=default_method_schedules)
    # Imported months the import found disagreeing with themselves, by (month, headline dataType), with both
    # figures, under the schedule of methods in force at the import (the store's `inconsistent`). What the
    # files mark is worked out again by each plan, under the methods they state (`taken_over_as_published`).
    adopted: Mapping[Pair, str] = field(default_factory=dict)
    # The months whose published values were computed from the embedded sample's synthetic sources.
    synthetic: frozenset[Month] = frozenset()
    service: Service = field(kw_only=True)


@dataclass(frozen=True)
class RevisionStamp:
    """What each revision a plan finds is recorded with, as `revisions.csv` lists it: the run that makes the
    plan, and when; and whether the run's values come from the embedded sample's synthetic sources (None: as
    the store says, for a publication it committed already), which the store and every file a person reads
    say."""

    run_id: str
    revised_at: datetime
    synthetic: bool | None = None


@dataclass(frozen=True)
class PublishedFile:
    name: str
    content: bytes
    content_type: str


@dataclass(frozen=True)
class CkanResource:
    """The change data.gov.uk gets: its one resource links to the hosted CSV, dated by the newest month."""

    csv_url: str
    datafile_date: str


@dataclass(frozen=True)
class PublicationPlan:
    service: Service  # whose publication it is
    months: tuple[Month, ...]  # the months published by this plan: those asked for, less any withheld
    values: Mapping[Pair, float]  # what the store holds for the run's months once it is applied
    revisions: tuple[Revision, ...]  # values of those months that were public and change
    records: tuple[Record, ...]  # every published record once it is applied: what data.json holds
    files: tuple[PublishedFile, ...]  # in the order to write them: cumulative files first, month files last
    ckan: CkanResource | None
    digest: str
    # The measures of a month withheld because a value is implausible, by (month, measure), with why and what
    # to do: never published (an earlier publication stays), and named in the run's failure.
    withheld: Mapping[Withholding, str] = field(default_factory=dict)
    # The months of the series published from the embedded sample's synthetic sources: the run's, when it
    # read the sample, and any the store held already. Every file a person reads says so.
    synthetic: frozenset[Month] = frozenset()

    def file(self, name: str) -> PublishedFile:
        return next(f for f in self.files if f.name == name)

    @property
    def published_months(self) -> list[Month]:
        return sorted({Month.from_timestamp(r["_timestamp"]) for r in self.records})


class PlanRefused(ValueError):
    """The plan may not be applied; the message says why and what to do."""


def plan_publication(
    snapshot: StoreSnapshot,
    months: Sequence[Month],
    values: Mapping[Pair, float],
    *,
    stamp: RevisionStamp,
    csv_url: str | None,
    keep: Collection[Pair] = (),
) -> PublicationPlan:
    """The publication of `months` with `values`, on top of what the store holds. A changed or withdrawn
    value of a month already public is a revision, recorded with `stamp` (the run, and when).

    `keep` are the pairs of measures a check blocked: their earlier published values stay as they were. A
    measure holding a value outside its dataType's bounds (the run's, or one imported before perfplat
    checked them) is withheld the same way: the run's values of it are not published and its earlier ones
    stay, or, where those are out of bounds too, it is left out of every file; each is named in
    `withheld`."""
    asked = tuple(sorted(set(months)))
    stray = sorted({month for month, _ in (*values, *keep)} - set(asked))
    if stray:
        raise PlanRefused(f"values for {', '.join(map(str, stray))} in a publication of {_labels(asked)}")
    earlier = snapshot.published
    run = dict(values) | {pair: earlier[pair] for pair in keep if pair in earlier}
    published, withheld = _plausible({p: v for p, v in earlier.items() if p[0] not in asked} | run, snapshot)
    ordered = tuple(month for month in asked if any(p in published for p in values if p[0] == month))
    values = {pair: v for pair, v in published.items() if pair[0] in ordered}
    revisions = tuple(find_revisions(earlier, values, ordered))
    history = [
        *snapshot.revision_history,
        *({**to_row(r), "revised_at": stamp.revised_at, "run_id": stamp.run_id} for r in revisions),
    ]
    service = snapshot.service
    records = [record(service, month, data_type, value) for (month, data_type), value in published.items()]
    methods = published_methods(snapshot, published)
    made_up = frozenset(
        month
        for month in {m for m, _ in published}
        if (
            stamp.synthetic
            if stamp.synthetic is not None and month in ordered
            else month in snapshot.synthetic
        )
    )
    adopted = taken_over_as_published(published, _method_for(methods), _taken_over(snapshot, published))
    files = publication_files(service, ordered, records, history, methods, SeriesMarks(adopted, made_up))
    newest = max((month for month, _ in published), default=None)
    ckan = CkanResource(csv_url, newest.key) if csv_url and newest else None
    built = tuple(
        PublishedFile(name, text.encode("utf-8"), content_type(name)) for name, text in files.items()
    )
    return PublicationPlan(
        service=service,
        months=ordered,
        values=values,
        revisions=revisions,
        records=tuple(records),
        files=built,
        ckan=ckan,
        digest=_digest(built, ckan),
        withheld=withheld,
        synthetic=made_up,
    )


def _plausible(
    candidates: Mapping[Pair, float], snapshot: StoreSnapshot
) -> tuple[dict[Pair, float], dict[Withholding, str]]:
    """`candidates` less every measure of a month holding an implausible value, with that measure's earlier
    published values put back where they are plausible; and why each was withheld."""
    kept = dict(candidates)
    withheld: dict[Withholding, str] = {}
    # Every month is checked under the method the files state for it, an imported month's included; one
    # taken over from OPG's series is exempt from agreeing with itself while it holds what OPG published
    # (the files mark it instead).
    method_for = _method_for(published_methods(snapshot, candidates))
    adopted = _taken_over(snapshot, candidates)
    for (month, name), problems in implausible_measures(candidates, method_for, adopted).items():
        pairs = [pair for pair in measure_pairs(month, name) if pair in candidates]
        for pair in pairs:
            kept.pop(pair, None)
        earlier = {pair: snapshot.published[pair] for pair in pairs if pair in snapshot.published}
        restored = earlier if earlier and earlier != {p: candidates[p] for p in pairs} else {}
        put_back = bool(restored) and not implausible_measures(restored, method_for, adopted)
        if put_back:
            kept |= restored
        asked = any(candidates[pair] != snapshot.published.get(pair) for pair in pairs)
        withheld[(month, name)] = _withheld_reason(month, problems, asked, put_back)
    return kept, withheld


def _method_for(methods: Mapping[str, Mapping[Month, str]]) -> dict[str, MethodFor]:
    return {name: by_month.get for name, by_month in methods.items()}


def _taken_over(snapshot: StoreSnapshot, values: Mapping[Pair, float]) -> set[Pair]:
    """The (month, headline dataType) of each month of a measure by methods that perfplat did not compute
    (an imported one: its method is the schedule's) and that holds what the store holds: OPG's record."""
    found = set()
    for measure in (m for m in method_measures() if m.name in snapshot.service.measure_names):
        computed = snapshot.methods.get(measure.name, {})
        for pair in values:
            month, data_type = pair
            if data_type != measure.headline.name or month in computed:
                continue
            if all(values.get(p) == snapshot.published.get(p) for p in _month_pairs(pair, values)):
                found.add(pair)
    return found


def _month_pairs(pair: Pair, candidates: Mapping[Pair, float]) -> list[Pair]:
    """The pairs of the measure whose headline is `pair`, in that month."""
    month, data_type = pair
    measure = next((m for m in measures() if m.headline.name == data_type), None)
    return [p for p in measure_pairs(month, measure.name) if p in candidates] if measure else [pair]


def measure_pairs(month: Month, name: str) -> list[Pair]:
    """The month's pairs of the measure `name`: one for every dataType it publishes."""
    measure = next((m for m in measures() if m.name == name), None)
    return [(month, d.name) for d in measure.data_types] if measure else []


def published_methods(
    snapshot: StoreSnapshot, published: Mapping[Pair, float]
) -> dict[str, dict[Month, str]]:
    """By measure, the method of every published month the files state: the one perfplat computed it by,
    else, for a month it did not compute (an imported one), the one the measure's schedule says was in
    force then."""
    months = {month for month, _ in published}
    found: dict[str, dict[Month, str]] = {}
    for measure in (m for m in method_measures() if m.name in snapshot.service.measure_names):
        schedule = snapshot.schedules.get(measure.name)
        headline = measure.headline.name
        scheduled = {m: schedule.method_for(m) for m, t in published if t == headline} if schedule else {}
        computed = snapshot.methods.get(measure.name, {})
        found[measure.name] = scheduled | {m: method for m, method in computed.items() if m in months}
    return found


def _withheld_reason(month: Month, problems: list[str], asked: bool, kept: bool) -> str:
    """Why a measure of a month is withheld and what to do, for the run's failure."""
    fix = (
        f"correct the source and re-run {month}"
        if asked
        else f"the metrics store holds it from before perfplat checked bounds (an import, or an earlier "
        f"run): correct it at its source and re-run {month}, or, for an imported month, correct its row in "
        "the store's published_records table"
    )
    held = "its earlier publication stays" if kept else "it is left out of every file"
    return (
        f"{clause('; '.join(problems))}. This measure of {month} is withheld ({held}) until it is "
        f"corrected: {fix}"
    )


def _digest(files: Sequence[PublishedFile], ckan: CkanResource | None) -> str:
    digest = hashlib.sha256()
    for item in files:
        digest.update(f"{item.name}\0{item.content_type}\0{len(item.content)}\0".encode())
        digest.update(item.content)
    digest.update(repr(ckan).encode())
    return digest.hexdigest()


def _labels(months: Sequence[Month]) -> str:
    return ", ".join(map(str, months)) or "no month"


def plan_problems(plan: PublicationPlan, last_closed: Month) -> list[str]:
    """Why the plan would not be in OPG's format: checked on the whole plan before anything is written."""
    problems = [
        finding.message
        for finding in published_format_findings(plan.records, last_closed, plan.service.service)
    ]
    if not plan.months and plan.withheld:
        withheld = sorted(plan.withheld.items())
        problems += [f"{month} {name} is withheld: {why}" for (month, name), why in withheld]
    for month in plan.months:
        if not any(m == month for m, _ in plan.values):
            problems.append(f"{month}: nothing to publish")
    return problems


def dropped_pairs(plan: PublicationPlan, public: Sequence[Mapping[str, object]]) -> list[Pair]:
    """(month, dataType) pairs that are public in a target's `data.json` and that the plan would drop
    without recording them as a revision: publishing would silently remove them."""
    planned = {(Month.from_timestamp(r["_timestamp"]), str(r["dataType"])) for r in plan.records}
    withdrawn = {(r.month, r.data_type) for r in plan.revisions if r.new_count is None}
    withheld = {pair for month, name in plan.withheld for pair in measure_pairs(month, name)}
    held = {(Month.from_timestamp(r["_timestamp"]), str(r["dataType"])) for r in public} - withheld
    return sorted(held - planned - withdrawn)


def read_public_records(content: bytes, where: str) -> list[Mapping[str, object]]:
    """A target's `data.json` as records, or a refusal naming the target: an unreadable file is never
    taken for an empty one, since replacing it could drop what is public."""
    try:
        records = json.loads(content.decode("utf-8"))
        if not isinstance(records, list):
            raise ValueError("not a JSON array")
        for item in records:
            Month.from_timestamp(item["_timestamp"])
            str(item["dataType"])
    except (UnicodeDecodeError, ValueError, TypeError, KeyError) as error:
        raise PlanRefused(
            f"{PUBLIC_RECORDS} in {where} cannot be read as published records ({type(error).__name__}: "
            f"{str(error)[:120]}), so perfplat cannot tell what it would remove. Restore it from a backup or "
            f"the publication's history, or delete it if nothing of it is public"
        ) from None
    return records
