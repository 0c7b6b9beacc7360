from datetime import UTC, datetime
from typing import Any

import pandas as pd
from dagster import AssetExecutionContext, Failure, MaterializeResult, MetadataValue, asset

from perfplat_assets.common.months import Month
from perfplat_assets.metrics_store.resources import MetricsStore, frame_rows
from perfplat_assets.metrics_store.tables import published_records
from perfplat_assets.partitions import monthly_partitions, partition_months
from perfplat_assets.publication.files import write_publication
from perfplat_assets.publication.records import month_file_name, month_measures, record
from perfplat_assets.publication.resources import PublicationDirectory

GROUP = "make_an_lpa"


def _by_month(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {row["month"]: row for row in frame_rows(frame)}


@asset(
    partitions_def=monthly_partitions,
    group_name=GROUP,
    io_manager_key="metrics_store_io_manager",
    kinds={"sql"},
)
def performance_dataset(
    context: AssetExecutionContext,
    user_satisfaction: pd.DataFrame,
    digital_take_up: pd.DataFrame,
    completion_rate: pd.DataFrame,
) -> pd.DataFrame:
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
    context.add_output_metadata({"records": len(rows), **left_out})
    return pd.DataFrame(rows, columns=["month", "data_type", "count"])


@asset(partitions_def=monthly_partitions, group_name=GROUP, kinds={"json", "csv"})
def data_gov_uk_publication(
    context: AssetExecutionContext,
    performance_dataset: pd.DataFrame,
    metrics_store: MetricsStore,
    publication_directory: PublicationDirectory,
) -> MaterializeResult:
    """The month's file for OPG's monthly automation, and `data.json`/`data.csv` rebuilt from every month
    published so far, so re-publishing a month replaces its records rather than adding to them."""
    months = partition_months(context)
    published_at = datetime.now(UTC)
    rows = [{**row, "published_at": published_at} for row in frame_rows(performance_dataset)]
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
        metrics_store.replace_months(connection, published_records, [m.key for m in months], rows)
        everything = metrics_store.read(published_records, connection=connection)
        records = [
            record(Month.parse(r["month"]), r["data_type"], r["count"]) for r in frame_rows(everything)
        ]
        written = write_publication(directory, months, records)
    return MaterializeResult(
        metadata={
            "directory": MetadataValue.path(str(directory)),
            "month_files": ", ".join(month_file_name(month) for month in months),
            "records_this_run": len(rows),
            "records_published_in_all": len(records),
            "months_published_in_all": everything["month"].nunique(),
            "files": MetadataValue.md("\n".join(f"- `{path.name}`" for path in written)),
        }
    )
