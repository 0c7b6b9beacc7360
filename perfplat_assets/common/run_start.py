"""What a run checks before any source is asked: the settings only the run's own machine can judge.

The publication directory and the data directory live on the runs' filesystem, which the code server may not
share, so only their form is checked when the code location loads. Every measure's step checks them first
instead, so a directory that cannot take the publication, or the embedded default's files, fails the run
before GA4, the databases or CloudWatch are asked anything.
"""

from __future__ import annotations

import os
from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, ConfigurableResource, Failure
from pydantic import Field, PrivateAttr

from perfplat_assets.asset_names import DATA_GOV_UK_PUBLICATION
from perfplat_assets.common.errors import SourceUnavailable, clause
from perfplat_assets.common.files import kind_of, write_barrier
from perfplat_assets.common.months import spans
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.metrics_store.series import series_makeup
from perfplat_assets.services.registry import service_called

PUBLISH_DIR_SETTING, DATA_DIR_SETTING = "PERFPLAT_PUBLISH_DIR", "PERFPLAT_DATA_DIR"


def directory_problem(directory: Path) -> str | None:
    """Why perfplat could not publish into `directory` (resolved), or None: it must be a directory it can
    read and write, or a path it can create. The cause is named as it is: a read-only file system, an
    immutable or append-only directory (which refuses root too), missing permissions, a full file system."""
    existing = next(p for p in (directory, *directory.parents) if os.path.lexists(p))
    if not existing.is_dir():
        where = "" if existing == directory else f", on the way to {directory},"
        return f"{existing}{where} is {kind_of(os.lstat(existing).st_mode)}, not a directory"
    cannot = f"perfplat cannot {'write in' if existing == directory else f'create {directory} in'} {existing}"
    space = os.statvfs(existing)
    if space.f_flag & os.ST_RDONLY:
        return f"{cannot}: it is on a read-only file system; remount that read-write, or publish elsewhere"
    if barrier := write_barrier(existing):
        return f"{cannot}: {barrier.said(existing)}"
    if not os.access(existing, os.R_OK | os.W_OK | os.X_OK):
        return f"{cannot}: it needs read, write and search (rwx) access there"
    # Root may use the blocks a file system keeps back from everyone else.
    if (space.f_bfree if os.geteuid() == 0 else space.f_bavail) == 0:
        return f"{cannot}: its file system is full (no space left on device)"
    return None


class RunStart(ConfigurableResource):
    """The checks at the start of a run (see the module docstring)."""

    publish_dir: str = Field(description="The publication directory (PERFPLAT_PUBLISH_DIR).")
    data_dir: str | None = Field(
        default=None,
        description="The embedded default's home (PERFPLAT_DATA_DIR), where the run keeps something in it "
        "(the SQLite metrics store, a sample's files); None: nothing is kept there.",
    )
    store: MetricsStore | None = Field(default=None, description="The metrics store, whose series it guards.")
    sample_settings: dict[str, list[str]] = Field(
        default_factory=dict,
        description="By service, the settings left unset, whose sources serve the embedded sample.",
    )
    allow_sample_data: bool = Field(
        default=False,
        description="Let the sample's figures and real ones share a series (PERFPLAT_ALLOW_SAMPLE_DATA).",
    )

    _series_checked: set[tuple[str, str]] = PrivateAttr(default_factory=set)  # (run id, service)

    def check(self, context: AssetExecutionContext) -> None:
        problem = directory_problem(Path(self.data_dir).resolve()) if self.data_dir else None
        if problem:
            raise Failure(
                f"{DATA_DIR_SETTING}: {clause(problem)}. Nothing was asked of any source; nothing was "
                "published."
            )
        service = context.asset_key.path[0]
        if (context.run.run_id, service) not in self._series_checked:  # once a run, not by each of its steps
            self.refuse_mixed_series(service)
            self._series_checked.add((context.run.run_id, service))
        publication = AssetKey([*context.asset_key.path[:-1], DATA_GOV_UK_PUBLICATION])
        if publication not in context.job_def.asset_layer.selected_asset_keys:
            return  # the run does not publish
        problem = directory_problem(Path(self.publish_dir).resolve())
        if problem:
            raise Failure(
                f"{PUBLISH_DIR_SETTING}: {clause(problem)}. Nothing was asked of any source; nothing was "
                "published."
            )

    def refuse_mixed_series(self, service: str) -> None:
        """A service's series is the sample's or real, never both: the embedded sample's figures never join
        real ones (imported, or from configured sources) in the store, nor real ones the sample's, unless
        PERFPLAT_ALLOW_SAMPLE_DATA says so for a demonstration."""
        if self.store is None or self.allow_sample_data:
            return
        unset = self.sample_settings.get(service, [])
        title = service_called(service).short_title
        nothing = f"Nothing was asked of {title}'s sources; nothing of it was written."
        try:
            makeup = series_makeup(self.store, service)
        except SourceUnavailable as error:
            raise Failure(f"{clause(error)}. {nothing}") from None
        where = f"{title}'s series in the metrics store ({self.store.describe()})"
        allow = "PERFPLAT_ALLOW_SAMPLE_DATA=true lets them mix, for a demonstration"
        if unset and makeup.real:
            raise Failure(
                f"{where} holds figures not from the embedded sample ({spans(makeup.real)}: imported, or "
                f"from configured sources), and {', '.join(unset)} unset would add the sample's synthetic "
                f"figures to them: set {'it' if len(unset) == 1 else 'them'}, or point "
                f"PERFPLAT_METRICS_DB_URL at another store ({allow}). {nothing}"
            )
        if not unset and makeup.synthetic:
            raise Failure(
                f"{where} holds the embedded sample's synthetic figures ({spans(makeup.synthetic)}), and "
                "this run reads configured sources, so real figures would be published beside made-up ones: "
                f"start from an empty store (the checkout's default: `make clean`) or point "
                f"PERFPLAT_METRICS_DB_URL at another ({allow}). {nothing}"
            )
