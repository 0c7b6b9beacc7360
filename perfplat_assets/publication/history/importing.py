"""Importing OPG's published series into the metrics store: what `perfplat import-published` and the
`import_published_series` job share. No Dagster."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path

from perfplat_assets.common.files import FileRefused, read_bounded
from perfplat_assets.common.methods import MethodSchedule
from perfplat_assets.common.months import last_closed_month
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.publication.committing.journal import ImportReport, import_history
from perfplat_assets.publication.history.reading import (
    HistoryRefused,
    PublishedHistory,
    read_published_history,
)

# OPG's series is about a hundred kilobytes (a record a month and dataType); a file of this size is not it.
MAX_IMPORT_BYTES = 50_000_000


def import_published_file(
    path: str | Path, store: MetricsStore, methods: Mapping[str, MethodSchedule] | None = None
) -> tuple[PublishedHistory, ImportReport]:
    """Read, check and load one published `data.json` (each measure's values checked under its schedule
    of methods in `methods`, by default its own: OPG's); raises `HistoryRefused` or `StoreFailed`."""
    file = Path(path).expanduser()
    try:
        content = read_bounded(file, MAX_IMPORT_BYTES, "a published data.json")
    except FileRefused as refused:
        raise HistoryRefused(
            f"{file} {refused}. An import takes the published data.json itself: a regular file of at most "
            f"{MAX_IMPORT_BYTES:,} bytes."
        ) from None
    except OSError as error:
        raise HistoryRefused(f"{file} cannot be read: {error.strerror}") from None
    except ValueError as error:  # a path holding a NUL character
        raise HistoryRefused(f"{str(file)!r} cannot be read: {error}") from None
    history = read_published_history(content, str(file), last_closed_month(), methods)
    return history, import_history(store, history, str(file.resolve()), datetime.now(UTC))


def report_lines(history: PublishedHistory, report: ImportReport, source: str) -> list[str]:
    """What an import did, in sentences for the terminal, the log and the job's metadata."""
    months = history.months
    span = f"{months[0]} to {months[-1]}" if months else "no month"
    if report.already_imported_at is not None:
        when = f"{report.already_imported_at:%Y-%m-%d %H:%M} UTC"
        return [f"{source} (sha256 {history.digest[:12]}) was imported on {when}: nothing changed."]
    lines = [
        f"{source}: {len(history.values)} records for {len(months)} months ({span}), "
        f"sha256 {history.digest[:12]}.",
        f"Imported {report.imported} records as published history; {report.kept} were already in the store.",
    ]
    if history.converted:
        lines.append(f"{len(history.converted)} counts were JSON strings and are now numbers:")
        lines += [f"  {line}" for line in history.converted]
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
