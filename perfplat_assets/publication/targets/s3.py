"""The S3 drop OPG's monthly automation reads, when PERFPLAT_S3_BUCKET is set: a publication target of the
shape `committing/target.py` gives."""

from __future__ import annotations

from typing import Any, ClassVar

from botocore.exceptions import BotoCoreError, ClientError
from dagster import ConfigurableResource
from dagster_aws.s3 import S3Resource
from pydantic import Field

from perfplat_assets.common.network import unreachable_cause
from perfplat_assets.publication.committing.plan import PublicationPlan
from perfplat_assets.publication.committing.target import Change, HeldFiles, PublicationFailed, file_changes


class S3Publication(ConfigurableResource):
    """The S3 drop OPG's monthly automation reads (PERFPLAT_S3_BUCKET, PERFPLAT_S3_PREFIX).

    One PUT per object (S3 replaces an object whole, so no reader sees a partial one); only objects whose
    bytes change are written, and undo puts back exactly what each held (or deletes what was new).
    """

    name: ClassVar[str] = "s3"
    label: ClassVar[str] = "S3"
    holds_files: ClassVar[bool] = True
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

    def _read(self, client: Any, name: str) -> bytes | None:
        try:
            return client.get_object(Bucket=self.bucket, Key=self.key(name))["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise self._fail(f"reading {self.key(name)}", error, client) from None
        except BotoCoreError as error:
            raise self._fail(f"reading {self.key(name)}", error, client) from None

    def read_current(self, plan: PublicationPlan) -> HeldFiles:
        """Every file of the plan as the bucket holds it, through one client (building one costs more than
        reading a file)."""
        client = self.s3.get_client()
        return HeldFiles({item.name: self._read(client, item.name) for item in plan.files})

    def changes(self, plan: PublicationPlan, current: HeldFiles) -> list[Change]:
        return file_changes(self.name, plan, current, self.key)

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
                raise self._fail(f"writing {self.key(item.name)}", error, client) from None

    def undo(self, plan: PublicationPlan, current: HeldFiles) -> str | None:
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
                failed.append(f"{self.key(item.name)} ({unreachable_cause(error) or _short(error)})")
        if failed:
            raise self._fail("restoring the previous objects", f"could not restore {', '.join(failed)}")
        if not restored:
            return None
        had_publication = any(before is not None for before in current.files.values())
        return (
            "restored to the previous publication" if had_publication else "holds no publication, as before"
        )

    def _put(self, client: Any, name: str, content: bytes, kind: str) -> None:
        client.put_object(Bucket=self.bucket, Key=self.key(name), Body=content, ContentType=kind)


def _short(error: Exception) -> str:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or error)
    return type(error).__name__
