"""What a measure declares, once, so that the rest of perfplat can iterate over the registered measures
(`perfplat_assets.measures`) instead of naming them: the dataset, the records and their bounds, the CSVW,
the notes, the report, the store's tables, the schedules and the definitions all read these. Pure: no
Dagster, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from perfplat_assets.common.methods import MethodSchedule
from perfplat_assets.common.months import Month

if TYPE_CHECKING:
    from sqlalchemy import Table

Figures = TypeVar("Figures")

# No month of Make an LPA comes near a billion responses: a count at or above it is a defect (an import once
# took `1e300` and published a 301-digit integer).
COUNT_CEILING = 10**9


@dataclass(frozen=True)
class Bounds:
    """What a dataType's value may be: `low..high` inclusive, and whether it is a whole number."""

    low: int
    high: int
    whole: bool
    what: str  # how a message names the value: "a percentage", "a rating count"

    def problem(self, count: float) -> str | None:
        """Why `count` is outside the bounds, naming the bound; None when it is within them."""
        shown = _shown(count)
        if count < self.low:
            below = "negative" if self.low == 0 else f"below {self.low}"
            return f"count {shown} is {below}: {self.low} is the least {self.what} can be"
        if count > self.high:
            return f"count {shown} is above {self.high}, the most {self.what} can be"
        if self.whole and not float(count).is_integer():
            return f"count {shown} is not a whole number, as {self.what} must be"
        return None


def _shown(count: float) -> str:
    """A count as people read it: `5000` for 5000.0, `1e+300` kept short."""
    return (
        str(int(count))
        if isinstance(count, float) and count.is_integer() and abs(count) < 1e15
        else str(count)
    )


PERCENTAGE = Bounds(0, 100, whole=False, what="a percentage")


@dataclass(frozen=True)
class DataType:
    """One published dataType: a key of OPG's records and a column of `data.csv`.

    `whole_when_integral`: published as a whole number when it is one, as OPG always has (`100`, not
    `100.0`); a whole-number dataType (`bounds.whole`) is always published as one."""

    name: str  # "completion-rate"
    title: str  # how a table's heading names it: "Completion rate", "Very satisfied"
    unit: str  # "per cent", or what is counted: "responses", "days"
    bounds: Bounds
    description: str = ""  # the CSVW column's, a sentence without its full stop; else its measure's note
    whole_when_integral: bool = False

    @property
    def csvw_datatype(self) -> str:
        """The CSVW datatype of its `data.csv` column."""
        if not self.bounds.whole:
            return "decimal"
        return "nonNegativeInteger" if self.bounds.low >= 0 and self.unit != "per cent" else "integer"

    def published(self, value: float) -> int | float:
        """The JSON number it is published as: `8424`, never `8424.0` or `"8424"`."""
        if self.bounds.whole or (self.whole_when_integral and float(value).is_integer()):
            return int(value)
        return float(value)


# What a cross-dataType rule of published values says: the months whose values disagree, and why. It is
# given the values by (month, dataType) and the method in force in a month (None where none is known).
ConsistencyRule = Callable[
    [Mapping[tuple[Month, str], float], Callable[[Month], "str | None"]], list[tuple[Month, str]]
]


@dataclass(frozen=True)
class Measure(Generic[Figures]):
    """A measure: its asset, the figures a month of it is, and everything published from them.

    The first dataType is the measure's headline, charted in the report; any others are its parts (for
    user satisfaction, the five rating counts), shown as shares of their total. `home` is the package that
    holds the measure's Dagster asset in its `assets` module (`<home>.assets.<name>`)."""

    name: str  # the asset's name, and its table's in the metrics store
    home: str
    title: str  # "Completion rate"
    figures: type[Figures]
    table: Table  # its table in the metrics store, registered with `metrics_store.tables.stored_asset`
    data_types: tuple[DataType, ...]
    values: Callable[[Figures], Mapping[str, float] | None]  # a month's values by dataType; None: none
    checks: Sequence[Any]  # its `quality.rules.Check`s (quality builds on this module, not the other way)
    note: str  # how its figures are made, for notes.md and report.html: a sentence without its full stop
    # The report's section on its parts, when it has parts: its heading, and what they are.
    breakdown: str = ""
    breakdown_note: str = ""
    # The methods its headline figure can be made by, each with its description, when the method changes
    # over time (the satisfaction schedule): the notes, the CSVW and the report state it month by month and
    # mark each change.
    methods: Mapping[str, str] = field(default_factory=dict)
    default_methods: str = ""  # the schedule in force unless configured: `YYYY-MM:method,...`
    # The name of the setting that configures it, for each service: `PERFPLAT_<SERVICE>_<methods_setting>`.
    methods_setting: str = ""
    consistency: ConsistencyRule | None = None  # a rule across its published dataTypes
    # Re-collected for the month that just closed on the `settled` schedule (GA4 settles in three days).
    settles: bool = False
    revised_months: int = 0  # re-collected for this many months before, on the `revisions` schedule
    run_tags: Mapping[str, str] = field(default_factory=dict)  # on every run that materialises it

    def method_schedule(self, text: str = "") -> MethodSchedule:
        """Its methods month by month: `text` (`YYYY-MM:method,...`), else its default."""
        what = f"{self.title.lower()} method"
        return MethodSchedule.parse(text or self.default_methods, list(self.methods), what)

    @property
    def headline(self) -> DataType:
        return self.data_types[0]

    @property
    def parts(self) -> tuple[DataType, ...]:
        return self.data_types[1:]

    @property
    def anchor(self) -> str:
        """The report's id of its section: `completion-rate`."""
        return self.name.replace("_", "-")

    def published_values(self, figures: Figures | None) -> tuple[dict[str, float], str | None]:
        """The month's values by dataType, or none and why: a measure without data is left out, never
        published as 0."""
        found = self.values(figures) if figures is not None else None
        if found:
            return dict(found), None
        reason: Any = getattr(figures, "not_available_reason", None) if figures is not None else None
        return {}, reason or f"{self.title.lower()} was not computed for this month"
