"""What a run checks before any source is asked: the settings only the run's own machine can judge.

The publication directory lives on the runs' filesystem, which the code server may not share, so it cannot
be checked when the code location loads. Every measure's step checks it first instead, so a directory that
cannot take the publication fails the run before GA4, the databases or CloudWatch are asked anything.
"""

from __future__ import annotations

import os
from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, ConfigurableResource, Failure
from pydantic import Field

from perfplat_assets.asset_names import DATA_GOV_UK_PUBLICATION
from perfplat_assets.common.files import kind_of, write_barrier

PUBLISH_DIR_SETTING = "PERFPLAT_PUBLISH_DIR"


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

    def check(self, context: AssetExecutionContext) -> None:
        publication = AssetKey([*context.asset_key.path[:-1], DATA_GOV_UK_PUBLICATION])
        if publication not in context.job_def.asset_layer.selected_asset_keys:
            return  # the run does not publish
        problem = directory_problem(Path(self.publish_dir).resolve())
        if problem:
            raise Failure(
                f"{PUBLISH_DIR_SETTING}: {problem}. Nothing was asked of any source; nothing was published."
            )
