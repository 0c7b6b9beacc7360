"""The S3 drop OPG's monthly automation reads, when PERFPLAT_S3_BUCKET is set: a publication target of the
shape `committing/target.py` gives.

The layout is OPG's, under PERFPLAT_S3_PREFIX (the bucket's root by default): each service's cumulative
files in its folder (`<stem>_service/data.json`, ...), its month files at the top (`<stem>_YY_MM.json`),
where the automation copies them from, and `report.html` at the top, the index of every service. Every
object perfplat writes carries the metadata `written-by: perfplat`: a month file without it was written by
someone else (digideps' own command writes `complete_the_deputy_report_YY_MM.json` into the same bucket
today), and is not replaced unless the deployment says perfplat has taken that service over
(`PERFPLAT_<SERVICE>_S3_TAKEN_OVER=true`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from botocore.exceptions import BotoCoreError, ClientError
from dagster import ConfigurableResource
from dagster_aws.s3 import S3Resource
from pydantic import Field, PrivateAttr

from perfplat_assets.common.network import unreachable_cause
from perfplat_assets.common.service import Service
from perfplat_assets.publication.committing.plan import PublicationPlan
from perfplat_assets.publication.committing.target import Change, HeldFiles, PublicationFailed, file_changes
from perfplat_assets.publication.published_format.files import content_type
from perfplat_assets.publication.published_format.records import CUMULATIVE_FILES, RECORDS_JSON, REPORT_HTML
from perfplat_assets.services.registry import service_called

INDEX = REPORT_HTML
WRITTEN_BY = {"written-by": "perfplat"}  # every object perfplat writes carries it: how it knows its own


@dataclass(frozen=True)
class StoredObject:
    """An object as the bucket holds it: what an undo puts back, metadata and all."""

    content: bytes
    content_type: str
    metadata: Mapping[str, str]

    @property
    def perfplats(self) -> bool:
        return all(self.metadata.get(key) == value for key, value in WRITTEN_BY.items())


@dataclass(frozen=True)
class S3Held(HeldFiles):
    """What the bucket holds of each planned file (`files`, for the checks before publishing, is the
    folder's object, else the single-service layout's flat one), and of each object as it is."""

    objects: Mapping[str, StoredObject | None] = field(default_factory=dict)  # by published name
    # The flat cumulative objects the perfplat that published one service alone left at the prefix: the
    # inheriting service removes them once its folder holds their successors.
    flat: Mapping[str, StoredObject] = field(default_factory=dict)


class S3Publication(ConfigurableResource):
    """The S3 drop OPG's monthly automation reads (PERFPLAT_S3_BUCKET, PERFPLAT_S3_PREFIX).

    One PUT per object (S3 replaces an object whole, so no reader sees a partial one); only objects whose
    bytes change are written, and undo puts back exactly what each held, metadata too (or deletes what was
    new).
    """

    name: ClassVar[str] = "s3"
    label: ClassVar[str] = "S3"
    holds_files: ClassVar[bool] = True
    s3: S3Resource
    service: str = Field(description="The service whose files it holds, by name: make_an_lpa.")
    bucket: str | None = Field(default=None, description="Bucket; unset: no S3 publication.")
    prefix: str = Field(default="", description="Key prefix, e.g. 'make-an-lpa/'.")
    taken_over: bool = Field(
        default=False,
        description="The service's month files at the prefix are perfplat's now, whoever wrote them "
        "(PERFPLAT_<SERVICE>_S3_TAKEN_OVER): perfplat has taken the service over from its own command.",
    )

    _deleted: dict[str, StoredObject] = PrivateAttr(default_factory=dict)  # flat objects this apply removed
    _carried_over: str | None = PrivateAttr(default=None)

    @property
    def enabled(self) -> bool:
        return bool(self.bucket)

    @property
    def published_service(self) -> Service:
        return service_called(self.service)

    @property
    def carried_over(self) -> str | None:
        """What carrying the single-service layout over removed, for the caller to log: set by the apply
        that did it, once (nothing is left to remove after it)."""
        return self._carried_over

    @property
    def taken_over_setting(self) -> str:
        return f"{self.published_service.setting_prefix}S3_TAKEN_OVER"

    def _is_month_file(self, name: str) -> bool:
        return bool(self.published_service.month_file_pattern.fullmatch(name))

    def _prefixed(self, path: str) -> str:
        return f"{self.prefix.strip('/')}/{path}" if self.prefix.strip("/") else path

    def key(self, name: str) -> str:
        """A month file at the prefix, where OPG's automation copies it from; the rest in the folder."""
        return self._prefixed(
            name if self._is_month_file(name) else f"{self.published_service.folder}/{name}"
        )

    def index_key(self) -> str:
        return self._prefixed(INDEX)

    def public_url(self, name: str) -> str:
        """Where a reader fetches the object: path-style on a custom endpoint, virtual-hosted on AWS."""
        if self.s3.endpoint_url:
            return f"{self.s3.endpoint_url.rstrip('/')}/{self.bucket}/{self.key(name)}"
        region = self.s3.region_name or "eu-west-2"
        return f"https://{self.bucket}.s3.{region}.amazonaws.com/{self.key(name)}"

    def _fail(self, doing: str, error: Exception | str, client: Any = None) -> PublicationFailed:
        """S3's answer as S3 gave it; an endpoint never reached as that, with the setting to check."""
        cause = unreachable_cause(error) if isinstance(error, Exception) else None
        if cause is not None:
            endpoint = client.meta.endpoint_url if client is not None else self.s3.endpoint_url or "AWS"
            error = (
                f"cannot reach S3 at {endpoint}: {cause}; check the network, proxy or endpoint setting "
                "AWS_ENDPOINT_URL_S3"
            )
        return PublicationFailed(f"S3 bucket {self.bucket}: {doing} failed: {error}")

    def _get(self, client: Any, key: str) -> StoredObject | None:
        try:
            found = client.get_object(Bucket=self.bucket, Key=key)
            return StoredObject(found["Body"].read(), found.get("ContentType", ""), found.get("Metadata", {}))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise self._fail(f"reading {key}", error, client) from None
        except BotoCoreError as error:
            raise self._fail(f"reading {key}", error, client) from None

    def read_current(self, plan: PublicationPlan) -> S3Held:
        """Every file of the plan as the bucket holds it, through one client (building one costs more than
        reading a file). A month file someone else wrote is refused here, before anything is written."""
        client = self.s3.get_client()
        objects = {item.name: self._get(client, self.key(item.name)) for item in plan.files}
        for name, found in objects.items():
            if found is not None and self._is_month_file(name) and not found.perfplats:
                self._refuse_foreign(self.key(name))
        flat = {}
        if self.published_service.inherits_single_service_layout:
            for name in self._at_the_prefix(client, CUMULATIVE_FILES):
                found = self._get(client, self._prefixed(name))
                if found is not None and not found.perfplats:  # a marked report.html is the index
                    flat[name] = found
        files = {
            name: found.content if found else flat[name].content if name in flat else None
            for name, found in objects.items()
        }
        return S3Held(files, objects=objects, flat=flat)

    def _at_the_prefix(self, client: Any, names: Collection[str]) -> list[str]:
        """Which of `names` are objects directly under the prefix: one listing, not a request a name."""
        prefix = self._prefixed("")
        found = []
        try:
            for page in client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=prefix, Delimiter="/"
            ):
                found += [item["Key"][len(prefix) :] for item in page.get("Contents", [])]
        except (BotoCoreError, ClientError) as error:
            raise self._fail(f"listing {prefix or 'the bucket root'}", error, client) from None
        return [name for name in names if name in found]

    def _refuse_foreign(self, key: str) -> None:
        """A month file perfplat did not write is another writer's, until the deployment says perfplat has
        taken the service over. The service perfplat published alone before it marked its objects is its
        own: its month files were that perfplat's."""
        service = self.published_service
        if self.taken_over or service.inherits_single_service_layout:
            return
        raise PublicationFailed(
            f"S3 bucket {self.bucket}: s3://{self.bucket}/{key} was not written by perfplat (it has no "
            f"{', '.join(f'{k}: {v}' for k, v in WRITTEN_BY.items())} metadata), so another writer still "
            f"publishes {service} there: once perfplat has taken {service} over from it, set "
            f"{self.taken_over_setting}=true (or remove the object)"
        )

    def changes(self, plan: PublicationPlan, current: HeldFiles) -> list[Change]:
        held = HeldFiles(
            {name: found.content if found else None for name, found in _objects(current).items()}
        )
        return file_changes(self.name, plan, held, self.key)

    def apply(self, plan: PublicationPlan, current: HeldFiles) -> None:
        """The plan's order: the cumulative files first, the month files last, so OPG's automation never
        finds a month file before the rest is there. Then the flat objects of the single-service layout
        go: the folder holds their successors."""
        client = self.s3.get_client()
        self._deleted = {}
        objects = _objects(current)
        for item in plan.files:
            before = objects.get(item.name)
            if before is not None and before.content == item.content:
                continue
            try:
                self._put(client, self.key(item.name), item.content, item.content_type, WRITTEN_BY)
            except (BotoCoreError, ClientError) as error:
                raise self._fail(f"writing {self.key(item.name)}", error, client) from None
        flat = current.flat if isinstance(current, S3Held) else {}
        for name, found in flat.items():
            try:
                client.delete_object(Bucket=self.bucket, Key=self._prefixed(name))
            except (BotoCoreError, ClientError) as error:
                raise self._fail(f"removing {self._prefixed(name)}", error, client) from None
            self._deleted[name] = found
        if flat:
            removed = ", ".join(self._prefixed(name) for name in flat)
            self._carried_over = (
                f"S3 bucket {self.bucket}: carried {self.published_service}'s single-service layout over "
                f"into {self._prefixed(self.published_service.folder)}/: removed the flat objects {removed}, "
                "whose successors are there now; the month files stay where they were"
            )

    def undo(self, plan: PublicationPlan, current: HeldFiles) -> str | None:
        """Every object the plan touched holds its previous bytes and metadata again; objects it created
        are deleted, and the flat objects it removed are put back. Each is tried; what could not be
        restored is named."""
        client = self.s3.get_client()
        failed, restored = [], False
        objects = _objects(current)
        for name, found in self._deleted.items():
            try:
                self._put(client, self._prefixed(name), found.content, found.content_type, found.metadata)
                restored = True
            except (BotoCoreError, ClientError) as error:
                failed.append(f"{self._prefixed(name)} ({unreachable_cause(error) or _short(error)})")
        for item in reversed(plan.files):
            before = objects.get(item.name)
            if before is not None and before.content == item.content:
                continue
            key = self.key(item.name)
            try:
                if before is None:
                    client.delete_object(Bucket=self.bucket, Key=key)
                else:
                    self._put(client, key, before.content, before.content_type, before.metadata)
                restored = True
            except (BotoCoreError, ClientError) as error:
                failed.append(f"{key} ({unreachable_cause(error) or _short(error)})")
        if failed:
            raise self._fail("restoring the previous objects", f"could not restore {', '.join(failed)}")
        self._deleted, self._carried_over = {}, None
        if not restored:
            return None
        had_publication = any(before is not None for before in objects.values())
        return (
            "restored to the previous publication" if had_publication else "holds no publication, as before"
        )

    def write_index(self, content: bytes) -> None:
        """`report.html` at the prefix, the index of every service's publication, in one PUT. An object
        there perfplat did not write is refused, named, unless it is the stale report of the single-service
        layout (unmarked beside an unmarked flat `data.json`), which the index replaces."""
        client = self.s3.get_client()
        key = self.index_key()
        existing = self._get(client, key)
        if existing is not None and existing.perfplats and existing.content == content:
            return
        if existing is not None and not existing.perfplats:
            flat_records = self._get(client, self._prefixed(RECORDS_JSON))
            if flat_records is None or flat_records.perfplats:
                raise PublicationFailed(
                    f"S3 bucket {self.bucket}: s3://{self.bucket}/{key} was not written by perfplat (it has "
                    "no written-by: perfplat metadata), so the index is not written over it: remove it, "
                    "or move it aside, if the index belongs there"
                )
        try:
            self._put(client, key, content, content_type(INDEX), WRITTEN_BY)
        except (BotoCoreError, ClientError) as error:
            raise self._fail(f"writing {key}", error, client) from None

    def _put(self, client: Any, key: str, content: bytes, kind: str, metadata: Mapping[str, str]) -> None:
        client.put_object(
            Bucket=self.bucket, Key=key, Body=content, ContentType=kind, Metadata=dict(metadata)
        )


def _objects(current: HeldFiles) -> Mapping[str, StoredObject | None]:
    """What each key held, as read; from a bare `HeldFiles` (bytes alone), objects perfplat wrote."""
    if isinstance(current, S3Held):
        return current.objects
    return {
        name: StoredObject(data, content_type(name), WRITTEN_BY) if data is not None else None
        for name, data in current.files.items()
    }


def _short(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or error)
    return type(error).__name__
