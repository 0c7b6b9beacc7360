"""The publication directory: what data.gov.uk and OPG's monthly automation read."""

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field


class PublicationDirectory(ConfigurableResource):
    path: str = Field(
        default=".perfplat/publish", description="Directory the published files are written to."
    )

    def directory(self) -> Path:
        return Path(self.path).resolve()
