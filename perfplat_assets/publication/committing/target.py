"""The shape every publication target shares: read what it holds now, say what a plan would change, apply a
plan, and undo it back to what it held. No Dagster."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from perfplat_assets.publication.committing.plan import PublicationPlan, PublishedFile


class PublicationFailed(RuntimeError):
    """A target refused or failed; the message names the target, what failed and what to do."""


@dataclass(frozen=True)
class Change:
    target: str
    name: str
    action: str  # "create", "update" or "unchanged"


class PublicationTarget(Protocol):
    """What every target does. `current` is whatever `read_current` returned: what `undo` restores."""

    name: ClassVar[str]  # in the journal
    label: ClassVar[str]  # in messages for people
    holds_files: ClassVar[
        bool
    ]  # a files target is undone on failure; CKAN, which only links, is completed later

    def read_current(self, plan: PublicationPlan) -> Any: ...

    def changes(self, plan: PublicationPlan, current: Any) -> list[Change]: ...

    def apply(self, plan: PublicationPlan, current: Any) -> None: ...

    def undo(self, plan: PublicationPlan, current: Any) -> str | None:
        """Back to `current`; says what the target holds now ("restored to the previous publication" only
        when there was one and it is in place again), or None when nothing had to be put back."""
        ...


@dataclass(frozen=True)
class HeldFiles:
    """What a files target holds of each planned file (None: absent), as read before a publication."""

    files: Mapping[str, bytes | None]
    version: str | None = None  # the directory's current version; None before its first publication


def file_changes(target: str, plan: PublicationPlan, current: HeldFiles, label: Any = str) -> list[Change]:
    def action(item: PublishedFile) -> str:
        before = current.files.get(item.name)
        return "create" if before is None else "unchanged" if before == item.content else "update"

    return [Change(target, label(item.name), action(item)) for item in plan.files]
