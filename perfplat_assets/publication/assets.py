from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    Failure,
    MaterializeResult,
    MetadataValue,
    Output,
    asset,
)
from sqlalchemy import Connection, insert

from perfplat_assets.common.months import Month, last_closed_month
from perfplat_assets.metrics_store.resources import MetricsStore, frame_rows
from perfplat_assets.metrics_store.tables import published_records, revisions, user_satisfaction
from perfplat_assets.partitions import monthly_partitions, partition_months
from perfplat_assets.publication.files import write_publication
from perfplat_assets.publication.notes import notes_markdown
from perfplat_assets.publication.records import month_file_name, month_measures, record
from perfplat_assets.publication.resources import PublicationDirectory
from perfplat_assets.publication.revisions import Revision, find_revisions, revisions_csv
from perfplat_assets.quality import rules
from perfplat_assets.quality.checks import Check, check_results, check_specs

GROUP = "make_an_lpa"
CHECKS = (
    Check(
        "records_in_published_format",
        "Every record is exactly in OPG's published format, (_timestamp, dataType) is unique, and every "
        "month has closed.",
        blocking=True,
    ),
)


def _by_month(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {row["month"]: row for row in frame_rows(frame)}


@asset(
    partitions_def=monthly_partitions,
    group_name=GROUP,
    io_manager_key="metrics_store_io_manager",
    kinds={"sql"},
    check_specs=check_specs("performance_dataset", CHECKS),
)
def performance_dataset(
    context: AssetExecutionContext,
    user_satisfaction: pd.DataFrame,
    digital_take_up: pd.DataFrame,
    completion_rate: pd.DataFrame,
) -> Iterator[Output[pd.DataFrame] | AssetCheckResult]:
    """The month's values by published dataType. A measure without data is left out, never sent as 0."""
    satisfaction, take_up, completion = map(_by_month, (user_satisfaction, digital_take_up, completion_rate))
    rows, left_out = [], {}
    for month in partition_months(context):
        values, missing = month_measures(
            satisfaction.get(month.key), take_up.get(month.key), completion.get(month.key)
        )
        rows += [
            {"month": month.key, "data_type": data_type, "count": value}
            for data_type, value in values.items()
        ]
        left_out.update({f"left out {month} {measure}": reason for measure, reason in missing.items()})
    for entry, reason in left_out.items():
        context.log.warning(f"{entry}: {reason}")
    records = [record(Month.parse(r["month"]), r["data_type"], r["count"]) for r in rows]
    frame = pd.DataFrame(rows, columns=["month", "data_type", "count"])
    yield Output(frame, metadata={"records": len(rows), **left_out})
    yield from check_results(
        CHECKS,
        {"records_in_published_format": rules.records_in_published_format(records, last_closed_month())},
    )


def _values(
    connection: Connection, store: MetricsStore, months: list[str] | None
) -> dict[tuple[str, str], float]:
    frame = store.read(published_records, months, connection=connection)
    return {(r["month"], r["data_type"]): r["count"] for r in frame_rows(frame)}


def _revision_table(found: list[Revision]) -> MetadataValue:
    lines = ["| month | dataType | previous | new |", "| --- | --- | --- | --- |"]
    lines += [f"| {r.month[:7]} | {r.data_type} | {r.previous_count} | {r.new_count} |" for r in found]
    return MetadataValue.md("\n".join(lines))


@asset(partitions_def=monthly_partitions, group_name=GROUP, kinds={"json", "csv"})
def data_gov_uk_publication(
    context: AssetExecutionContext,
    performance_dataset: pd.DataFrame,
    metrics_store: MetricsStore,
    publication_directory: PublicationDirectory,
) -> MaterializeResult:
    """The month's file for OPG's monthly automation, and `data.json`/`data.csv` rebuilt from every month
    published so far, so re-publishing a month replaces its records rather than adding to them. A changed
    value is a revision: recorded with the run that made it, and listed in `revisions.csv`."""
    months = partition_months(context)
    keys = [m.key for m in months]
    now = datetime.now(UTC)
    rows = [{**row, "published_at": now} for row in frame_rows(performance_dataset)]
    empty = [month for month in months if not any(row["month"] == month.key for row in rows)]
    if empty:
        raise Failure(
            f"Nothing to publish for {', '.join(map(str, empty))}: every measure is missing "
            "(see performance_dataset's metadata for why). Any earlier publication of the month is kept."
        )
    directory = publication_directory.directory()
    # One transaction, serialised against other publishers: the month's rows are replaced and the files are
    # rebuilt from what the store then holds; a failure writing files rolls the store back.
    with metrics_store.transaction(exclusive=published_records) as connection:
        previous = _values(connection, metrics_store, keys)
        current = {(r["month"], r["data_type"]): r["count"] for r in rows}
        found = find_revisions(previous, current, keys)
        if found:
            connection.execute(
                insert(revisions),
                [{**vars(r), "revised_at": now, "run_id": context.run.run_id} for r in found],
            )
        metrics_store.replace_months(connection, published_records, keys, rows)
        everything = metrics_store.read(published_records, connection=connection)
        records = [
            record(Month.parse(r["month"]), r["data_type"], r["count"]) for r in frame_rows(everything)
        ]
        published_months = sorted(set(everything["month"]))
        methods = metrics_store.read(user_satisfaction, published_months, connection=connection)
        notes = notes_markdown({Month.parse(r["month"]): r["method"] for r in frame_rows(methods)})
        history = frame_rows(metrics_store.read(revisions, connection=connection))
        written = write_publication(
            directory, months, records, {"revisions.csv": revisions_csv(history), "notes.md": notes}
        )
    return MaterializeResult(
        metadata={
            "directory": MetadataValue.path(str(directory)),
            "month_files": ", ".join(month_file_name(month) for month in months),
            "records_this_run": len(rows),
            "records_published_in_all": len(records),
            "months_published_in_all": len(published_months),
            "revisions_this_run": len(found),
            **({"revisions": _revision_table(found)} if found else {}),
            "files": MetadataValue.md("\n".join(f"- `{path.name}`" for path in written)),
        }
    )
