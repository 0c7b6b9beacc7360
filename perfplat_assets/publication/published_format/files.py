"""The publication's files and their content, built from every published month. Pure: no I/O."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service
from perfplat_assets.measures import Methods
from perfplat_assets.publication.published_format.csvw import csv_metadata
from perfplat_assets.publication.published_format.notes import notes_markdown
from perfplat_assets.publication.published_format.records import (
    CSVW_METADATA,
    CUMULATIVE_CSV,
    CUMULATIVE_FILES,
    NOTES_MD,
    RECORDS_JSON,
    REPORT_HTML,
    REVISIONS_CSV,
    Record,
    sort_records,
    wide_table,
)
from perfplat_assets.publication.published_format.report import report_html
from perfplat_assets.publication.published_format.revisions import revisions_csv

CONTENT_TYPES = {
    ".json": "application/json",
    ".csv": "text/csv; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}
CSVW_CONTENT_TYPE = "application/csvm+json"


def is_published_name(service: Service, name: str) -> bool:
    """Whether `name` is one perfplat publishes for `service` (a cumulative file or one of its month files):
    what the directory target treats as its own."""
    return name in CUMULATIVE_FILES or bool(service.month_file_pattern.fullmatch(name))


def content_type(name: str) -> str:
    if name.endswith("-metadata.json"):
        return CSVW_CONTENT_TYPE
    return next(kind for suffix, kind in CONTENT_TYPES.items() if name.endswith(suffix))


def records_json(records: Sequence[Record]) -> str:
    """A JSON array in the published order: what OPG's automation merges with `jq -s flatten`."""
    return json.dumps(sort_records(records), indent=2, ensure_ascii=False) + "\n"


def records_csv(service: Service, records: Sequence[Record]) -> str:
    """RFC 4180: a header row, CRLF line ends, UTF-8."""
    header, rows = wide_table(service, records)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


@dataclass(frozen=True)
class SeriesMarks:
    """What the notes and the report say of particular months: those adopted as OPG published them though
    their figures disagree (with both figures), and those computed from the embedded sample."""

    adopted: Mapping[tuple[Month, str], str] = field(default_factory=dict)
    synthetic: Collection[Month] = ()


def publication_files(
    service: Service,
    months: Sequence[Month],
    all_records: Sequence[Record],
    revision_history: Sequence[Mapping[str, object]],
    methods: Methods,
    marks: SeriesMarks = SeriesMarks(),
) -> dict[str, str]:
    """Name to content, in the order to write them: everything rebuilt from every published month first,
    the run's month files last, so OPG's automation never finds a month file before the rest is there."""
    return {
        RECORDS_JSON: records_json(all_records),
        CUMULATIVE_CSV: records_csv(service, all_records),
        CSVW_METADATA: csv_metadata(service, methods, CUMULATIVE_CSV),
        REVISIONS_CSV: revisions_csv(revision_history),
        NOTES_MD: notes_markdown(service, methods, marks.adopted, marks.synthetic),
        REPORT_HTML: report_html(service, all_records, revision_history, methods, marks.synthetic),
        **{
            service.month_file_name(month): records_json(
                [r for r in all_records if r["_timestamp"] == month.published_timestamp]
            )
            for month in months
        },
    }
