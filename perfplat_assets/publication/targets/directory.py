"""The local publication directory (PERFPLAT_PUBLISH_DIR): OPG's layout, atomic as a set per service, and
never turned against perfplat by whoever else can write there.

The layout is OPG's own: each service's cumulative files in its folder (`<stem>_service/data.json`, ...) and
its month files at the top (`<stem>_YY_MM.json`), where OPG's automation looks; `report.html` at the top is
the index of every service (`write_index`). Within a service's folder each publication is a complete version
under `.versions/`; `.current` is a symlink to one of them; each cumulative name in the folder is a symlink
through it, and each month file at the top a symlink through `<folder>/.current`, made once `.current` has
switched. Switching `.current` is one rename, so a reader sees one publication's files or the next one's,
never a mix, and undoing is switching it back. Another service's folder and month files are not this
target's business: it never reads, writes or removes them.

The directory is untrusted. perfplat records each version it makes, with its files' names and digests, in
the metrics store under the folder's path (a marker inside the directory could be forged, and would be
published), and trusts only that record: the folder, `.versions`, `.current`, the versions and the published
names must be exactly what it made, or it refuses before writing anything, naming the entry to remove. Every
operation is relative to a descriptor of the directory and never follows a link (`O_NOFOLLOW`, `dir_fd`,
`follow_symlinks=False`, `shutil.rmtree` on descriptors), so nothing outside it is read, written or deleted
whatever is planted.

The perfplat that published one service alone (Make an LPA) left a flat layout: `.versions`, `.current` and
every published name at the top (or, before versioning, plain files). The service that inherits it carries
it over on its first read, in a few renames, nothing rewritten; any other service refuses to publish beside
it until then.
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

from perfplat_assets.common.errors import clause, file_system_cause
from perfplat_assets.common.files import FileRefused, WriteBarrier, kind_of, read_bounded, write_barrier
from perfplat_assets.common.service import Service
from perfplat_assets.common.sql_source import DEFAULT_DATA_DIR
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.publication.committing import journal
from perfplat_assets.publication.committing.plan import PublicationPlan
from perfplat_assets.publication.committing.target import Change, HeldFiles, PublicationFailed, file_changes
from perfplat_assets.publication.published_format.files import is_published_name
from perfplat_assets.publication.published_format.records import CUMULATIVE_FILES, RECORDS_JSON, REPORT_HTML
from perfplat_assets.publication.targets import directory_versions
from perfplat_assets.services.registry import service_called, services

SETTING = "PERFPLAT_PUBLISH_DIR"
VERSIONS, CURRENT = ".versions", ".current"
INDEX = REPORT_HTML  # the index of every service, at the top
# The index's digests on record, under the top's path: a name no version can have (`_VERSION_NAME`).
INDEX_RECORD = ".index"
MAX_FILE_BYTES = 50_000_000  # a published file is at most a few MB; more is not one perfplat wrote
_VERSION_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_DIRECTORY_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


# The version files are carried from, and those files with the bytes the record says they hold.
_Carried = tuple[str | None, Mapping[str, bytes]]


class DirectoryRefused(PublicationFailed):
    """An entry of the directory is not what perfplat made: named, with what to remove."""


@dataclass
class _Survey:
    """What the service's folder holds, checked against the record: the current version and its files."""

    recorded: dict[str, dict[str, str]] = field(default_factory=dict)  # version: {name: sha256}
    current: str | None = None  # the version `.current` names
    held: dict[str, bytes] = field(default_factory=dict)  # the current publication's files


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
    _staged: str | None = PrivateAttr(default=None)  # the version this apply wrote: an undo removes it
    _made: list[str] = PrivateAttr(default_factory=list)  # what this apply created: the folder, .versions
    _carried_over: str | None = PrivateAttr(default=None)

    @property
    def published_service(self) -> Service:
        return service_called(self.service)

    @property
    def carried_over(self) -> str | None:
        """What carrying the single-service layout over moved, for the caller to log: set by the read that
        did it (`read_current`, or `apply` if the read found it already done) and by nothing after, since
        nothing is left to carry."""
        return self._carried_over

    def directory(self) -> Path:
        """The top of the publication (PERFPLAT_PUBLISH_DIR)."""
        return Path(self.path).resolve()

    def folder(self) -> Path:
        """The service's folder, holding its cumulative files and its versions."""
        return self.directory() / self.published_service.folder

    def location(self, name: str) -> Path:
        """Where the published `name` is visible: the top for a month file, the service's folder else."""
        return self.directory() if self._is_month_file(name) else self.folder()

    def _is_month_file(self, name: str) -> bool:
        return bool(self.published_service.month_file_pattern.fullmatch(name))

    @property
    def _folder_name(self) -> str:
        return self.published_service.folder

    def _month_link(self, name: str) -> str:
        """What a month file at the top links to."""
        return f"{self._folder_name}/{CURRENT}/{name}"

    def _record_key(self) -> str:
        return str(self.folder())

    # --- checks before a run and before anything is written -------------------------------------------

    def _refused(self, problem: str) -> PublicationFailed:
        return PublicationFailed(f"{SETTING}: {problem}")

    def _fail(self, doing: str, error: OSError | str) -> PublicationFailed:
        """The failure of `doing`, naming its cause as the file system gave it (`file_system_cause`): for an
        operation not permitted, the entry that is immutable or append-only, where one is."""
        where, directory = f"{SETTING} ({self.directory()})", f"publication directory {self.directory()}"
        if isinstance(error, str):  # the metrics store's, already a sentence
            return PublicationFailed(f"{directory}: {doing} failed: {clause(error)}")
        if error.errno == errno.EACCES:
            return PublicationFailed(
                f"{where}: {doing} was refused: permission denied; perfplat needs read, write and search "
                "(rwx) access to the directory and everything in it"
            )
        if error.errno == errno.EPERM and (found := self._write_barrier(error)):
            entry, barrier = found
            return PublicationFailed(f"{where}: {doing} was refused: {barrier.said(entry, str(entry))}")
        if error.errno in (errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT):
            return PublicationFailed(f"{where}: {doing} failed: {file_system_cause(error)}")
        return PublicationFailed(f"{directory}: {doing} failed: {file_system_cause(error)}")

    def _write_barrier(self, error: OSError) -> tuple[Path, WriteBarrier] | None:
        """The entry where perfplat writes that is immutable or append-only, with which, if one is: the
        top, the service's folder, its versions, or the entry the failed call named."""
        top, folder = self.directory(), self.folder()
        named = [folder / error.filename, top / error.filename] if isinstance(error.filename, str) else []
        for entry in (top, folder, folder / VERSIONS, *named):
            if (found := write_barrier(entry)) is not None:
                return entry, found
        return None

    def _entry_refused(self, entry: str, problem: str, remedy: str = "") -> DirectoryRefused:
        """`entry` is named from the top of the directory (`<folder>/.versions/...`), as an operator
        finds it."""
        return DirectoryRefused(
            f"publication directory {self.directory()}: {entry} {problem}, so it is not perfplat's: "
            f"{remedy or f'remove {entry}'}"
        )

    def _in_folder(self, entry: str) -> str:
        return f"{self._folder_name}/{entry}"

    # --- the target's shape ---------------------------------------------------------------------------

    def read_current(self, plan: PublicationPlan) -> HeldFiles:
        self._carried_over = None
        survey = self._survey(plan)
        files = {item.name: survey.held.get(item.name) for item in plan.files}
        return HeldFiles(files, survey.current)

    def changes(self, plan: PublicationPlan, current: HeldFiles) -> list[Change]:
        return file_changes(self.name, plan, current)

    def apply(self, plan: PublicationPlan, current: HeldFiles) -> None:
        survey = self._survey(plan)  # again: the directory may have changed since it was read
        self._adopted, self._staged, self._made = None, None, []
        try:
            os.makedirs(self.directory(), exist_ok=True)
            with self._opened() as top:
                self._make_folder(top)
                with _opened_at(top, self._folder_name) as folder:
                    previous = survey.current
                    if survey.held and survey.current not in survey.recorded:
                        previous = self._adopt(top, folder, survey.held)
                    planned = {item.name: item.content for item in plan.files}
                    carried = {name: data for name, data in survey.held.items() if name not in planned}
                    staged = self._stage(folder, plan, planned, (previous, carried))
                    names = sorted({**survey.held, **planned})
                    self._link(folder, [name for name in names if not self._is_month_file(name)])
                    self._point_current_at(folder, staged)
                    self._link_months(top, [name for name in names if self._is_month_file(name)])
                    self._prune(folder, survey.recorded, keep={staged, previous})
                    _remove_leftover_links(folder, "", versions=True)
                    _remove_leftover_links(top, f"{self._folder_name}/", versions=False)
        except PublicationFailed:
            raise
        except journal.StoreFailed as error:
            raise self._fail("recording the new version", str(error)) from None
        except OSError as error:
            raise self._fail("writing the new version", error) from None

    def undo(self, plan: PublicationPlan, current: HeldFiles) -> str | None:
        """Back to the version that was current (or the adopted files): the month files this publication
        added leave the top first, then `.current` switches back. Writes nothing where nothing changed, so a
        read-only or full directory can still be left as it was. The version it wrote, and the folder and
        `.versions` if it made them, are removed once nothing points at them. Says what it holds now."""
        previous = current.version or self._adopted
        wanted = f"{VERSIONS}/{previous}" if previous else None
        new = [item.name for item in plan.files if current.files.get(item.name) is None]
        changed = False
        try:
            with self._opened() as top:
                for name in filter(self._is_month_file, new):
                    if _links_to(top, name, self._month_link(name)):
                        os.unlink(name, dir_fd=top)
                        changed = True
                if _mode(top, self._folder_name) is None:
                    return "holds no publication, as before" if changed else None
                with _opened_at(top, self._folder_name) as folder:
                    now = _link_target(folder, CURRENT)
                    if now != wanted and previous:
                        _replace_symlink(folder, wanted, CURRENT)
                    elif now != wanted and now is not None:
                        os.unlink(CURRENT, dir_fd=folder)
                    changed = changed or now != wanted
                    for name in new:
                        if not self._is_month_file(name) and _links_to(folder, name, f"{CURRENT}/{name}"):
                            os.unlink(name, dir_fd=folder)
                            changed = True
                    if changed:
                        os.fsync(folder)
                        os.fsync(top)
                    restored = _link_target(folder, CURRENT) == wanted
                    if restored:
                        self._remove_staged(folder)
                if restored:
                    self._remove_made(top)
        except FileNotFoundError:
            return None
        except OSError as error:
            raise self._fail("restoring the previous version", error) from None
        if not changed:
            return None
        if not restored:
            raise self._fail("restoring the previous version", f"{self._in_folder(CURRENT)} does not name it")
        return "restored to the previous publication" if previous else "holds no publication, as before"

    def _remove_staged(self, folder: int) -> None:
        """The version an undone publication wrote, and its record: nothing points at it any more. Left as
        it is if it cannot be removed (the record keeps it, and the next publication prunes it)."""
        if self._staged is None:
            return
        try:
            with _opened_at(folder, VERSIONS) as versions:
                if _mode(versions, self._staged) is not None:
                    shutil.rmtree(self._staged, dir_fd=versions)
        except OSError:
            return
        with suppress(journal.StoreFailed):
            directory_versions.forget_directory_versions(self.store, self._record_key(), [self._staged])
        self._staged = None

    def _remove_made(self, top: int) -> None:
        """`.versions` and the folder, if this apply made them and they are empty again."""
        with suppress(OSError):
            if VERSIONS in self._made:
                with _opened_at(top, self._folder_name) as folder:
                    os.rmdir(VERSIONS, dir_fd=folder)
            if self._folder_name in self._made:
                os.rmdir(self._folder_name, dir_fd=top)
        self._made = []

    # --- the index, at the top ------------------------------------------------------------------------

    def write_index(self, content: bytes) -> None:
        """`report.html` at the top, the index of every service's publication: written beside it and
        renamed into place, so a reader sees the old index or the new one. perfplat knows the index it
        wrote by its digest, recorded in the metrics store (under the top's path, as `.index`) before the
        file is written; anything else at `report.html` is refused, named, and left alone (the
        single-service layout's link there is carried over first by the service that inherits it)."""
        top_path = self.directory()
        try:
            os.makedirs(top_path, exist_ok=True)
            with self._opened() as top:
                self._carry_over(top)  # the single-service layout's report.html leaves the top first
                accepted = self._index_digests()
                before = self._index_held(top, set(accepted.values()))
                written = _digest(content)
                if before == written:
                    return
                pending = {INDEX: written, **({f"{INDEX} before": before} if before else {})}
                directory_versions.replace_directory_version(self.store, str(top_path), INDEX_RECORD, pending)
                temporary = _temporary_link(INDEX)
                _write_new(top, temporary, content)
                try:
                    os.replace(temporary, INDEX, src_dir_fd=top, dst_dir_fd=top)
                except OSError:
                    os.unlink(temporary, dir_fd=top)
                    raise
                os.fsync(top)
                directory_versions.replace_directory_version(
                    self.store, str(top_path), INDEX_RECORD, {INDEX: written}
                )
        except PublicationFailed:
            raise
        except journal.StoreFailed as error:
            raise self._fail("recording the index", str(error)) from None
        except OSError as error:
            raise self._fail(f"writing the index {INDEX}", error) from None

    def _index_digests(self) -> dict[str, str]:
        return directory_versions.directory_versions_of(self.store, str(self.directory())).get(
            INDEX_RECORD, {}
        )

    def _index_held(self, top: int, accepted: set[str]) -> str | None:
        """The digest of the index perfplat wrote, or None when there is none; anything else is refused."""
        mode = _mode(top, INDEX)
        if mode is None:
            return None
        if stat.S_ISLNK(mode) and _link_target(top, INDEX) == f"{CURRENT}/{INDEX}":
            raise self._flat_refused(top, INDEX)
        content = self._read(top, INDEX, INDEX, single_link=True)
        if _digest(content) not in accepted:
            raise self._entry_refused(
                INDEX, "is a regular file perfplat did not write (its digest is not the index's on record)"
            )
        return _digest(content)

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
        planned = {item.name for item in plan.files}
        survey = _Survey()
        try:
            with self._opened() as top:
                self._carry_over(top)
                self._check_top(top)
                if self._check_folder(top):
                    survey.recorded = directory_versions.directory_versions_of(self.store, self._record_key())
                    with _opened_at(top, self._folder_name) as folder:
                        self._check_versions(folder, survey)
                        survey.current = self._current(folder, survey)
                        if survey.current is not None:
                            survey.held = self._version_files(folder, survey, survey.current)
                        self._check_folder_names(folder, survey, planned)
                self._check_month_links(top, planned | set(survey.held))
        except PublicationFailed:
            raise
        except OSError as error:
            raise self._fail("reading what it holds", error) from None
        return survey

    def _check_folder(self, top: int) -> bool:
        """Whether the service's folder is there: a directory, never a link perfplat would go through."""
        mode = _mode(top, self._folder_name)
        if mode is None:
            return False
        if not stat.S_ISDIR(mode):
            raise self._entry_refused(
                self._folder_name,
                f"is {kind_of(mode)}{_pointing(top, self._folder_name)} where perfplat keeps "
                f"{self.published_service}'s folder",
            )
        return True

    def _make_folder(self, top: int) -> None:
        """The service's folder, made relative to the top (perfplat makes it itself, never through a link)."""
        if not self._check_folder(top):
            os.mkdir(self._folder_name, 0o755, dir_fd=top)
            self._made.append(self._folder_name)

    def _check_versions(self, folder: int, survey: _Survey) -> None:
        mode = _mode(folder, VERSIONS)
        if mode is None:
            return
        if not stat.S_ISDIR(mode):
            raise self._entry_refused(
                self._in_folder(VERSIONS), f"is {kind_of(mode)}{_pointing(folder, VERSIONS)}"
            )
        with _opened_at(folder, VERSIONS) as versions:
            for version in survey.recorded:
                kind = _mode(versions, version)
                if kind is not None and not stat.S_ISDIR(kind):
                    entry = self._in_folder(f"{VERSIONS}/{version}")
                    raise self._entry_refused(entry, f"is {kind_of(kind)}{_pointing(versions, version)}")

    def _current(self, folder: int, survey: _Survey) -> str | None:
        mode = _mode(folder, CURRENT)
        if mode is None:
            return None
        entry = self._in_folder(CURRENT)
        version = self._current_version(folder, entry, survey.recorded)
        target = f"{VERSIONS}/{version}"
        if (kind := _mode_in(folder, VERSIONS, version)) is None or not stat.S_ISDIR(kind):
            shown = "missing" if kind is None else f"{kind_of(kind)}"
            raise self._entry_refused(entry, f"links to {target}, which is {shown}", f"remove {entry}")
        return version

    def _current_version(self, where: int, entry: str, recorded: Mapping[str, object]) -> str:
        """The version a `.current` link (named `entry`) names: a link into `.versions`, to a version on
        record (or, with no record at all, one an earlier perfplat made before there was one)."""
        mode = _mode(where, CURRENT)
        if mode is None or not stat.S_ISLNK(mode):
            shown = "missing" if mode is None else kind_of(mode)
            raise self._entry_refused(entry, f"is {shown}, where perfplat keeps a symbolic link")
        target = os.readlink(CURRENT, dir_fd=where)
        version = target.removeprefix(f"{VERSIONS}/")
        if target == version or not _VERSION_NAME.fullmatch(version) or ".." in version:
            raise self._entry_refused(entry, f"links to {target!r}, outside {VERSIONS}")
        if recorded and version not in recorded:
            raise self._entry_refused(
                entry, f"links to {target}, a version perfplat did not make", f"remove {entry}"
            )
        return version

    def _version_files(self, folder: int, survey: _Survey, version: str) -> dict[str, bytes]:
        """The current version's files; each must be one the record lists, with the recorded bytes (a
        version from before the record is adopted as it is, once)."""
        expected = survey.recorded.get(version)
        held = {}
        with _opened_at(folder, VERSIONS) as versions, _opened_at(versions, version) as files:
            for name in sorted(os.listdir(files)):
                entry = self._in_folder(f"{VERSIONS}/{version}/{name}")
                if (expected is not None and name not in expected) or (
                    expected is None and not is_published_name(self.published_service, name)
                ):
                    raise self._entry_refused(entry, "is not a file perfplat published in that version")
                content = self._read(files, name, entry, single_link=False)
                if expected is not None and _digest(content) != expected[name]:
                    raise self._entry_refused(
                        entry,
                        "does not hold what perfplat wrote there (its digest differs)",
                        f"remove {entry} and re-run the month it belongs to: perfplat writes it again",
                    )
                held[name] = content
        return held

    def _check_folder_names(self, folder: int, survey: _Survey, planned: set[str]) -> None:
        """Each cumulative name in the folder is absent or a link perfplat made through `.current`."""
        for name in sorted(planned | set(survey.held)):
            if self._is_month_file(name):
                continue
            mode = _mode(folder, name)
            if mode is None or _links_to(folder, name, f"{CURRENT}/{name}"):
                continue
            raise self._entry_refused(self._in_folder(name), _not_ours(folder, name, mode))

    def _check_month_links(self, top: int, names: set[str]) -> None:
        """Each of this service's month names at the top (those there, and those it publishes) is absent or
        a link perfplat made through the folder's `.current`. Another service's are not looked at."""
        found = {entry for entry in os.listdir(top) if self._is_month_file(entry)}
        for name in sorted(found | set(filter(self._is_month_file, names))):
            mode = _mode(top, name)
            if mode is None or _links_to(top, name, self._month_link(name)):
                continue
            raise self._entry_refused(name, _not_ours(top, name, mode))

    def _check_top(self, top: int) -> None:
        """What is left at the top of the single-service layout: refused, naming it and its owner."""
        for entry in _flat_entries(top):
            raise self._flat_refused(top, entry)

    def _flat_refused(self, top: int, entry: str) -> DirectoryRefused:
        owner = next((s for s in services() if s.inherits_single_service_layout), None)
        if owner is None or owner.name == self.published_service.name:
            return self._entry_refused(
                entry,
                f"is {kind_of(_mode(top, entry) or 0)}{_pointing(top, entry)} at the top, where the "
                "single-service layout kept its files and perfplat publishes none now",
            )
        return DirectoryRefused(
            f"publication directory {self.directory()}: {entry} belongs to the single-service layout "
            f"{owner}'s perfplat left, which {owner}'s next publication carries over into {owner.folder}/: "
            f"publish {owner} first (or, if {entry} is not perfplat's, remove it). {self.published_service} "
            "publishes nothing beside it until then"
        )

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

    # --- carrying the single-service layout over ------------------------------------------------------

    def _carry_over(self, top: int) -> None:
        """The flat layout of the perfplat that published one service alone, moved into that service's
        folder by the service that inherits it: `.versions` and `.current` renamed into the folder (with
        their record), the cumulative links made there and removed from the top, the month links at the top
        repointed through the folder's `.current`; plain files from before versioning become the folder's
        first version. Nothing is rewritten and no month's bytes change. Each step is skipped once done, so
        a carry-over cut short is finished by the next read. What moved is said once (`carried_over`)."""
        if not self.published_service.inherits_single_service_layout:
            return
        said: list[str] = []
        try:
            _remove_leftover_links(top, "", versions=True)  # a killed run's, from the flat layout
            moved = self._carry_versions(top)
            if moved:
                said.append(f"moved {' and '.join(moved)} into it")
            links, repointed = self._carry_links(top)
            if links:
                said.append(f"moved the links {', '.join(links)} into it")
            if repointed:
                said.append(f"repointed {', '.join(repointed)} at the top through its {CURRENT}")
            version, adopted = self._carry_plain(top)
            if adopted:
                said.append(
                    f"took the plain files {', '.join(adopted)} into it"
                    + (f" as its version {version}" if version else "")
                )
        except journal.StoreFailed as error:
            raise self._fail("moving the record of its versions", str(error)) from None
        except OSError as error:
            raise self._fail("carrying the single-service layout over", error) from None
        if said:
            self._carried_over = (
                f"{SETTING}: carried {self.published_service}'s single-service layout over into "
                f"{self._folder_name}/: {'; '.join(said)}. No file was rewritten"
            )

    def _carry_versions(self, top: int) -> list[str]:
        found = [name for name in (VERSIONS, CURRENT) if _mode(top, name) is not None]
        if not found:
            return []
        if VERSIONS in found and not stat.S_ISDIR(mode := _mode(top, VERSIONS) or 0):
            raise self._entry_refused(VERSIONS, f"is {kind_of(mode)}{_pointing(top, VERSIONS)}")
        top_key = str(self.directory())
        recorded = {
            **directory_versions.directory_versions_of(self.store, top_key),
            **directory_versions.directory_versions_of(self.store, self._record_key()),
        }
        recorded.pop(INDEX_RECORD, None)
        if CURRENT in found:
            self._current_version(top, CURRENT, recorded)
        self._make_folder(top)
        with _opened_at(top, self._folder_name) as folder:
            for name in found:
                if _mode(folder, name) is not None:
                    raise self._entry_refused(
                        name,
                        f"is at the top and {self._in_folder(name)} is there too",
                        f"remove whichever of the two perfplat did not make ({self._in_folder(name)} is the "
                        "one it publishes from)",
                    )
            directory_versions.move_directory_versions(
                self.store, top_key, self._record_key(), keep=[INDEX_RECORD]
            )
            for name in found:
                os.rename(name, name, src_dir_fd=top, dst_dir_fd=folder)
            os.fsync(folder)
            os.fsync(top)
        return found

    def _carry_links(self, top: int) -> tuple[list[str], list[str]]:
        """The cumulative links at the top go into the folder; the month links at the top are repointed."""
        moved = [name for name in CUMULATIVE_FILES if _links_to(top, name, f"{CURRENT}/{name}")]
        months = sorted(
            n for n in os.listdir(top) if self._is_month_file(n) and _links_to(top, n, f"{CURRENT}/{n}")
        )
        if not moved and not months:
            return [], []
        self._make_folder(top)
        with _opened_at(top, self._folder_name) as folder:
            for name in moved:
                if not _links_to(folder, name, f"{CURRENT}/{name}"):
                    if (mode := _mode(folder, name)) is not None:
                        raise self._entry_refused(self._in_folder(name), _not_ours(folder, name, mode))
                    _replace_symlink(folder, f"{CURRENT}/{name}", name)
            os.fsync(folder)
        for name in months:
            _replace_symlink(top, self._month_link(name), name)
        for name in moved:
            os.unlink(name, dir_fd=top)
        os.fsync(top)
        return moved, months

    def _carry_plain(self, top: int) -> tuple[str | None, list[str]]:
        """Plain files from before versioning become the folder's first version, the month files at the top
        links to it. A carry-over cut short left some at the top with a version already made: those holding
        the bytes published are finished; any other is left for the survey to refuse."""
        plain = self._plain_files(top)
        if not plain:
            return None, []
        self._make_folder(top)
        version = None
        with _opened_at(top, self._folder_name) as folder:
            if _mode(folder, CURRENT) is None:
                version = f"adopted-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
                self._write_version(folder, version, plain)
                self._link(folder, [name for name in plain if not self._is_month_file(name)])
                self._point_current_at(folder, version)
                done = list(plain)
            else:
                recorded = directory_versions.directory_versions_of(self.store, self._record_key())
                current = self._current_version(folder, self._in_folder(CURRENT), recorded)
                held = self._version_files(folder, _Survey(recorded=recorded), current)
                done = [name for name, data in plain.items() if held.get(name) == data]
        for name in done:
            if self._is_month_file(name):
                _replace_symlink(top, self._month_link(name), name)
            else:
                os.unlink(name, dir_fd=top)
        os.fsync(top)
        return version, done

    def _plain_files(self, top: int) -> dict[str, bytes]:
        """Before versioning, the published files were plain files at the top: they are taken as they are.
        Only perfplat's own names are, and only files with one link (a hard link could be anything). A plain
        `report.html` is the old one only beside a plain `data.json`, and when it is not the index."""
        names = [name for name in CUMULATIVE_FILES if name != INDEX]
        names += sorted(filter(self._is_month_file, os.listdir(top)))
        if _is_regular(top, RECORDS_JSON) and _is_regular(top, INDEX):
            index = self._read(top, INDEX, INDEX, single_link=True)
            if _digest(index) not in self._index_digests().values():
                names.append(INDEX)
        return {
            name: self._read(top, name, name, single_link=True) for name in names if _is_regular(top, name)
        }

    # --- writing: each step relative to the directory's descriptors, never through a link -------------

    def _adopt(self, top: int, folder: int, held: Mapping[str, bytes]) -> str:
        """The current version an earlier perfplat made before the record becomes a recorded version as it
        is, so that an undo has something to go back to."""
        version = f"adopted-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
        self._write_version(folder, version, held)
        self._link(folder, [name for name in sorted(held) if not self._is_month_file(name)])
        self._point_current_at(folder, version)
        self._link_months(top, [name for name in sorted(held) if self._is_month_file(name)])
        self._adopted = version
        return version

    def _stage(
        self, folder: int, plan: PublicationPlan, written: Mapping[str, bytes], carried: _Carried
    ) -> str:
        """A complete new version beside the current one: the plan's files and those it carries."""
        version = f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{plan.digest[:8]}-{uuid.uuid4().hex[:6]}"
        self._staged = version
        self._write_version(folder, version, written, carried)
        return version

    def _write_version(
        self, folder: int, version: str, written: Mapping[str, bytes], carried: _Carried = (None, {})
    ) -> None:
        """Recorded first, then written: every version in the folder that perfplat made is on record.
        The files carried from the previous version are hard-linked (they never change once written, and a
        copy of every month file each time would fill a small disk), each checked against its recorded
        digest once linked: a swap of the entry before the link is caught, and after it the link holds."""
        source, kept = carried
        digests = {name: _digest(data) for name, data in {**kept, **written}.items()}
        directory_versions.record_directory_version(self.store, self._record_key(), version, digests)
        try:
            os.mkdir(VERSIONS, 0o755, dir_fd=folder)
            self._made.append(VERSIONS)
        except FileExistsError:
            pass
        with _opened_at(folder, VERSIONS) as versions:
            os.mkdir(version, 0o755, dir_fd=versions)
            with _opened_at(versions, version) as files:
                if kept and source is not None:
                    self._link_carried(versions, source, files, version, {n: digests[n] for n in kept})
                for name, data in written.items():
                    _write_new(files, name, data)
                os.fsync(files)
            os.fsync(versions)

    def _link_carried(
        self, versions: int, source: str, files: int, version: str, digests: Mapping[str, str]
    ) -> None:
        with _opened_at(versions, source) as previous:
            for name, digest in digests.items():
                os.link(name, name, src_dir_fd=previous, dst_dir_fd=files, follow_symlinks=False)
                entry = self._in_folder(f"{VERSIONS}/{version}/{name}")
                if _digest(self._read(files, name, entry, single_link=False)) != digest:
                    raise self._entry_refused(
                        self._in_folder(f"{VERSIONS}/{source}/{name}"),
                        "changed while it was being carried into a new version",
                    )

    def _link(self, folder: int, names: list[str]) -> None:
        """Each cumulative name in the folder resolves through `.current`. A name new in this version
        dangles until the switch (not yet published, to a reader)."""
        for name in names:
            if not _links_to(folder, name, f"{CURRENT}/{name}"):
                _replace_symlink(folder, f"{CURRENT}/{name}", name)

    def _link_months(self, top: int, names: list[str]) -> None:
        """Each month file at the top resolves through the folder's `.current`; made once it has switched,
        so OPG's automation never finds a month file before the rest of its publication."""
        for name in names:
            if not _links_to(top, name, self._month_link(name)):
                _replace_symlink(top, self._month_link(name), name)
        os.fsync(top)

    def _point_current_at(self, folder: int, version: str) -> None:
        _replace_symlink(folder, f"{VERSIONS}/{version}", CURRENT)
        os.fsync(folder)

    def _prune(self, folder: int, recorded: Iterable[str], keep: set[str | None]) -> None:
        """Recorded versions other than the current and the previous one (kept for an undo) go; a version
        perfplat has no record of is never touched. (The versions this publication recorded are among those
        kept, so the record the survey read is the whole of what may go.)"""
        gone = [version for version in recorded if version not in keep]
        with _opened_at(folder, VERSIONS) as versions:
            for version in gone:
                if _mode(versions, version) is not None:
                    shutil.rmtree(version, dir_fd=versions)  # on descriptors: never follows a link
        directory_versions.forget_directory_versions(self.store, self._record_key(), gone)


def _mode(folder: int, name: str) -> int | None:
    try:
        return os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return None


def _mode_in(top: int, parent: str, name: str) -> int | None:
    with _opened_at(top, parent) as folder:
        return _mode(folder, name)


def _is_regular(folder: int, name: str) -> bool:
    mode = _mode(folder, name)
    return mode is not None and stat.S_ISREG(mode)


def _pointing(folder: int, name: str) -> str:
    try:
        return f" to {os.readlink(name, dir_fd=folder)!r}"
    except OSError:
        return ""


def _not_ours(folder: int, name: str, mode: int) -> str:
    if stat.S_ISLNK(mode):
        return f"is a symbolic link to {os.readlink(name, dir_fd=folder)!r}, which perfplat did not make"
    return f"is {kind_of(mode)} where perfplat publishes its file"


def _flat_entries(top: int) -> list[str]:
    """The single-service layout's entries at the top: `.versions`, `.current` and the cumulative names (a
    `report.html` is the index's business, unless it is that layout's link through `.current`)."""
    found = []
    for name in (VERSIONS, CURRENT, *CUMULATIVE_FILES):
        if _mode(top, name) is None:
            continue
        if name != INDEX or _link_target(top, name) == f"{CURRENT}/{INDEX}":
            found.append(name)
    return found


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


def _links_to(folder: int, name: str, target: str) -> bool:
    """Whether `name` is a symbolic link perfplat made: exactly to `target`."""
    return _link_target(folder, name) == target


_TEMPORARY_LINK = re.compile(r"\.(?P<name>.+)\.[0-9a-f]{6}\.tmp")


def _temporary_link(name: str) -> str:
    return f".{name}.{uuid.uuid4().hex[:6]}.tmp"


def _remove_leftover_links(folder: int, through: str, *, versions: bool) -> None:
    """The temporary links of a run killed between making one and renaming it into place: only a link
    named as perfplat names them and pointing where perfplat points them (through `{through}.current`, or,
    with `versions`, at a version) is removed (unlinking a link never touches what it points to); anything
    else of that name is left alone."""
    for entry in os.listdir(folder):
        found = _TEMPORARY_LINK.fullmatch(entry)
        if found is None:
            continue
        target = _link_target(folder, entry)
        allowed = (f"{through}{CURRENT}/{found['name']}", *(_version_targets(target) if versions else ()))
        if target is not None and target in allowed:
            os.unlink(entry, dir_fd=folder)


def _version_targets(target: str | None) -> tuple[str, ...]:
    """`target` itself when it is where `.current` points (a version), else nothing."""
    version = (target or "").removeprefix(f"{VERSIONS}/")
    return (target,) if target and version != target and _VERSION_NAME.fullmatch(version) else ()


def _replace_symlink(folder: int, target: str, name: str) -> None:
    """`name` becomes a link to `target` in one rename, which replaces the entry itself, never what it
    links to."""
    temporary = _temporary_link(name)
    os.symlink(target, temporary, dir_fd=folder)
    try:
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
    except OSError:
        os.unlink(temporary, dir_fd=folder)
        raise


def _write_new(folder: int, name: str, content: bytes) -> None:
    """A new file, flushed; `O_EXCL | O_NOFOLLOW`: never an existing entry, never through a link."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    descriptor = os.open(name, flags, 0o644, dir_fd=folder)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
        file.flush()
        os.fsync(descriptor)
