"""The performance dataset: how a month's measures become values by published dataType. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from perfplat_assets.common.measure import Measure
from perfplat_assets.common.months import Month
from perfplat_assets.publication.records import DatasetValue


def month_measures(
    measures: Sequence[Measure], month: Mapping[str, Any]
) -> tuple[dict[str, float], dict[str, str]]:
    """A month's values by dataType, from each measure's figures for it (`month[measure.name]`, absent when
    there are none), and the reason each measure left out is missing.

    A measure without data is left out, never published as 0.
    """
    values: dict[str, float] = {}
    missing: dict[str, str] = {}
    for measure in measures:
        found, reason = measure.published_values(month.get(measure.name))
        values |= found
        if reason:
            missing[measure.name.replace("_", "-")] = reason
    return values, missing


def dataset_values(
    months: Sequence[Month], measures: Sequence[Measure], figures: Mapping[str, Sequence[Any]]
) -> tuple[list[DatasetValue], dict[str, str]]:
    """The months' values by published dataType, from each measure's figures (`figures[measure.name]`), and
    notes for people: each month withheld because a check blocked one of its measures upstream, and each
    measure left out, with why. A withheld month's values carry the reason (`blocked_by`), so the
    publication learns it from its input, not behind Dagster's back."""
    by_measure = {
        measure.name: {item.month: item for item in figures.get(measure.name, ())} for measure in measures
    }
    values: list[DatasetValue] = []
    notes: dict[str, str] = {}
    for month in months:
        upstream = {name: by_month[month] for name, by_month in by_measure.items() if month in by_month}
        blocked = "; ".join(f.blocked_by for f in upstream.values() if f.blocked_by) or None
        found, missing = month_measures(measures, upstream)
        values += [DatasetValue(month, data_type, value, blocked) for data_type, value in found.items()]
        if blocked:
            notes[f"withheld {month}"] = blocked
        else:
            notes.update({f"left out {month} {measure}": reason for measure, reason in missing.items()})
    return values, notes
