"""Where a publication goes beyond the local directory (`directory.py`): an S3 bucket and data.gov.uk's
CKAN, when configured, and the publisher that lists every target in the order a publication applies them.
Each target has the shape `targets.PublicationTarget` gives; adding one is a class and a line in `targets()`.
"""

from __future__ import annotations

import ast
import json
from contextlib import suppress
from typing import Any, ClassVar

import requests
from botocore.exceptions import BotoCoreError, ClientError
from ckanapi import RemoteCKAN
from ckanapi.errors import CKANAPIError, NotAuthorized, NotFound, ValidationError
from dagster import ConfigurableResource
from dagster_aws.s3 import S3Resource
from pydantic import Field

from perfplat_assets.common.network import unreachable_cause
from perfplat_assets.publication.committing.plan import PublicationPlan
from perfplat_assets.publication.committing.target import (
    Change,
    HeldFiles,
    PublicationFailed,
    PublicationTarget,
    file_changes,
)
from perfplat_assets.publication.published_format.records import CUMULATIVE_CSV
from perfplat_assets.publication.targets.directory import PublicationDirectory


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


class CkanCatalogue(ConfigurableResource):
    """data.gov.uk (CKAN): one resource on the dataset, linking to the hosted cumulative CSV."""

    name: ClassVar[str] = "ckan"
    label: ClassVar[str] = "CKAN"
    holds_files: ClassVar[bool] = False
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
        """An Action API call whose failure names the action and CKAN's own message, never the token; a
        CKAN never reached is told apart from CKAN's answer, since only a setting or the network fixes it."""
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
            cause = unreachable_cause(error)
            if cause is None:
                raise PublicationFailed(
                    f"CKAN {action} on {self.url} got no usable answer ({type(error).__name__})"
                ) from None
            raise PublicationFailed(
                f"CKAN {action}: cannot reach {self.url}: {cause}; check the network, proxy or endpoint "
                "setting PERFPLAT_CKAN_URL"
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

    def undo(self, plan: PublicationPlan, current: dict[str, Any] | None) -> str | None:
        existing = self._existing()
        if existing is None:
            return None
        if current is None:
            self._call("resource_delete", id=existing["id"])
            return "holds no resource, as before"
        previous = {key: current.get(key) for key in self._wanted(plan)}
        if all(existing.get(key) == value for key, value in previous.items()):
            return None
        self._call("resource_patch", id=existing["id"], **previous)
        return "restored to the previous resource"


def _message(error: Exception) -> str:
    """CKAN's own message. ckanapi gives an error dict for an action CKAN refused, and the URL, the status
    and the raw body for an answer it could not read as one (a 500, say): the message is taken from the
    body's JSON where it holds one, else the status and the start of the body."""
    detail = error.args[0] if error.args else error
    if isinstance(detail, str) and detail.startswith("["):  # ckanapi's repr([url, status, body])
        with suppress(ValueError, SyntaxError):
            detail = ast.literal_eval(detail)
    if isinstance(detail, list | tuple) and len(detail) == 3 and isinstance(detail[1], int):
        _, status, body = detail
        try:
            detail = json.loads(body)["error"]
        except (ValueError, TypeError, KeyError):
            return f"HTTP {status}: {' '.join(str(body).split())[:200]}"
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
