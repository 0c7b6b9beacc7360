"""Revisions: what changed in a month already published. Pure functions, no I/O."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from perfplat_assets.common.months import Month
from perfplat_assets.publication.published_format.records import count_value

REVISIONS_CSV_COLUMNS = ("month", "dataType", "previous_value", "new_value", "revised_at", "run_id")


@dataclass(frozen=True)
class Revision:
    """A published value that changed (None: it was not published before, or is withdrawn)."""

    month: Month
    data_type: str
    previous_count: float | None
    new_count: float | None


def find_revisions(
    previous: Mapping[tuple[Month, str], float],
    current: Mapping[tuple[Month, str], float],
    months: Sequence[Month],
) -> list[Revision]:
    """Values of `months` that were published before and now differ, or are no longer published.

    Keys are (month, dataType). A first publication is not a revision.
    """
    published_before = {month for month, _ in previous}
    revisions = []
    for key in sorted(set(previous) | set(current)):
        month, data_type = key
        if month not in months or month not in published_before:
            continue
        old, new = previous.get(key), current.get(key)
        normalised = (None if v is None else count_value(data_type, v) for v in (old, new))
        if len(set(normalised)) > 1:
            revisions.append(Revision(month, data_type, old, new))
    return revisions


def _utc(moment: datetime) -> datetime:
    """SQLite keeps no offset: the store writes UTC, so a naive time read back is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def revisions_csv(rows: Sequence[Mapping[str, object]]) -> str:
    """Every revision so far, oldest first; empty cells where a value was absent."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(REVISIONS_CSV_COLUMNS)
    for row in rows:
        data_type = str(row["data_type"])
        values = [row["previous_count"], row["new_count"]]
        revised_at = row["revised_at"]
        writer.writerow(
            [
                Month.parse(str(row["month"])).label,
                data_type,
                *("" if v is None else count_value(data_type, float(v)) for v in values),
                _utc(revised_at).isoformat() if isinstance(revised_at, datetime) else revised_at,
                row["run_id"],
            ]
        )
    return buffer.getvalue()
