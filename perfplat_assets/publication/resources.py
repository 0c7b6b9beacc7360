"""Where a publication goes: the local directory (always), an S3 bucket and data.gov.uk's CKAN (when
configured). Each target can say what a publication would change, for a dry run, before doing it."""

import contextlib
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from botocore.exceptions import BotoCoreError, ClientError
from ckanapi import RemoteCKAN
from ckanapi.errors import CKANAPIError, NotAuthorized, NotFound, ValidationError
from dagster import ConfigurableResource
from dagster_aws.s3 import S3Resource
from pydantic import Field

from perfplat_assets.common.sql_source import DEFAULT_DATA_DIR
from perfplat_assets.publication.files import CUMULATIVE_CSV, content_type


class PublicationFailed(RuntimeError):
    """A target refused or failed; the message names the target, what failed and what to do."""


@dataclass(frozen=True)
class Change:
    target: str
    name: str
    action: str  # "create", "update" or "unchanged"


def _action(existing: str | bytes | None, content: str) -> str:
    if existing is None:
        return "create"
    current = existing.decode("utf-8") if isinstance(existing, bytes) else existing
    return "unchanged" if current == content else "update"


class PublicationDirectory(ConfigurableResource):
    """The local publication directory (PERFPLAT_PUBLISH_DIR)."""

    path: str = Field(
        default=f"{DEFAULT_DATA_DIR}/publish", description="Directory the files are written to."
    )

    def directory(self) -> Path:
        return Path(self.path).resolve()

    def read(self, name: str) -> str | None:
        path = self.directory() / name
        return path.read_text(encoding="utf-8") if path.exists() else None

    def plan(self, files: Mapping[str, str]) -> list[Change]:
        return [
            Change("directory", name, _action(self.read(name), content)) for name, content in files.items()
        ]

    def publish(self, files: Mapping[str, str]) -> None:
        """Every file is written and flushed beside its target first; only then are they renamed into
        place, one quick rename each, so a failure while writing leaves every published file as it was."""
        try:
            self._write(files)
        except OSError as error:
            raise PublicationFailed(f"publication directory {self.directory()}: {error}") from None

    def _write(self, files: Mapping[str, str]) -> None:
        directory = self.directory()
        directory.mkdir(parents=True, exist_ok=True)
        staged: list[tuple[str, Path]] = []
        try:
            for name, content in files.items():
                handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
                staged.append((temporary, directory / name))
                with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
                    file.write(content)
                    file.flush()
                    os.fsync(file.fileno())
                os.chmod(temporary, 0o644)
            for temporary, target in staged:
                os.replace(temporary, target)
        finally:
            for temporary, _ in staged:
                Path(temporary).unlink(missing_ok=True)


class S3Publication(ConfigurableResource):
    """The S3 drop OPG's monthly automation reads (PERFPLAT_S3_BUCKET, PERFPLAT_S3_PREFIX)."""

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

    def _fail(self, doing: str, error: Exception) -> PublicationFailed:
        return PublicationFailed(f"S3 bucket {self.bucket}: {doing} failed: {error}")

    def read(self, name: str) -> str | None:
        try:
            body = self.s3.get_client().get_object(Bucket=self.bucket, Key=self.key(name))["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise self._fail(f"reading {self.key(name)}", error) from None
        except BotoCoreError as error:
            raise self._fail(f"reading {self.key(name)}", error) from None
        return body.decode("utf-8")

    def plan(self, files: Mapping[str, str]) -> list[Change]:
        return [
            Change("s3", self.key(name), _action(self.read(name), content)) for name, content in files.items()
        ]

    def _put(self, client: Any, name: str, content: str) -> None:
        client.put_object(
            Bucket=self.bucket,
            Key=self.key(name),
            Body=content.encode("utf-8"),
            ContentType=content_type(name),
        )

    def publish(self, files: Mapping[str, str]) -> Callable[[], None]:
        """One PUT per object (S3 replaces an object whole, so no reader sees a partial one), in the order
        given. Returns an undo that puts back what was there before, for when a later step fails; if a
        PUT fails, what was already written is put back before the error is raised."""
        client = self.s3.get_client()
        before = {name: self.read(name) for name in files}
        written: list[str] = []

        def undo() -> None:
            for name in reversed(written):
                with contextlib.suppress(BotoCoreError, ClientError):
                    if before[name] is None:
                        client.delete_object(Bucket=self.bucket, Key=self.key(name))
                    else:
                        self._put(client, name, before[name] or "")

        for name, content in files.items():
            try:
                self._put(client, name, content)
            except (BotoCoreError, ClientError) as error:
                undo()
                raise self._fail(f"writing {self.key(name)}", error) from None
            written.append(name)
        return undo


class CkanCatalogue(ConfigurableResource):
    """data.gov.uk (CKAN): one resource on the dataset, linking to the hosted cumulative CSV."""

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

    def plan(self, csv_url: str, datafile_date: str) -> Change:
        existing = self._existing()
        if existing is None:
            return Change("ckan", self.resource_name, "create")
        wanted = self._resource(csv_url, datafile_date)
        same = all(existing.get(key) == value for key, value in wanted.items())
        return Change("ckan", self.resource_name, "unchanged" if same else "update")

    def register(self, csv_url: str, datafile_date: str) -> Change:
        """Create the resource the first time; patch it afterwards, so there is never a duplicate."""
        existing = self._existing()
        if existing is None:
            self._call("resource_create", package_id=self.dataset, **self._resource(csv_url, datafile_date))
            return Change("ckan", self.resource_name, "create")
        self._call("resource_patch", id=existing["id"], **self._resource(csv_url, datafile_date))
        return Change("ckan", self.resource_name, "update")


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
        default_factory=list, description="Settings left unset, so that their source is the embedded sample."
    )
    allow_sample_data: bool = Field(
        default=False,
        description="Let sample figures reach S3 or CKAN (PERFPLAT_ALLOW_SAMPLE_DATA), for demos.",
    )

    def refuse_sample_figures(self) -> None:
        """Synthetic figures must never reach the public by a missing secret."""
        public = [t for t in self.targets() if t != "directory"]
        if public and self.sample_sources and not self.allow_sample_data:
            raise PublicationFailed(
                f"{' and '.join(self.sample_sources)} unset, so those figures come from the embedded "
                f"sample, and {', '.join(public)} publication is on: set them (or "
                "PERFPLAT_ALLOW_SAMPLE_DATA=true for a demonstration)"
            )

    def hosted_csv_url(self) -> str | None:
        if self.public_base_url:
            return f"{self.public_base_url.rstrip('/')}/{CUMULATIVE_CSV}"
        return self.s3.public_url(CUMULATIVE_CSV) if self.s3.enabled else None

    def targets(self) -> list[str]:
        return ["directory"] + (["s3"] if self.s3.enabled else []) + (["ckan"] if self.ckan.enabled else [])
