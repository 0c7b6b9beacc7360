"""A month's figures as columns: the one conversion between the typed figures that flow between assets and
the flat rows of the metrics store's tables (and of the tables people read in the UI).

A figures class is a dataclass whose fields are its table's columns, with two kinds of exception: `month`
is a `Month` (a partition key in a row), and a field whose type has `columns()` and `from_columns()` (a
component such as `RatingCounts`) stands for the several columns it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from functools import cache
from types import UnionType
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from perfplat_assets.common.months import Month

T = TypeVar("T")


def _component(hint: Any) -> type | None:
    """The component class a field holds (optionally None), or None for a plain column."""
    candidates = get_args(hint) if get_origin(hint) in (Union, UnionType) else (hint,)
    return next((c for c in candidates if isinstance(c, type) and hasattr(c, "from_columns")), None)


@cache
def _layout(kind: type) -> tuple[tuple[str, type | None], ...]:
    hints = get_type_hints(kind)
    return tuple((f.name, _component(hints[f.name])) for f in fields(kind))


def to_row(figures: Any) -> dict[str, Any]:
    """The figures as their table's row, columns in the table's order."""
    row: dict[str, Any] = {}
    for name, component in _layout(type(figures)):
        value = getattr(figures, name)
        if isinstance(value, Month):
            row[name] = value.key
        elif component is not None:
            row |= value.columns() if value is not None else dict.fromkeys(component().columns())
        else:
            row[name] = value
    return row


def from_row(kind: type[T], row: Mapping[str, Any]) -> T:
    """The figures a table's row holds."""
    assert is_dataclass(kind)
    values: dict[str, Any] = {}
    for name, component in _layout(kind):
        if name == "month":
            values[name] = Month.parse(row[name])
        elif component is not None:
            values[name] = component.from_columns(row)
        else:
            values[name] = row[name]
    return kind(**values)
