"""The publication directory: what data.gov.uk and OPG's monthly automation read."""

from pathlib import Path

from dagster import ConfigurableResource
from pydantic import Field

from perfplat_assets.common.sql_source import DEFAULT_DATA_DIR


class PublicationDirectory(ConfigurableResource):
    path: str = Field(
        default=f"{DEFAULT_DATA_DIR}/publish", description="Directory the published files are written to."
    )

    def directory(self) -> Path:
        return Path(self.path).resolve()
