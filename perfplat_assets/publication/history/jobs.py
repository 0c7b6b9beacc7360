"""The import of OPG's published series as a job, for the Dagster UI: the same as `perfplat
import-published`, with the file's path in the launchpad config."""

from dagster import Config, Failure, MetadataValue, OpExecutionContext, job, op
from pydantic import Field

from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.publication.committing.journal import StoreFailed
from perfplat_assets.publication.history.importing import import_published_file, report_lines
from perfplat_assets.publication.history.reading import HistoryRefused


class ImportConfig(Config):
    path: str = Field(description="Path of the published data.json, as the run's process sees it.")


@op
def import_published_data_json(
    context: OpExecutionContext, config: ImportConfig, metrics_store: MetricsStore
) -> None:
    """Load the file's records into the metrics store as published history."""
    try:
        history, report = import_published_file(config.path, metrics_store)
    except (HistoryRefused, StoreFailed) as error:
        raise Failure(str(error)) from None
    lines = report_lines(history, report, config.path)
    for line in lines:
        context.log.info(line)
    context.add_output_metadata(
        {
            "report": MetadataValue.md("\n".join(f"- {line.strip()}" for line in lines)),
            "records_in_file": len(history.values),
            "records_imported": report.imported,
            "differences": len(report.differences),
            "sha256": history.digest,
        }
    )


@job(description="Load a published data.json (OPG's series) into the metrics store as published history.")
def import_published_series() -> None:
    import_published_data_json()
