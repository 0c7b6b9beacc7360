"""The publisher: every target a publication goes to, in the order it applies them (the local directory,
S3, then CKAN, each when configured), with the settings that guard them. Adding a target is its module in
this folder and a line in `targets()`."""

from __future__ import annotations

from dagster import ConfigurableResource
from pydantic import Field

from perfplat_assets.common.service import Service
from perfplat_assets.common.settings import url_problem
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.publication.committing.target import PublicationFailed, PublicationTarget
from perfplat_assets.publication.published_format.records import CUMULATIVE_CSV
from perfplat_assets.publication.targets.ckan import CkanCatalogue
from perfplat_assets.publication.targets.directory import PublicationDirectory
from perfplat_assets.publication.targets.s3 import S3Publication
from perfplat_assets.services.registry import service_called


class DataGovUkPublisher(ConfigurableResource):
    """The metrics store a publication is made from and committed to, every target it goes to, in the order
    it uses them, and the dry-run switch."""

    service: str = Field(description="The service it publishes, by name: make_an_lpa.")
    store: MetricsStore
    directory: PublicationDirectory
    s3: S3Publication
    ckan: CkanCatalogue
    public_base_url: str | None = Field(
        default=None,
        description="Public URL of the top of the publication (PERFPLAT_PUBLIC_BASE_URL), for CKAN.",
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

    @property
    def published_service(self) -> Service:
        return service_called(self.service)

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
        if not self.ckan.enabled:
            return
        csv_url = self.hosted_csv_url()
        if not csv_url:
            raise PublicationFailed(
                "PERFPLAT_CKAN_URL is set but data.csv has no public URL to register: set "
                "PERFPLAT_PUBLIC_BASE_URL (where the files are served) or PERFPLAT_S3_BUCKET. Nothing was "
                "published"
            )
        # Only an https URL (or http on this machine) without credentials reaches CKAN, whatever the run's
        # environment holds: checked again here, since a run reads its own.
        problem = url_problem(csv_url)
        if problem:
            made_from = "PERFPLAT_PUBLIC_BASE_URL" if self.public_base_url else "AWS_ENDPOINT_URL_S3"
            raise PublicationFailed(
                f"data.csv's public URL for CKAN, made from {made_from}, {problem}; set "
                "PERFPLAT_PUBLIC_BASE_URL to the https URL the files are served from. Nothing was published"
            )

    def hosted_csv_url(self) -> str | None:
        """The CSV CKAN links to: in the service's folder under PERFPLAT_PUBLIC_BASE_URL (where the top of
        the publication is served, every service's folder under it), else S3's object."""
        if self.public_base_url:
            return f"{self.public_base_url.rstrip('/')}/{self.published_service.folder}/{CUMULATIVE_CSV}"
        return self.s3.public_url(CUMULATIVE_CSV) if self.s3.enabled else None

    def targets(self) -> list[PublicationTarget]:
        """The enabled targets, in the order a publication applies them: the files first (the local
        directory, then S3, which OPG's automation reads), CKAN last, since it only links to them."""
        return [
            self.directory,
            *([self.s3] if self.s3.enabled else []),
            *([self.ckan] if self.ckan.enabled else []),
        ]
