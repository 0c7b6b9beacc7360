"""Where a publication goes: the local directory (always), an S3 bucket and data.gov.uk's CKAN (when
configured). Each is a target with one shape: read what it holds now, say what a plan would change, apply
a plan, and undo it back to what it held. Adding a target is one class here and one line in `targets()`.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol

import requests
from botocore.exceptions import BotoCoreError, ClientError
from ckanapi import RemoteCKAN
from ckanapi.errors import CKANAPIError, NotAuthorized, NotFound, ValidationError
from dagster import ConfigurableResource
from dagster_aws.s3 import S3Resource
from pydantic import Field

from perfplat_assets.common.sql_source import DEFAULT_DATA_DIR
from perfplat_assets.publication.files import CUMULATIVE_CSV
from perfplat_assets.publication.plan import PublicationPlan, PublishedFile


class PublicationFailed(RuntimeError):
    """A target refused or failed; the message names the target, what failed and what to do."""


@dataclass(frozen=True)
class Change:
    target: str
    name: str
    action: str  # "create", "update" or "unchanged"


class PublicationTarget(Protocol):
    """What every target does. `current` is whatever `read_current` returned: what `undo` restores."""

    name: ClassVar[str]

    def read_current(self, plan: PublicationPlan) -> Any: ...

    def changes(self, plan: PublicationPlan, current: Any) -> list[Change]: ...

    def apply(self, plan: PublicationPlan, current: Any) -> None: ...

    def undo(self, plan: PublicationPlan, current: Any) -> bool:
        """Back to `current`; says whether anything had to be put back."""
        ...


@dataclass(frozen=True)
class HeldFiles:
    """What a files target holds of each planned file (None: absent), as read before a publication."""

    files: Mapping[str, bytes | None]
    version: str | None = None  # the directory's current version; None before its first publication


def _file_changes(target: str, plan: PublicationPlan, current: HeldFiles, label: Any = str) -> list[Change]:
    def action(item: PublishedFile) -> str:
        before = current.files.get(item.name)
        return "create" if before is None else "unchanged" if before == item.content else "update"

    return [Change(target, label(item.name), action(item)) for item in plan.files]


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
        return _file_changes(self.name, plan, current)

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


class S3Publication(ConfigurableResource):
    """The S3 drop OPG's monthly automation reads (PERFPLAT_S3_BUCKET, PERFPLAT_S3_PREFIX).

    One PUT per object (S3 replaces an object whole, so no reader sees a partial one); only objects whose
    bytes change are written, and undo puts back exactly what each held (or deletes what was new).
    """

    name: ClassVar[str] = "s3"
    s3: S3Resource
    bucket: str | None = Field(default=None, description="Bucket; unset: no S3 publication.")
    prefix: str = Field(default="", description="Key prefix, e.g. 'make-an-lpa/'.")

    @property
    def enabled(self) -> bool:
        return bool(self.bucket)

    def key(self, name: str) -> str:
        return f"{self.prefix.strip('/')}/{name}" if self.prefix.strip("/") else name

    def public_url(self, name: str) -> str:
        """Where a reader fetches the object: path-style on a custom endpoint, virtual-hosted on AWS."""
        if self.s3.endpoint_url:
            return f"{self.s3.endpoint_url.rstrip('/')}/{self.bucket}/{self.key(name)}"
        region = self.s3.region_name or "eu-west-2"
        return f"https://{self.bucket}.s3.{region}.amazonaws.com/{self.key(name)}"

    def _fail(self, doing: str, error: Exception | str) -> PublicationFailed:
        return PublicationFailed(f"S3 bucket {self.bucket}: {doing} failed: {error}")

    def read(self, name: str) -> bytes | None:
        try:
            return self.s3.get_client().get_object(Bucket=self.bucket, Key=self.key(name))["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise self._fail(f"reading {self.key(name)}", error) from None
        except BotoCoreError as error:
            raise self._fail(f"reading {self.key(name)}", error) from None

    def read_current(self, plan: PublicationPlan) -> HeldFiles:
        return HeldFiles({item.name: self.read(item.name) for item in plan.files})

    def changes(self, plan: PublicationPlan, current: HeldFiles) -> list[Change]:
        return _file_changes(self.name, plan, current, self.key)

    def apply(self, plan: PublicationPlan, current: HeldFiles) -> None:
        """The plan's order: the cumulative files first, the month files last, so OPG's automation never
        finds a month file before the rest is there."""
        client = self.s3.get_client()
        for item in plan.files:
            if current.files.get(item.name) == item.content:
                continue
            try:
                self._put(client, item.name, item.content, item.content_type)
            except (BotoCoreError, ClientError) as error:
                raise self._fail(f"writing {self.key(item.name)}", error) from None

    def undo(self, plan: PublicationPlan, current: HeldFiles) -> bool:
        """Every object the plan touched holds its previous bytes again; objects it created are deleted.
        Each is tried; what could not be restored is named."""
        client = self.s3.get_client()
        failed, restored = [], False
        for item in reversed(plan.files):
            before = current.files.get(item.name)
            if before == item.content:
                continue
            try:
                if before is None:
                    client.delete_object(Bucket=self.bucket, Key=self.key(item.name))
                else:
                    self._put(client, item.name, before, item.content_type)
                restored = True
            except (BotoCoreError, ClientError) as error:
                failed.append(f"{self.key(item.name)} ({_short(error)})")
        if failed:
            raise self._fail("restoring the previous objects", f"could not restore {', '.join(failed)}")
        return restored

    def _put(self, client: Any, name: str, content: bytes, kind: str) -> None:
        client.put_object(Bucket=self.bucket, Key=self.key(name), Body=content, ContentType=kind)


def _short(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or error)
    return type(error).__name__


class CkanCatalogue(ConfigurableResource):
    """data.gov.uk (CKAN): one resource on the dataset, linking to the hosted cumulative CSV."""

    name: ClassVar[str] = "ckan"
    url: str | None = Field(default=None, description="CKAN site URL (PERFPLAT_CKAN_URL); unset: no CKAN.")
    api_token: str | None = Field(default=None, description="API token (PERFPLAT_CKAN_API_TOKEN).")
    dataset: str = Field(
        default="make-a-lasting-power-of-attorney-service-performance", description="Dataset name or id."
    )
    resource_name: str = Field(default="Make an LPA monthly service performance (CSV)")

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def _call(self, action: str, **data: Any) -> Any:
        """An Action API call whose failure names the action and CKAN's own message, never the token."""
        try:
            with RemoteCKAN(self.url, apikey=self.api_token, user_agent="perfplat") as ckan:
                return ckan.call_action(action, data)
        except NotAuthorized as error:
            raise PublicationFailed(
                f"CKAN {action} on {self.url} was refused as not authorised ({_message(error)}): "
                "check PERFPLAT_CKAN_API_TOKEN and the token's rights on the dataset"
            ) from None
        except NotFound as error:
            raise PublicationFailed(f"CKAN {action} on {self.url}: not found ({_message(error)})") from None
        except ValidationError as error:
            raise PublicationFailed(
                f"CKAN {action} on {self.url} refused the data: {_message(error)}"
            ) from None
        except CKANAPIError as error:
            raise PublicationFailed(f"CKAN {action} on {self.url} failed: {_message(error)}") from None
        except requests.RequestException as error:
            raise PublicationFailed(
                f"CKAN {action}: cannot reach {self.url} ({type(error).__name__})"
            ) from None

    def _resource(self, csv_url: str, datafile_date: str) -> dict[str, Any]:
        return {
            "name": self.resource_name,
            "description": "Monthly figures, a row per month; methods in the CSVW metadata beside the file.",
            "url": csv_url,
            "format": "CSV",
            "mimetype": "text/csv",
            "resource-type": "data-link",
            "datafile-date": datafile_date,
        }

    def check_access(self) -> None:
        """Before anything is written: the dataset exists and the token may update it. (CKAN treats an
        unknown token as anonymous, so a read alone would not tell.)"""
        dataset = self._call("package_show", id=self.dataset)
        allowed = self._call("organization_list_for_user", permission="update_dataset")
        if dataset.get("owner_org") not in {organization["id"] for organization in allowed}:
            raise PublicationFailed(
                f"CKAN on {self.url}: the API token may not update dataset {self.dataset}; check "
                "PERFPLAT_CKAN_API_TOKEN (an unknown token counts as anonymous) and the token's organisation"
            )

    def _existing(self) -> dict[str, Any] | None:
        dataset = self._call("package_show", id=self.dataset)
        ours = [r for r in dataset.get("resources", []) if r.get("name") == self.resource_name]
        return ours[0] if ours else None

    def read_current(self, plan: PublicationPlan) -> dict[str, Any] | None:
        """The resource as it is, once the token is known to be allowed to change it."""
        self.check_access()
        return self._existing()

    def _wanted(self, plan: PublicationPlan) -> dict[str, Any]:
        if plan.ckan is None:
            raise PublicationFailed(
                "CKAN is on but the plan has no CKAN change: set PERFPLAT_PUBLIC_BASE_URL"
            )
        return self._resource(plan.ckan.csv_url, plan.ckan.datafile_date)

    def changes(self, plan: PublicationPlan, current: dict[str, Any] | None) -> list[Change]:
        if current is None:
            return [Change(self.name, self.resource_name, "create")]
        same = all(current.get(key) == value for key, value in self._wanted(plan).items())
        return [Change(self.name, self.resource_name, "unchanged" if same else "update")]

    def apply(self, plan: PublicationPlan, current: dict[str, Any] | None) -> None:
        """Create the resource the first time; patch it afterwards, so there is never a duplicate."""
        existing = self._existing()  # a create that failed after CKAN made it must not make a second
        if existing is None:
            self._call("resource_create", package_id=self.dataset, **self._wanted(plan))
        elif self.changes(plan, existing)[0].action != "unchanged":
            self._call("resource_patch", id=existing["id"], **self._wanted(plan))

    def undo(self, plan: PublicationPlan, current: dict[str, Any] | None) -> bool:
        existing = self._existing()
        if existing is None:
            return False
        if current is None:
            self._call("resource_delete", id=existing["id"])
            return True
        previous = {key: current.get(key) for key in self._wanted(plan)}
        if all(existing.get(key) == value for key, value in previous.items()):
            return False
        self._call("resource_patch", id=existing["id"], **previous)
        return True


def _message(error: Exception) -> str:
    detail = error.args[0] if error.args else error
    if isinstance(detail, dict):
        detail = detail.get("message") or {k: v for k, v in detail.items() if k != "__type"}
    return str(detail)


class DataGovUkPublisher(ConfigurableResource):
    """Every publication target, in the order a publication uses them, and the dry-run switch."""

    directory: PublicationDirectory
    s3: S3Publication
    ckan: CkanCatalogue
    public_base_url: str | None = Field(
        default=None, description="Public URL of the published files (PERFPLAT_PUBLIC_BASE_URL), for CKAN."
    )
    dry_run: bool = Field(default=False, description="Report what would change and write nothing.")
    sample_sources: list[str] = Field(
        default_factory=list,
        description="Settings the source resources report unset, so that they serve the embedded sample.",
    )
    allow_sample_data: bool = Field(
        default=False,
        description="Let sample figures reach S3 or CKAN (PERFPLAT_ALLOW_SAMPLE_DATA), for demos.",
    )

    def refuse_unpublishable_settings(self) -> None:
        """Before anything is read or written: synthetic figures must never reach the public by a missing
        secret, and CKAN needs a public URL to link to."""
        public = [t.name for t in self.targets() if t.name != "directory"]
        if public and self.sample_sources and not self.allow_sample_data:
            raise PublicationFailed(
                f"{' and '.join(self.sample_sources)} unset, so those figures come from the embedded "
                f"sample, and {', '.join(public)} publication is on: set them (or "
                "PERFPLAT_ALLOW_SAMPLE_DATA=true for a demonstration). Nothing was published"
            )
        if self.ckan.enabled and not self.hosted_csv_url():
            raise PublicationFailed(
                "PERFPLAT_CKAN_URL is set but data.csv has no public URL to register: set "
                "PERFPLAT_PUBLIC_BASE_URL (where the files are served) or PERFPLAT_S3_BUCKET. Nothing was "
                "published"
            )

    def hosted_csv_url(self) -> str | None:
        if self.public_base_url:
            return f"{self.public_base_url.rstrip('/')}/{CUMULATIVE_CSV}"
        return self.s3.public_url(CUMULATIVE_CSV) if self.s3.enabled else None

    def targets(self) -> list[PublicationTarget]:
        """The enabled targets, in the order a publication applies them: the files first (the local
        directory, then S3, which OPG's automation reads), CKAN last, since it only links to them."""
        return [
            self.directory,
            *([self.s3] if self.s3.enabled else []),
            *([self.ckan] if self.ckan.enabled else []),
        ]
