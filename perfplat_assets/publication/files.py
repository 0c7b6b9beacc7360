"""Writing the publication directory: atomically, so no reader ever sees half a file."""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from perfplat_assets.common.months import Month
from perfplat_assets.publication.records import Record, month_file_name, sort_records, wide_table


def write_files_atomically(directory: Path, files: Mapping[str, str]) -> list[Path]:
    """Every file is written and flushed beside its target first; only then are they renamed into place,
    one quick rename each, so a failure while writing leaves every published file as it was and no reader
    ever sees half a file."""
    directory.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[str, Path]] = []
    try:
        for name, content in files.items():
            handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
            staged.append((temporary, directory / name))
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temporary, 0o644)
        for temporary, target in staged:
            os.replace(temporary, target)
    finally:
        for temporary, _ in staged:
            Path(temporary).unlink(missing_ok=True)
    return [target for _, target in staged]


def records_json(records: Sequence[Record]) -> str:
    return json.dumps(sort_records(records), indent=2, ensure_ascii=False) + "\n"


def records_csv(records: Sequence[Record]) -> str:
    """RFC 4180: a header row, CRLF line ends, UTF-8."""
    header, rows = wide_table(records)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_publication(
    directory: Path, months: Sequence[Month], all_records: Sequence[Record], extra: Mapping[str, str]
) -> list[Path]:
    """Each month's file, then `data.json` and `data.csv` rebuilt from every published month, then `extra`
    (name to content: the notes and the revisions)."""
    files = {
        **{
            month_file_name(month): records_json(
                [r for r in all_records if r["_timestamp"] == month.published_timestamp]
            )
            for month in months
        },
        "data.json": records_json(all_records),
        "data.csv": records_csv(all_records),
        **extra,
    }
    return write_files_atomically(directory, files)
