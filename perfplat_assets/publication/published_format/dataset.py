"""The performance dataset: how a month's measures become values by published dataType. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from perfplat_assets.common.measure import Measure
from perfplat_assets.common.months import Month
from perfplat_assets.publication.published_format.records import DatasetValue


def month_measures(
    measures: Sequence[Measure], month: Mapping[str, Any]
) -> tuple[dict[str, dict[str, float]], dict[str, str]]:
    """A month's values by measure and dataType, from each measure's figures for it (`month[measure.name]`,
    absent when there are none), and the reason each measure left out is missing.

    A measure without data is left out, never published as 0.
    """
    values: dict[str, dict[str, float]] = {}
    missing: dict[str, str] = {}
    for measure in measures:
        found, reason = measure.published_values(month.get(measure.name))
        if found:
            values[measure.name] = found
        if reason:
            missing[measure.name.replace("_", "-")] = reason
    return values, missing


def dataset_values(
    months: Sequence[Month], measures: Sequence[Measure], figures: Mapping[str, Sequence[Any]]
) -> tuple[list[DatasetValue], dict[str, str]]:
    """The months' values by published dataType, from each measure's figures (`figures[measure.name]`), and
    notes for people: each measure a check blocked upstream, and each measure left out, with why.

    A blocked measure's values carry the reason (`blocked_by`), so the publication learns it from its input,
    not behind Dagster's back, and withholds that measure alone: the month's other measures are published.
    A measure blocked without a value to carry the reason withholds the whole month, since the publication
    could not otherwise tell that its earlier values must stay."""
    by_measure = {
        measure.name: {item.month: item for item in figures.get(measure.name, ())} for measure in measures
    }
    values: list[DatasetValue] = []
    notes: dict[str, str] = {}
    for month in months:
        upstream = {name: by_month[month] for name, by_month in by_measure.items() if month in by_month}
        found, missing = month_measures(measures, upstream)
        blocks = {name: f.blocked_by for name, f in upstream.items() if f.blocked_by}
        whole_month = "; ".join(reason for name, reason in blocks.items() if name not in found) or None
        for name, by_data_type in found.items():
            reason = "; ".join(r for r in (blocks.get(name), whole_month) if r) or None
            values += [
                DatasetValue(month, data_type, value, reason) for data_type, value in by_data_type.items()
            ]
        notes.update(
            {f"withheld {month} {name.replace('_', '-')}": reason for name, reason in blocks.items()}
        )
        notes.update(
            {
                f"left out {month} {measure}": reason
                for measure, reason in missing.items()
                if measure.replace("-", "_") not in blocks
            }
        )
    return values, notes
