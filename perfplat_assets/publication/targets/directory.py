"""The local publication directory (PERFPLAT_PUBLISH_DIR): atomic as a set, and never turned against
perfplat by whoever else can write there.

Each publication is a complete version under `.versions/`; `.current` is a symlink to one of them, and every
published name (`data.json`, the month files, ...) is a symlink through it. Switching `.current` is one
rename, so a reader sees one publication's files or the next one's, never a mix, and undoing is switching
it back.

The directory is untrusted. perfplat records each version it makes, with its files' names and digests, in
the metrics store (a marker inside the directory could be forged, and would be published), and trusts only
that record: `.versions`, `.current`, the versions and the published names must be exactly what it made,
or it refuses before writing anything, naming the entry to remove. Every operation is relative to a
descriptor of the directory and never follows a link (`O_NOFOLLOW`, `dir_fd`, `follow_symlinks=False`,
`shutil.rmtree` on descriptors), so nothing outside it is read, written or deleted whatever is planted.
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import shutil
import stat
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

from dagster import ConfigurableResource
from pydantic import Field, PrivateAttr

from perfplat_assets.common.files import FileRefused, kind_of, read_bounded
from perfplat_assets.common.service import Service
from perfplat_assets.common.sql_source import DEFAULT_DATA_DIR
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.publication.committing import journal
from perfplat_assets.publication.committing.plan import PublicationPlan
from perfplat_assets.publication.committing.target import Change, HeldFiles, PublicationFailed, file_changes
from perfplat_assets.publication.published_format.files import is_published_name
from perfplat_assets.publication.targets import directory_versions
from perfplat_assets.services.registry import service_called

SETTING = "PERFPLAT_PUBLISH_DIR"
VERSIONS, CURRENT = ".versions", ".current"
MAX_FILE_BYTES = 50_000_000  # a published file is at most a few MB; more is not one perfplat wrote
_VERSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


# The version files are carried from, and those files with the bytes the record says they hold.
_Carried = tuple[str | None, Mapping[str, bytes]]


class DirectoryRefused(PublicationFailed):
    """An entry of the directory is not what perfplat made: named, with what to remove."""


@dataclass
class _Survey:
    """What the directory holds, checked against the record: the current version and its files' bytes."""

    recorded: dict[str, dict[str, str]] = field(default_factory=dict)  # version: {name: sha256}
    current: str | None = None  # the version `.current` names
    held: dict[str, bytes] = field(default_factory=dict)  # the current publication's files
    plain: bool = False  # the files are plain ones from before versioning, to be adopted


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class PublicationDirectory(ConfigurableResource):
    """The local publication directory, its versions recorded in the metrics store (see module docstring)."""

    name: ClassVar[str] = "directory"
    label: ClassVar[str] = "directory"
    holds_files: ClassVar[bool] = True
    path: str = Field(
        default=f"{DEFAULT_DATA_DIR}/publish", description="Directory the files are written to."
    )
    store: MetricsStore
    service: str = Field(description="The service whose files it holds, by name: make_an_lpa.")

    _adopted: str | None = PrivateAttr(default=None)

    @property
    def published_service(self) -> Service:
        return service_called(self.service)

    def directory(self) -> Path:
        return Path(self.path).resolve()

    # --- checks before a run and before anything is written -------------------------------------------

    def _refused(self, problem: str) -> PublicationFailed:
        return PublicationFailed(f"{SETTING}: {problem}")

    def _fail(self, doing: str, error: OSError | str) -> PublicationFailed:
        if isinstance(error, PermissionError) or getattr(error, "errno", None) in (errno.EACCES, errno.EPERM):
            return PublicationFailed(
                f"{SETTING} ({self.directory()}): {doing} was refused: permission denied; perfplat needs "
                "read, write and search (rwx) access to the directory and everything in it"
            )
        if getattr(error, "errno", None) == errno.EROFS:
            return PublicationFailed(
                f"{SETTING} ({self.directory()}): {doing} failed: the file system is read-only"
            )
        detail = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        return PublicationFailed(f"publication directory {self.directory()}: {doing} failed: {detail}")

    def _entry_refused(self, entry: str, problem: str, remedy: str = "") -> DirectoryRefused:
        return DirectoryRefused(
            f"publication directory {self.directory()}: {entry} {problem}, so it is not perfplat's: "
            f"{remedy or f'remove {entry}'}"
        )

    # --- the target's shape ---------------------------------------------------------------------------

    def read_current(self, plan: PublicationPlan) -> HeldFiles:
        survey = self._survey(plan)
        files = {item.name: survey.held.get(item.name) for item in plan.files}
        return HeldFiles(files, None if survey.plain else survey.current)

    def changes(self, plan: PublicationPlan, current: HeldFiles) -> list[Change]:
        return file_changes(self.name, plan, current)

    def apply(self, plan: PublicationPlan, current: HeldFiles) -> None:
        survey = self._survey(plan)  # again: the directory may have changed since it was read
        self._adopted = None
        try:
            os.makedirs(self.directory(), exist_ok=True)
            with self._opened() as top:
                previous = survey.current
                if survey.held and (survey.plain or survey.current not in survey.recorded):
                    previous = self._adopt(top, survey)
                planned = {item.name: item.content for item in plan.files}
                carried = {name: data for name, data in survey.held.items() if name not in planned}
                staged = self._stage(top, plan, planned, (previous, carried))
                self._link(top, sorted({**survey.held, **planned}))
                self._point_current_at(top, staged)
                self._prune(top, survey.recorded, keep={staged, previous})
                _remove_leftover_links(top)
        except PublicationFailed:
            raise
        except journal.StoreFailed as error:
            raise self._fail("recording the new version", str(error)) from None
        except OSError as error:
            raise self._fail("writing the new version", error) from None

    def undo(self, plan: PublicationPlan, current: HeldFiles) -> str | None:
        """Back to the version that was current (or the adopted files). Writes nothing where nothing
        changed, so a read-only or full directory can still be left as it was. Says what it holds now."""
        previous = current.version or self._adopted
        try:
            with self._opened() as top:
                now = _link_target(top, CURRENT)
                changed = now != (f"{VERSIONS}/{previous}" if previous else None)
                if changed and previous:
                    _replace_symlink(top, f"{VERSIONS}/{previous}", CURRENT)
                elif changed and now is not None:
                    os.unlink(CURRENT, dir_fd=top)
                for item in plan.files:
                    if current.files.get(item.name) is None and _is_ours(top, item.name):
                        os.unlink(item.name, dir_fd=top)
                        changed = True
                if changed:
                    os.fsync(top)
                restored = _link_target(top, CURRENT) == (f"{VERSIONS}/{previous}" if previous else None)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise self._fail("restoring the previous version", error) from None
        if not changed:
            return None
        if not restored:
            raise self._fail("restoring the previous version", f"{CURRENT} does not name it")
        return "restored to the previous publication" if previous else "holds no publication, as before"

    # --- the survey: what is there, checked against the record, read without following a link --------

    @contextmanager
    def _opened(self) -> Iterator[int]:
        descriptor = os.open(self.directory(), _DIRECTORY_FLAGS)
        try:
            yield descriptor
        finally:
            os.close(descriptor)

    def _survey(self, plan: PublicationPlan) -> _Survey:
        directory = self.directory()
        if not os.path.lexists(directory):
            return _Survey()
        if not directory.is_dir():
            raise self._refused(f"{directory} is {kind_of(os.lstat(directory).st_mode)}, not a directory")
        survey = _Survey(recorded=directory_versions.directory_versions_of(self.store, str(directory)))
        try:
            with self._opened() as top:
                self._check_versions(top, survey)
                survey.current = self._current(top, survey)
                if survey.current is not None:
                    survey.held = self._version_files(top, survey, survey.current)
                else:
                    survey.plain = True
                    survey.held = self._plain_files(top)
                self._check_published_names(top, survey, {item.name for item in plan.files})
        except PublicationFailed:
            raise
        except OSError as error:
            raise self._fail("reading what it holds", error) from None
        return survey

    def _check_versions(self, top: int, survey: _Survey) -> None:
        mode = _mode(top, VERSIONS)
        if mode is None:
            return
        if not stat.S_ISDIR(mode):
            raise self._entry_refused(f"{VERSIONS}", f"is {kind_of(mode)}{_pointing(top, VERSIONS)}")
        with _opened_at(top, VERSIONS) as versions:
            for version in survey.recorded:
                kind = _mode(versions, version)
                if kind is not None and not stat.S_ISDIR(kind):
                    entry = f"{VERSIONS}/{version}"
                    raise self._entry_refused(entry, f"is {kind_of(kind)}{_pointing(versions, version)}")

    def _current(self, top: int, survey: _Survey) -> str | None:
        mode = _mode(top, CURRENT)
        if mode is None:
            return None
        if not stat.S_ISLNK(mode):
            raise self._entry_refused(CURRENT, f"is {kind_of(mode)}, where perfplat keeps a symbolic link")
        target = os.readlink(CURRENT, dir_fd=top)
        version = target.removeprefix(f"{VERSIONS}/")
        if target == version or not _VERSION_NAME.fullmatch(version) or ".." in version:
            raise self._entry_refused(CURRENT, f"links to {target!r}, outside {VERSIONS}")
        if survey.recorded and version not in survey.recorded:
            raise self._entry_refused(
                CURRENT, f"links to {target}, a version perfplat did not make", f"remove {CURRENT}"
            )
        if (kind := _mode_in(top, VERSIONS, version)) is None or not stat.S_ISDIR(kind):
            shown = "missing" if kind is None else f"{kind_of(kind)}"
            raise self._entry_refused(CURRENT, f"links to {target}, which is {shown}", f"remove {CURRENT}")
        return version

    def _version_files(self, top: int, survey: _Survey, version: str) -> dict[str, bytes]:
        """The current version's files; each must be one the record lists, with the recorded bytes (a
        version from before the record is adopted as it is, once)."""
        expected = survey.recorded.get(version)
        held = {}
        with _opened_at(top, VERSIONS) as versions, _opened_at(versions, version) as folder:
            for name in sorted(os.listdir(folder)):
                entry = f"{VERSIONS}/{version}/{name}"
                if (expected is not None and name not in expected) or (
                    expected is None and not is_published_name(self.published_service, name)
                ):
                    raise self._entry_refused(entry, "is not a file perfplat published in that version")
                content = self._read(folder, name, entry, single_link=False)
                if expected is not None and _digest(content) != expected[name]:
                    raise self._entry_refused(
                        entry,
                        "does not hold what perfplat wrote there (its digest differs)",
                        f"remove {entry} and re-run the month it belongs to: perfplat writes it again",
                    )
                held[name] = content
        return held

    def _plain_files(self, top: int) -> dict[str, bytes]:
        """Before versioning, the published files were plain files: they are adopted as they are. Only
        perfplat's own names are taken, and only files with one link (a hard link could be anything)."""
        held = {}
        for name in sorted(os.listdir(top)):
            mode = _mode(top, name)
            if is_published_name(self.published_service, name) and mode is not None and stat.S_ISREG(mode):
                held[name] = self._read(top, name, name, single_link=True)
        return held

    def _check_published_names(self, top: int, survey: _Survey, planned: set[str]) -> None:
        """Each published name is absent, a link perfplat made through `.current`, or (before versioning)
        a plain file it adopts."""
        for name in sorted(planned | set(survey.held)):
            mode = _mode(top, name)
            if mode is None or _is_ours(top, name):
                continue
            if survey.plain and stat.S_ISREG(mode) and name in survey.held:
                continue
            if stat.S_ISLNK(mode):
                problem = (
                    f"is a symbolic link to {os.readlink(name, dir_fd=top)!r}, which perfplat did not make"
                )
            else:
                problem = f"is {kind_of(mode)} where perfplat publishes its file"
            raise self._entry_refused(name, problem)

    def _read(self, folder: int, name: str, entry: str, *, single_link: bool) -> bytes:
        """A file's bytes, read as perfplat reads every file it is handed (`read_bounded`). A plain file with
        other names (a hard link) could hold anything, so it is refused; a version's files are checked by
        digest."""
        try:
            return read_bounded(
                name, MAX_FILE_BYTES, "a file perfplat published", dir_fd=folder, single_link=single_link
            )
        except FileRefused as refused:
            problem = str(refused) if refused.mode is None else f"is {kind_of(refused.mode)}"
            raise self._entry_refused(entry, problem + _pointing(folder, name)) from None

    # --- writing: each step relative to the directory's descriptor, never through a link ---------------

    def _adopt(self, top: int, survey: _Survey) -> str:
        """The files published before the record (plain files, or a version an earlier perfplat made)
        become a recorded version as they are, so that an undo has something to go back to."""
        version = f"adopted-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        self._write_version(top, version, survey.held)
        self._link(top, sorted(survey.held))
        self._point_current_at(top, version)
        self._adopted = version
        return version

    def _stage(self, top: int, plan: PublicationPlan, written: Mapping[str, bytes], carried: _Carried) -> str:
        """A complete new version beside the current one: the plan's files and those it carries."""
        version = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{plan.digest[:8]}-{uuid.uuid4().hex[:6]}"
        self._write_version(top, version, written, carried)
        return version

    def _write_version(
        self, top: int, version: str, written: Mapping[str, bytes], carried: _Carried = (None, {})
    ) -> None:
        """Recorded first, then written: every version in the directory that perfplat made is on record.
        The files carried from the previous version are hard-linked (they never change once written, and a
        copy of every month file each time would fill a small disk), each checked against its recorded
        digest once linked: a swap of the entry before the link is caught, and after it the link holds."""
        source, kept = carried
        digests = {name: _digest(data) for name, data in {**kept, **written}.items()}
        directory_versions.record_directory_version(self.store, str(self.directory()), version, digests)
        with suppress(FileExistsError):
            os.mkdir(VERSIONS, 0o755, dir_fd=top)
        with _opened_at(top, VERSIONS) as versions:
            os.mkdir(version, 0o755, dir_fd=versions)
            with _opened_at(versions, version) as folder:
                if kept and source is not None:
                    self._link_carried(versions, source, folder, version, {n: digests[n] for n in kept})
                for name, data in written.items():
                    _write_new(folder, name, data)
                os.fsync(folder)
            os.fsync(versions)

    def _link_carried(
        self, versions: int, source: str, folder: int, version: str, digests: Mapping[str, str]
    ) -> None:
        with _opened_at(versions, source) as previous:
            for name, digest in digests.items():
                os.link(name, name, src_dir_fd=previous, dst_dir_fd=folder, follow_symlinks=False)
                entry = f"{VERSIONS}/{version}/{name}"
                if _digest(self._read(folder, name, entry, single_link=False)) != digest:
                    raise self._entry_refused(
                        f"{VERSIONS}/{source}/{name}", "changed while it was being carried into a new version"
                    )

    def _link(self, top: int, names: list[str]) -> None:
        """Each published name resolves through `.current`. A name new in this version dangles until the
        switch (not yet published, to a reader); an adopted plain file becomes a link to the same bytes."""
        for name in names:
            if not _is_ours(top, name):
                _replace_symlink(top, f"{CURRENT}/{name}", name)

    def _point_current_at(self, top: int, version: str) -> None:
        _replace_symlink(top, f"{VERSIONS}/{version}", CURRENT)
        os.fsync(top)

    def _prune(self, top: int, recorded: Iterable[str], keep: set[str | None]) -> None:
        """Recorded versions other than the current and the previous one (kept for an undo) go; a version
        perfplat has no record of is never touched. (The versions this publication recorded are among those
        kept, so the record the survey read is the whole of what may go.)"""
        gone = [version for version in recorded if version not in keep]
        with _opened_at(top, VERSIONS) as versions:
            for version in gone:
                if _mode(versions, version) is not None:
                    shutil.rmtree(version, dir_fd=versions)  # on descriptors: never follows a link
        directory_versions.forget_directory_versions(self.store, str(self.directory()), gone)


def _mode(folder: int, name: str) -> int | None:
    try:
        return os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return None


def _mode_in(top: int, parent: str, name: str) -> int | None:
    with _opened_at(top, parent) as folder:
        return _mode(folder, name)


def _pointing(folder: int, name: str) -> str:
    try:
        return f" to {os.readlink(name, dir_fd=folder)!r}"
    except OSError:
        return ""


@contextmanager
def _opened_at(folder: int, name: str) -> Iterator[int]:
    descriptor = os.open(name, _DIRECTORY_FLAGS, dir_fd=folder)
    try:
        yield descriptor
    finally:
        os.close(descriptor)


def _link_target(folder: int, name: str) -> str | None:
    try:
        return os.readlink(name, dir_fd=folder)
    except (FileNotFoundError, OSError) as error:
        if isinstance(error, FileNotFoundError) or error.errno == errno.EINVAL:
            return None
        raise


def _is_ours(top: int, name: str) -> bool:
    """A published name perfplat made: a symbolic link through `.current` to the same name."""
    return _link_target(top, name) == f"{CURRENT}/{name}"


_TEMPORARY_LINK = re.compile(r"\.(?P<name>.+)\.[0-9a-f]{6}\.tmp")


def _temporary_link(name: str) -> str:
    return f".{name}.{uuid.uuid4().hex[:6]}.tmp"


def _remove_leftover_links(top: int) -> None:
    """The temporary links of a run killed between making one and renaming it into place: only a link
    named as perfplat names them and pointing where perfplat points them is removed (unlinking a link never
    touches what it points to); anything else of that name is left alone."""
    for entry in os.listdir(top):
        found = _TEMPORARY_LINK.fullmatch(entry)
        target = _link_target(top, entry) if found else None
        if found and target in (f"{CURRENT}/{found['name']}", *_version_targets(target)):
            os.unlink(entry, dir_fd=top)


def _version_targets(target: str | None) -> tuple[str, ...]:
    """`target` itself when it is where `.current` points (a version), else nothing."""
    version = (target or "").removeprefix(f"{VERSIONS}/")
    return (target,) if target and version != target and _VERSION_NAME.fullmatch(version) else ()


def _replace_symlink(top: int, target: str, name: str) -> None:
    """`name` becomes a link to `target` in one rename, which replaces the entry itself, never what it
    links to."""
    temporary = _temporary_link(name)
    os.symlink(target, temporary, dir_fd=top)
    try:
        os.replace(temporary, name, src_dir_fd=top, dst_dir_fd=top)
    except OSError:
        os.unlink(temporary, dir_fd=top)
        raise


def _write_new(folder: int, name: str, content: bytes) -> None:
    """A new file, flushed; `O_EXCL | O_NOFOLLOW`: never an existing entry, never through a link."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    descriptor = os.open(name, flags, 0o644, dir_fd=folder)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
        file.flush()
        os.fsync(descriptor)
