"""Which method a measure's figure was made by, month by month, for a measure whose method changes over
time (OPG moved user satisfaction from GDS's weighted score to the top-two-box share in April 2026). Pure."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from perfplat_assets.common.months import Month


@dataclass(frozen=True)
class MethodSchedule:
    """Which method is in force from which month on."""

    changes: tuple[tuple[Month, str], ...]

    @classmethod
    def parse(cls, text: str, known: Collection[str], what: str) -> MethodSchedule:
        """Parse `YYYY-MM:method,...` (e.g. `2021-03:weighted-gds,2026-04:top-two-box`), each method one of
        `known`; `what` names the schedule in a refusal ("satisfaction method")."""
        changes: list[tuple[Month, str]] = []
        for part in filter(None, (p.strip() for p in text.split(","))):
            month_text, _, method = part.partition(":")
            if method not in known:
                raise ValueError(
                    f"{what} schedule {text!r}: {method!r} is not a method; use one of {', '.join(known)}"
                )
            month = Month.parse(month_text)
            if any(seen == month for seen, _ in changes):
                raise ValueError(f"{what} schedule {text!r} names {month} twice: one method a month")
            changes.append((month, method))
        if not changes:
            raise ValueError(f"the {what} schedule is empty")
        changes.sort()
        return cls(tuple(changes))

    @property
    def text(self) -> str:
        """As it is written in a setting: `2021-03:weighted-gds,2026-04:top-two-box`."""
        return ",".join(f"{month.label}:{method}" for month, method in self.changes)

    def starts_by(self, month: Month, what: str) -> None:
        """Refuse a schedule with no method in force in `month` (a service's first), naming it."""
        if self.changes[0][0] > month:
            raise ValueError(
                f"the {what} schedule must start by {month}, the first month, not {self.changes[0][0]}"
            )

    def method_for(self, month: Month) -> str:
        in_force = [method for since, method in self.changes if since <= month]
        if not in_force:
            raise ValueError(f"no method is in force for {month}")
        return in_force[-1]
