"""The notes published beside the data: how each figure is made, so a reader sees methods change."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from itertools import pairwise

from perfplat_assets.common.errors import clause
from perfplat_assets.common.measure import Measure
from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service
from perfplat_assets.measures import Methods, service_measures
from perfplat_assets.publication.published_format.synthetic import synthetic_notice


def methods_heading(methods: Mapping[Month, str]) -> str:
    """What introduces the list of methods: a warning when they changed."""
    if method_changes(methods):
        return "The method changed, so figures either side of a change are not directly comparable:"
    return "The method used:"


def method_periods(methods: Mapping[Month, str]) -> list[tuple[Month, Month, str]]:
    """Runs of consecutive published months that used the same method."""
    periods: list[tuple[Month, Month, str]] = []
    for month in sorted(methods):
        method = methods[month]
        if periods and periods[-1][2] == method and periods[-1][1].next() == month:
            periods[-1] = (periods[-1][0], month, method)
        else:
            periods.append((month, month, method))
    return periods


def method_name(descriptions: Mapping[str, str], method: str) -> str:
    """How a sentence names a method: "weighted GDS score" (its description up to the formula)."""
    return descriptions.get(method, method).partition(":")[0]


def method_changes(methods: Mapping[Month, str]) -> list[tuple[Month, str, str]]:
    """(month, method before, method from then) for each month whose method differs from the one of the
    latest earlier month that has one: a gap between months of one method is no change."""
    ordered = sorted(methods.items())
    return [(month, before, method) for (_, before), (month, method) in pairwise(ordered) if method != before]


def notes_markdown(
    service: Service,
    methods: Methods,
    adopted: Mapping[tuple[Month, str], str] | None = None,
    synthetic: Collection[Month] = (),
) -> str:
    """How each registered measure's figures are made, a section each; a measure made by methods that
    change lists them month by month (`methods`, by measure). Months published as OPG published them though
    their values disagree (`adopted`, imported history) are listed last, each with both figures. Months
    computed from the embedded sample (`synthetic`) are said first, before anything else is read."""
    notice = synthetic_notice(synthetic)
    lines = [
        *([f"> **{notice}**", ""] if notice else []),
        f"# {service.short_title}: monthly service performance data",
        "",
        "Published by the Office of the Public Guardian." if not notice else "Made by perfplat.",
        "One record per month and dataType in `data.json`; one row per month in `data.csv`. A measure",
        "without data for a month is left out, never shown as 0.",
        "",
        *([f"{clause(service.note)}.", ""] if service.note else []),
    ]
    for measure in service_measures(service):
        by_month = methods.get(measure.name, {})
        lines += [f"## {measure.title} (`{measure.headline.name}`)", "", _note(measure, by_month), ""]
        if measure.methods and by_month:
            excepted = sorted(month for month, name in adopted or {} if name == measure.headline.name)
            lines += [
                f"- {first if first == last else f'{first} to {last}'}: {measure.methods.get(method, method)}"
                + _except(m for m in excepted if first <= m <= last)
                for first, last, method in method_periods(by_month)
            ]
            lines.append("")
    if adopted:
        lines += [
            "## Months as OPG published them",
            "",
            "These months were taken over from OPG's published series as published, though their figures do "
            "not agree with each other under the method stated above; the published record stands:",
            "",
            *(f"- {month}: {why} (published as it stands)." for (month, _), why in sorted(adopted.items())),
            "",
        ]
    return "\n".join(lines)


def _except(months: Iterable[Month]) -> str:
    """What a method's line says of the months in its period whose published figure does not follow it, so
    the notes never state a method for a figure without saying which do not follow it."""
    named = [str(month) for month in months]
    if not named:
        return ""
    which = "it" if len(named) == 1 else "them"
    return f" ({', '.join(named)} as OPG published {which}, not by this method: see the last section)"


def _note(measure: Measure, methods: Mapping[Month, str]) -> str:
    note = f"{clause(measure.note)}."
    if measure.revised_months:
        note = f"{clause(measure.note)}; every change to a published value is listed in `revisions.csv`."
    return f"{note} {methods_heading(methods)}" if measure.methods and methods else note
