"""What every quality check is made of, whichever asset it checks: a rule is a plain function from the
run's months of one asset to the findings that break it, and a check is its rule with what it is for. The
rules themselves live beside what they check (each measure's `checks.py`, the publication's). No Dagster.

A finding names the month, says what is wrong in a sentence a product manager can act on, and carries the
offending values. A `Check` is named by its rule, so a check without a rule cannot be declared.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from perfplat_assets.common.months import Month

Figures = TypeVar("Figures")


@dataclass(frozen=True)
class Finding:
    month: Month | None  # None: a published record whose month cannot be read
    message: str
    values: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Limits:
    """What a rule is judged against: the month that closed last, which no published record may be after.
    A measure whose warning checks need judgement calls extends it with them (`SatisfactionLimits`), read
    from its settings by its own thresholds resource."""

    last_closed: Month | None = None


Rule = Callable[[Sequence[Figures], Limits], list[Finding]]


@dataclass(frozen=True)
class Check(Generic[Figures]):
    """A quality check: its rule, what it makes sure of, and whether failing it withholds the month."""

    rule: Rule[Figures]
    description: str
    blocks_publication: bool = False

    @property
    def name(self) -> str:
        return self.rule.__name__

    def findings(self, figures: Sequence[Figures], limits: Limits) -> list[Finding]:
        return self.rule(figures, limits)


def outside_0_100(value: float | None) -> bool:
    """A percentage that cannot be one."""
    return value is not None and not (0 <= value <= 100)
