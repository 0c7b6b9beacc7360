"""The local publication directory (PERFPLAT_PUBLISH_DIR), atomic as a set."""

from __future__ import annotations

import os
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from dagster import ConfigurableResource
from pydantic import Field

from perfplat_assets.common.sql_source import DEFAULT_DATA_DIR
from perfplat_assets.publication.plan import PublicationPlan
from perfplat_assets.publication.targets import Change, HeldFiles, PublicationFailed, file_changes


class PublicationDirectory(ConfigurableResource):
    """The local publication directory (PERFPLAT_PUBLISH_DIR), atomic as a set.

    Each publication is a complete version under `.versions/`; `.current` is a symlink to one of them, and
    every published name (`data.json`, the month files, ...) is a symlink through it. Switching `.current`
    is one rename, so a reader sees one publication's files or the next one's, never a mix, and undoing is
    switching it back. Files from before versioning are adopted into the first version unchanged.
    """

    name: ClassVar[str] = "directory"
    path: str = Field(
        default=f"{DEFAULT_DATA_DIR}/publish", description="Directory the files are written to."
    )

    def directory(self) -> Path:
        return Path(self.path).resolve()

    def _fail(self, doing: str, error: OSError | str) -> PublicationFailed:
        return PublicationFailed(f"publication directory {self.directory()}: {doing} failed: {error}")

    def read(self, name: str) -> bytes | None:
        path = self.directory() / name
        if path.is_dir():
            raise PublicationFailed(
                f"publication directory {self.directory()}: {name} is a directory, where the published "
                "file belongs: move it away"
            )
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise self._fail(f"reading {name}", error) from None

    def _version(self) -> str | None:
        link = self.directory() / CURRENT
        return os.readlink(link) if link.is_symlink() else None

    def read_current(self, plan: PublicationPlan) -> HeldFiles:
        return HeldFiles({item.name: self.read(item.name) for item in plan.files}, self._version())

    def changes(self, plan: PublicationPlan, current: HeldFiles) -> list[Change]:
        return file_changes(self.name, plan, current)

    def apply(self, plan: PublicationPlan, current: HeldFiles) -> None:
        try:
            previous = current.version or self._adopt()
            staged = self._stage(plan, previous)
            self._link(sorted(os.listdir(self.directory() / staged)))
            self._point_current_at(staged)
            self._prune(keep={staged, previous})
        except OSError as error:
            raise self._fail("writing the new version", error) from None

    def undo(self, plan: PublicationPlan, current: HeldFiles) -> bool:
        """Back to the version that was current (or the adopted files); names the plan added go. Writes
        nothing where nothing changed, so a read-only or full directory can still be left as it was."""
        directory = self.directory()
        try:
            previous = current.version or (ADOPTED if (directory / ADOPTED).is_dir() else None)
            changed = self._version() != previous
            if changed and previous:
                self._point_current_at(previous)
            for item in plan.files:
                top = directory / item.name
                if current.files.get(item.name) is None and top.is_symlink():
                    top.unlink()
                    changed = True
            if previous is None and (directory / CURRENT).is_symlink():
                (directory / CURRENT).unlink()
        except OSError as error:
            raise self._fail("restoring the previous version", error) from None
        return changed

    def _adopt(self) -> str:
        """The first versioned publication: the files already published become a version as they are."""
        directory = self.directory()
        adopted = directory / ADOPTED
        adopted.mkdir(parents=True, exist_ok=True)
        for entry in os.scandir(directory) if directory.is_dir() else []:
            if not entry.name.startswith(".") and entry.is_file(follow_symlinks=False):
                _write_durably(adopted / entry.name, Path(entry.path).read_bytes())
        self._point_current_at(ADOPTED)
        return ADOPTED

    def _stage(self, plan: PublicationPlan, previous: str) -> str:
        """A complete new version beside the current one: its files, hard-linked (they never change once
        written), with the plan's files written and flushed over them."""
        directory = self.directory()
        name = f"{VERSIONS}/{datetime.now(UTC):%Y%m%dT%H%M%S}-{plan.digest[:8]}-{uuid.uuid4().hex[:6]}"
        staged, source = directory / name, directory / previous
        staged.mkdir(parents=True)
        try:
            planned = {item.name for item in plan.files}
            for entry in os.scandir(source):
                if entry.name not in planned:
                    os.link(entry.path, staged / entry.name)
            for item in plan.files:
                _write_durably(staged / item.name, item.content)
            _sync_directory(staged)
        except OSError:
            _remove_tree(staged)
            raise
        return name

    def _link(self, names: list[str]) -> None:
        """Each published name resolves through `.current`. A name new in this version dangles until the
        switch (not yet published, to a reader); an adopted plain file becomes a link to the same bytes."""
        directory = self.directory()
        for name in names:
            top = directory / name
            if top.is_symlink() and os.readlink(top) == f"{CURRENT}/{name}":
                continue
            temporary = directory / f".{name}.{uuid.uuid4().hex[:6]}.tmp"
            os.symlink(f"{CURRENT}/{name}", temporary)
            try:
                os.replace(temporary, top)
            except OSError:
                temporary.unlink(missing_ok=True)
                raise

    def _point_current_at(self, version: str) -> None:
        directory = self.directory()
        temporary = directory / f".current.{uuid.uuid4().hex[:6]}.tmp"
        os.symlink(version, temporary)
        os.replace(temporary, directory / CURRENT)
        _sync_directory(directory)

    def _prune(self, keep: set[str]) -> None:
        """Versions other than the current and the previous one (kept for an undo) go."""
        versions = self.directory() / VERSIONS
        for entry in os.scandir(versions):
            if f"{VERSIONS}/{entry.name}" not in keep:
                _remove_tree(Path(entry.path))


VERSIONS, CURRENT = ".versions", ".current"
ADOPTED = f"{VERSIONS}/adopted"


def _write_durably(path: Path, content: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)


def _sync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _remove_tree(path: Path) -> None:
    for entry in sorted(path.rglob("*"), reverse=True):
        entry.rmdir() if entry.is_dir() and not entry.is_symlink() else entry.unlink()
    path.rmdir()
