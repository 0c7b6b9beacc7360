"""What a source resource says of itself: whether the figures it serves are the embedded sample's.

The publication guard (`DataGovUkPublisher.refuse_unpublishable_settings`) keeps synthetic figures off S3
and data.gov.uk. It is given what the sources report, found by type among the resources, so a new source
cannot be left out of it the way a list of variable names could leave it out.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable
from typing import ClassVar

from dagster import ConfigurableResource
from pydantic import Field


class SourceResource(ConfigurableResource):
    """A resource a measure's figures are read from."""

    setting: ClassVar[str]  # the variable that names the real source
    variable: str = Field(
        default="",
        description="The variable it was read from, where a service's own differs from its kind's `setting`.",
    )

    @property
    def setting_name(self) -> str:
        """The variable to set for this source: the service's own, or its kind's."""
        return self.variable or self.setting

    @property
    @abstractmethod
    def embedded(self) -> bool:
        """Whether the figures come from the embedded sample."""

    @property
    def sample_setting(self) -> str | None:
        """The setting to set for the service's own figures while this source serves the embedded sample
        (or, misconfigured, none at all); None when it reads the real source."""
        return self.setting_name if self.embedded else None

    @property
    def supersedes(self) -> str | None:
        """While this source is configured, the setting of the source it takes precedence over: that one is
        not read, so its sample is not served."""
        return None


def sample_settings(resources: Iterable[object]) -> list[str]:
    """The settings of the sources serving the embedded sample, in the order of `resources`."""
    sources = [resource for resource in resources if isinstance(resource, SourceResource)]
    superseded = {source.supersedes for source in sources}
    found = [
        setting
        for source in sources
        if (setting := source.sample_setting) is not None and setting not in superseded
    ]
    return list(dict.fromkeys(found))  # a source two measures read (Make an LPA's database) named once
