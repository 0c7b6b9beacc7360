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


def write_atomically(path: Path, content: str) -> None:
    """Write beside the target, flush to disk, then rename over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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
    for name, content in files.items():
        write_atomically(directory / name, content)
    return [directory / name for name in files]
