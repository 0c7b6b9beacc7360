"""Running a month in process, on the environment's settings, and reading what the run said."""

from collections.abc import Sequence
from typing import Any

from dagster import AssetsDefinition, DagsterInstance, ExecuteInProcessResult, materialize
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from perfplat_assets.common.months import Month
from perfplat_assets.configuration import build_resources, published_services
from perfplat_assets.definitions import service_assets


def published_assets() -> list[AssetsDefinition]:
    """The pipelines of the services the environment publishes now (PERFPLAT_SERVICES)."""
    return [asset for service in published_services() for asset in service_assets(service)]


def materialize_month(
    month: Month, run_config: dict[str, Any] | None = None, selection: Sequence[str] | None = None
) -> ExecuteInProcessResult:
    """Every asset (or those named in `selection`) for one month, resources built from the environment
    now, on a fresh instance; a failure is returned, not raised, for the test to read."""
    return materialize(
        published_assets(),
        selection=list(selection) if selection is not None else None,
        partition_key=month.key,
        resources=build_resources(),
        instance=DagsterInstance.ephemeral(),
        run_config=run_config,
        raise_on_error=False,
    )


def materialize_range(
    first: Month, last: Month, selection: Sequence[str] | None = None
) -> ExecuteInProcessResult:
    """One run over the months from `first` to `last`, in process, as a single-run backfill of them is;
    failures returned."""
    return materialize(
        published_assets(),
        selection=list(selection) if selection is not None else None,
        tags={ASSET_PARTITION_RANGE_START_TAG: first.key, ASSET_PARTITION_RANGE_END_TAG: last.key},
        resources=build_resources(),
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def failure_message(result: ExecuteInProcessResult) -> str:
    """Every failed step's error and the errors it wraps, user-facing description included, as one
    string to search."""
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failures, "the run should have failed"
    said = []
    for failure in failures:
        error = failure.step_failure_data.error
        while error is not None:  # Dagster's "Error occurred while executing op" wraps perfplat's
            said.append(error.message)
            error = error.cause
        said.append(str(failure.step_failure_data.user_failure_data))
    return " ".join(said)
