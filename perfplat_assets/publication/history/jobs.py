"""The import of OPG's published series as a job, for the Dagster UI: the same as `perfplat
import-published`, with the file's path in the launchpad config, the same resources and the same rules."""

from collections.abc import Sequence

from dagster import Config, Failure, JobDefinition, MetadataValue, OpExecutionContext, job, op
from pydantic import Field

from perfplat_assets.common.service import Service
from perfplat_assets.measures import service_measures
from perfplat_assets.partitions import resource_key
from perfplat_assets.publication.committing.journal import StoreFailed
from perfplat_assets.publication.history.importing import (
    METHOD_SCHEDULE,
    import_published_file,
    report_lines,
    runs_methods,
)
from perfplat_assets.publication.history.reading import HistoryRefused

JOB_NAME = "import_published_series"


class ImportConfig(Config):
    path: str = Field(description="Path of the published data.json, as the run's process sees it.")


def build_import_job(services: Sequence[Service], services_setting: str) -> JobDefinition:
    """The job importing a published data.json of any of `services` (those the deployment runs), judged
    by the schedules of methods their runs are given (each service's `method_schedule` resource), as the
    command line judges it."""
    schedules = {
        resource_key(service, METHOD_SCHEDULE)
        for service in services
        if any(measure.methods for measure in service_measures(service))
    }

    @op(name="import_published_data_json", required_resource_keys={"metrics_store", "run_start", *schedules})
    def import_published_data_json(context: OpExecutionContext, config: ImportConfig) -> None:
        """Load the file's records into the metrics store as published history."""
        methods = runs_methods({key: getattr(context.resources, key) for key in schedules}, services_setting)
        try:
            history, report = import_published_file(
                config.path,
                context.resources.metrics_store,
                methods,
                allow_synthetic=context.resources.run_start.allow_sample_data,
            )
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

    @job(
        name=JOB_NAME,
        description="Load a published data.json (OPG's series) into the metrics store as published history.",
    )
    def import_published_series() -> None:
        import_published_data_json()

    return import_published_series
