"""Importing OPG's published series into the metrics store: what `perfplat import-published` and the
`import_published_series` job share. The imported months are journalled as a publication to complete
(`committing/journal.py`), so that the next publication writes them to every target. No Dagster."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from perfplat_assets.common.errors import clause, file_system_cause
from perfplat_assets.common.files import FileRefused, read_bounded
from perfplat_assets.common.methods import MethodSchedule
from perfplat_assets.common.months import Month, last_closed_month, spans
from perfplat_assets.common.service import Service
from perfplat_assets.measures import method_schedules, service_measures
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.metrics_store.series import series_makeup
from perfplat_assets.metrics_store.tables import publication_record
from perfplat_assets.partitions import resource_key
from perfplat_assets.publication.committing.journal import IMPORT_RUN_PREFIX, in_store, journal_entry
from perfplat_assets.publication.committing.plan import Pair
from perfplat_assets.publication.history.reading import (
    HistoryRefused,
    PublishedHistory,
    read_published_history,
)
from perfplat_assets.publication.published_format.records import count_value

# OPG's series is about a hundred kilobytes (a record a month and dataType); a file of this size is not it.
MAX_IMPORT_BYTES = 50_000_000
# The role of the resource holding a service's schedule of methods, which its runs compute and publish by.
METHOD_SCHEDULE = "method_schedule"

Methods = Callable[[Service], Mapping[str, MethodSchedule]]


def runs_methods(resources: Mapping[str, Any], services_setting: str) -> Methods:
    """By service, the schedules of methods its runs compute and publish by: the service's
    `method_schedule` resource (`<service>__method_schedule`, from its
    PERFPLAT_<SERVICE>_SATISFACTION_METHODS), read from the same resources the runs are given, so that an
    import, however it is started, judges a month by the method the publication will state for it. A
    service this deployment does not run has none: its history is refused, naming `services_setting`."""

    def methods(service: Service) -> dict[str, MethodSchedule]:
        if not any(measure.methods for measure in service_measures(service)):
            return {}
        setting = resources.get(resource_key(service, METHOD_SCHEDULE))
        if setting is None:
            raise HistoryRefused(
                f"holds {service}'s published series, which this deployment does not publish: add "
                f"{service.name} to {services_setting} to import it"
            )
        return {setting.measure: setting.parsed()}

    return methods


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
    complete, so the next publication writes them (and their month files) to every target. A month whose
    published values disagree with each other is loaded as published, its headline row flagged with why."""
    record = publication_record(history.service.name)
    imports, published_records = record.imports, record.published_records
    with (
        in_store(store, f"importing {history.service}'s published history"),
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
                    {
                        "month": m.key,
                        "data_type": t,
                        "count": v,
                        "published_at": now,
                        "import_id": import_id,
                        "inconsistent": history.inconsistent.get((m, t)),
                    }
                    for (m, t), v in sorted(new.items())
                ],
            )
            months = sorted({month.key for month, _ in new})
            run_id = f"{IMPORT_RUN_PREFIX}{history.digest[:12]}"
            entry = journal_entry(months, history.digest, run_id, now, {}, note=f"imported from {source}")
            publication_id = connection.execute(
                insert(record.publications).values(entry)
            ).inserted_primary_key[0]
    return ImportReport(
        None, len(new), len(history.values) - len(new) - len(differences), differences, publication_id
    )


def import_published_file(
    path: str | Path,
    store: MetricsStore,
    methods: Methods = method_schedules,
    *,
    allow_synthetic: bool = False,
) -> tuple[PublishedHistory, ImportReport]:
    """Read, check and load one published `data.json`, of whichever service its records say (each
    measure's values read under the service's schedule of methods, `methods`: the command line and the UI's
    job both pass `runs_methods` of the runs' resources; by default, the settings those are built from);
    raises `HistoryRefused` or `StoreFailed`. The command line and the UI's job both import with this. A
    series holding the embedded sample's figures takes none, unless `allow_synthetic`
    (PERFPLAT_ALLOW_SAMPLE_DATA, for a demonstration)."""
    file = Path(path).expanduser()
    try:
        content = read_bounded(file, MAX_IMPORT_BYTES, "a published data.json")
    except FileRefused as refused:
        if refused.mode is None:  # its size: the refusal names the limit
            raise HistoryRefused(f"{file} {refused}") from None
        raise HistoryRefused(
            f"{file} {clause(refused)}. An import takes the published data.json itself: a regular file of "
            f"at most {MAX_IMPORT_BYTES:,} bytes"
        ) from None
    except OSError as error:
        raise HistoryRefused(f"{file} cannot be read: {file_system_cause(error)}") from None
    except ValueError as error:  # a path holding a NUL character
        raise HistoryRefused(f"{str(file)!r} cannot be read: {error}") from None
    history = read_published_history(content, str(file), last_closed_month(), methods)
    with in_store(store, "reading the series"):
        made_up = series_makeup(store, history.service.name).synthetic
    if made_up and not allow_synthetic:
        raise HistoryRefused(
            f"{history.service}'s series in the metrics store ({store.describe()}) holds the embedded "
            f"sample's synthetic figures ({spans(made_up)}), which OPG's published history must not join: "
            "import into an empty store (the checkout's default: `make clean`), or point "
            "PERFPLAT_METRICS_DB_URL at another (PERFPLAT_ALLOW_SAMPLE_DATA=true lets them mix, for a "
            "demonstration). Nothing was imported"
        )
    return history, import_history(store, history, str(file.resolve()), datetime.now(UTC))


def report_lines(history: PublishedHistory, report: ImportReport, source: str) -> list[str]:
    """What an import did, in sentences for the terminal, the log and the job's metadata."""
    months = history.months
    span = f"{months[0]} to {months[-1]}" if months else "no month"
    if report.already_imported_at is not None:
        when = f"{report.already_imported_at:%Y-%m-%d %H:%M} UTC"
        return [f"{source} (sha256 {history.digest[:12]}) was imported on {when}: nothing changed."]
    lines = [
        f"{source}: {history.service}'s {_counted(len(history.values), 'record')} for "
        f"{_counted(len(months), 'month')} ({span}), "
        f"sha256 {history.digest[:12]}.",
        f"Imported {_counted(report.imported, 'record')} as published history; {report.kept} were already in "
        "the store.",
    ]
    if history.converted:
        lines.append(f"{len(history.converted)} counts were JSON strings and are now numbers:")
        lines += [f"  {line}" for line in history.converted]
    if history.inconsistent:
        months_values = "months'" if len(history.inconsistent) > 1 else "month's"
        lines.append(
            f"{len(history.inconsistent)} {months_values} published values disagree with each other; each is "
            "adopted as OPG published it, flagged in the store and marked in notes.md:"
        )
        lines += [f"  {month}: {why}" for (month, _), why in sorted(history.inconsistent.items())]
    if report.differences:
        lines.append(
            f"{len(report.differences)} values differ from what the store holds; the store's are kept "
            "(re-publishing a month records any change as a revision):"
        )
        lines += [f"  {m} {t}: store {stored}, file {filed}" for (m, t), stored, filed in report.differences]
    if report.publication_id is not None:
        lines.append(
            f"The next publication (any month) writes the imported months to every target (journal entry "
            f"#{report.publication_id})."
        )
    return lines


def _counted(number: int, noun: str) -> str:
    """A count with its noun, singular for one: 1 month, 64 months."""
    return f"{number} {noun}{'' if number == 1 else 's'}"
