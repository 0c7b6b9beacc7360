"""`report.html`: the published figures as a page for people, with a chart and a table for each measure.

Pure: no clock, and no I/O but reading its own template. The page is `templates/report.html.j2` (its style
`templates/report.css`, inline), rendered with autoescaping from what this module works out; the charts are
drawn by matplotlib's SVG backend and inlined as markup, so the page needs no JavaScript, no network and
nothing beside it. The same records give the same bytes (the plan's digest and an idempotent re-apply
depend on it): matplotlib's SVG ids are salted with a constant, its date is left out and text stays text.
The date the page gives is the data's own: the newest published month and the latest revision, never the
time it was built.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from perfplat_assets.common.measure import DataType, Measure
from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service
from perfplat_assets.measures import Methods, service_measures
from perfplat_assets.publication.published_format.notes import (
    method_changes,
    method_name,
    method_periods,
    methods_heading,
)
from perfplat_assets.publication.published_format.records import (
    CSVW_METADATA,
    CUMULATIVE_CSV,
    NOTES_MD,
    RECORDS_JSON,
    REVISIONS_CSV,
    Record,
)
from perfplat_assets.publication.published_format.revisions import revisions_csv
from perfplat_assets.publication.published_format.synthetic import publisher_line, synthetic_notice

if TYPE_CHECKING:
    from matplotlib.figure import Figure


# GOV.UK's palette. Text, axes, lines and markers are at least 4.5:1 on white (so graphics pass 3:1 too).
INK = "#0b0c0c"
SECONDARY = "#505a5f"
BLUE = "#1d70b8"
GRID = "#b1b4b6"  # gridlines only: a reading aid, not information

# A measure's parts (the five ratings, best first), in their order: each a line with its own colour (every
# one at least 3:1 on white), marker and dash, so no part is told by colour alone. (Hatched stacked bars were
# tried: matplotlib writes each hatch as a pattern of some 15 KB, and the page is copied to every target on
# every publication.)
PART_STYLES = (
    ("#003078", "o", "-"),
    ("#1d70b8", "s", "--"),
    ("#505a5f", "^", ":"),
    ("#d4351c", "D", "-."),
    ("#942514", "v", (0, (6, 2, 1, 2, 1, 2))),
)

RC = {
    "svg.hashsalt": "perfplat-report",  # ids from content, not from a random salt
    "svg.fonttype": "none",  # text as <text>, readable and searchable, no embedded glyph paths
    "svg.image_inline": True,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 11,
    "text.color": INK,
    "axes.edgecolor": SECONDARY,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "path.simplify": False,
}
SVG_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}
# The month axis: a chart's width holds 8 labels as wide as "2021" with room between them (labels are at
# most that wide), so the step between labelled months is the first of these that keeps to 8.
MAX_TICKS = 8
TICK_STEPS = (1, 2, 3, 6, 12, 24, 60)
# Between a label and the point or line it names, in points: more than a marker's radius (3) and its edge.
LABEL_GAP = 5
# The share of the plot's height within which a point is near its bottom or top: a plot is some 150 points
# high, so 15% of it is more than half a label's height (7 points).
NEAR_EDGE_OF_PLOT = (0.15, 0.85)


@dataclass(frozen=True)
class Cell:
    """A cell of a table: a figure (right-aligned, in tabular digits) or words; a date when `datetime`."""

    text: str
    figure: bool = True
    datetime: str | None = None


@dataclass(frozen=True)
class Row:
    month: Month
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Table:
    id: str
    caption: str
    headers: tuple[str, ...]
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Chart:
    """A chart with its caption (a heading and the chart in words) and its figures as a table."""

    svg: Markup
    heading: str
    text: str
    table: Table


@dataclass(frozen=True)
class Section:
    """A measure's section, or its breakdown's: its chart, or the sentence that says there is none."""

    anchor: str
    heading: str
    chart: Chart | None = None
    note: str = ""  # a paragraph before the chart
    nothing: str = ""


@dataclass(frozen=True)
class MethodNote:
    """How a measure's figures are made; each period of one method when its method changes over time."""

    title: str
    note: str
    heading: str = ""
    periods: tuple[tuple[Month, Month, str], ...] = ()


@dataclass(frozen=True)
class Revised:
    datetime: str  # as the store gives it
    day: str  # as people read it: 3 April 2026


# The files published beside the page, each with what it holds.
DATA_FILES = (
    (CUMULATIVE_CSV, "every month, a column per measure (CSV)"),
    (CSVW_METADATA, f"what each column of {CUMULATIVE_CSV} means (CSV on the Web)"),
    (RECORDS_JSON, "every record in OPG's format (JSON)"),
    (REVISIONS_CSV, "every change to a published figure (CSV)"),
    (NOTES_MD, "how the figures are made (Markdown)"),
)


def report_html(
    service: Service,
    all_records: Sequence[Record],
    revision_history: Sequence[Mapping[str, object]],
    methods: Methods,
    synthetic: Collection[Month] = (),
) -> str:
    """The page: each measure's chart, summary and table, the ratings, the methods and the revisions; a
    banner over it all while any month is synthetic (computed from the embedded sample)."""
    values: dict[str, dict[Month, int | float]] = {}
    for item in all_records:
        values.setdefault(item["dataType"], {})[Month.from_timestamp(item["_timestamp"])] = item["count"]
    months = sorted({month for series in values.values() for month in series})
    revisions = list(csv.DictReader(io.StringIO(revisions_csv(revision_history))))
    sections = []
    for measure in service_measures(service):
        series, by_month = values.get(measure.headline.name, {}), methods.get(measure.name, {})
        sections.append(_measure_section(measure, series_months(months, series), series, by_month))
        if measure.parts:
            published = {m for part in measure.parts for m in values.get(part.name, {})}
            sections.append(_breakdown_section(measure, series_months(months, published), values))
    return PAGE.get_template("report.html.j2").render(
        title=f"{service.title}: monthly service performance",
        synthetic=synthetic_notice(synthetic),
        publisher=publisher_line(synthetic, months),
        months=months,
        revised=_revised(revisions),
        sections=sections,
        methods=[
            _method_note(measure, methods.get(measure.name, {})) for measure in service_measures(service)
        ],
        revisions=_revisions_table(revisions),
        files=DATA_FILES,
    )


def _month_name(month: Month) -> str:
    return month.first_day.strftime("%B %Y")


def _month_short(month: Month) -> str:
    return month.first_day.strftime("%b %Y")


def _compact(markup: Markup) -> Markup:
    """The markup without the template's line breaks and indents between tags."""
    return Markup(re.sub(r">\s*\n\s*<", "><", str(markup)).strip())


PAGE = Environment(
    loader=PackageLoader(__package__, "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
PAGE.filters |= {"month_name": _month_name, "compact": _compact}


def series_months(months: Sequence[Month], published: Iterable[Month]) -> list[Month]:
    """The months a series is shown over: from its own first published month to the page's newest, so a
    measure that began later is drawn across its own months, not squeezed into the page's whole span, and a
    month it lacks at the end is a gap, not a shorter axis."""
    first = min(published, default=None)
    return [] if first is None else [month for month in months if month >= first]


def value_text(data_type: DataType, value: int | float) -> str:
    """A value as the page writes it: the number its dataType publishes, as data.json and data.csv have it
    (`84%` for a whole-number percentage, `29.01%` and `42.0%` for a decimal one, `100%` for uptime's whole
    month), so the text, the tables and the files agree digit for digit."""
    number = json.dumps(data_type.published(value))
    return f"{number}%" if data_type.unit == "per cent" else f"{number} {data_type.unit}"


def _revised(revisions: Sequence[Mapping[str, str]]) -> Revised | None:
    """When a published figure was last revised, if one ever was."""
    if not revisions:
        return None
    latest = max(revisions, key=lambda r: r["revised_at"])["revised_at"]
    day = datetime.fromisoformat(latest)
    return Revised(latest, f"{day.day} {day:%B %Y}")


def _summary(measure: Measure, months: Sequence[Month], series: Mapping[Month, int | float]) -> str:
    """The chart in words: what it covers (the series' own months), the latest value, the lowest and the
    highest, the gaps."""
    present = [m for m in months if m in series]
    latest = present[-1]
    low = min(present, key=lambda m: (series[m], m))
    high = max(present, key=lambda m: (series[m], m))
    shown = measure.headline
    text = (
        f"{measure.title} by month, {_month_name(months[0])} to {_month_name(months[-1])}. "
        f"Latest: {value_text(shown, series[latest])} in {_month_name(latest)}. "
        f"Lowest: {value_text(shown, series[low])} in {_month_name(low)}; "
        f"highest: {value_text(shown, series[high])} in {_month_name(high)}."
    )
    return text + _missing_sentence([m for m in months if m not in series])


def _missing_sentence(missing: Sequence[Month]) -> str:
    """The months a chart shows as gaps, in words: a reader of the text alternative learns of them too."""
    if not missing:
        return ""
    names = ", ".join(_month_name(m) for m in missing[:6]) + (" and others" if len(missing) > 6 else "")
    return f" Not published for {len(missing)} month{'s' if len(missing) > 1 else ''}: {names}."


def _measure_section(
    measure: Measure,
    months: Sequence[Month],
    series: Mapping[Month, int | float],
    methods: Mapping[Month, str],
) -> Section:
    if not series:
        return Section(
            measure.anchor, measure.title, nothing="No figures for this measure have been published."
        )
    unit = measure.headline.unit
    changes = _method_changes(measure, months, methods)
    summary = _summary(measure, months, series) + _changes_sentence(measure, changes)
    rows = tuple(
        Row(month, (Cell(value_text(measure.headline, series[month])),))
        if month in series
        else Row(month, (Cell("not published", figure=False),))
        for month in months
    )
    chart = Chart(
        _line_chart(measure, months, series, changes, summary),
        f"{measure.title}, {unit}, by month",
        summary
        + (" The dashed line marks a change of method (see How the figures are made)." if changes else ""),
        Table(
            f"table-{measure.anchor}",
            f"{measure.title} by month",
            ("Month", f"{measure.title} ({unit})"),
            rows,
        ),
    )
    return Section(measure.anchor, measure.title, chart)


def _method_changes(
    measure: Measure, months: Sequence[Month], methods: Mapping[Month, str]
) -> list[tuple[Month, str, str]]:
    """The changes of method the measure's chart marks, within the months it shows: none for a measure
    whose method does not change."""
    if not measure.methods:
        return []
    return [change for change in method_changes(methods) if change[0] in months]


def _changes_sentence(measure: Measure, changes: Sequence[tuple[Month, str, str]]) -> str:
    """The changes of method in words, for the chart's text alternative as much as for its caption."""
    return "".join(
        f" The method changed in {_month_name(month)}, from the {method_name(measure.methods, before)} to "
        f"the {method_name(measure.methods, after)}: figures either side are not directly comparable."
        for month, before, after in changes
    )


def _breakdown_anchor(measure: Measure) -> str:
    return measure.breakdown.lower().replace(" ", "-")


def _breakdown_section(
    measure: Measure, months: Sequence[Month], values: Mapping[str, Mapping[Month, int | float]]
) -> Section:
    """A measure's parts (user satisfaction's five rating counts), each as a share of the month's total,
    over `months` (from the parts' first published month); a month without any is a gap."""
    anchor, parts = _breakdown_anchor(measure), measure.parts
    shown = [m for m in months if any(m in values.get(part.name, {}) for part in parts)]
    if not shown:
        return Section(
            anchor, measure.breakdown, nothing=f"No {measure.breakdown.lower()} have been published."
        )
    totals = {m: sum(values.get(part.name, {}).get(m, 0) for part in parts) for m in shown}
    latest, unit = shown[-1], parts[0].unit
    shares = ", ".join(
        f"{part.title.lower()} {_share(values.get(part.name, {}).get(latest, 0), totals[latest])}"
        for part in parts
    )
    summary = (
        f"{measure.breakdown} by month, {_month_name(months[0])} to {_month_name(months[-1])}, as a share of "
        f"each month's {unit}. {_month_name(latest)}: {totals[latest]} {unit}; {shares}."
    ) + _missing_sentence([m for m in months if m not in totals])
    rows = tuple(
        Row(
            month,
            (
                *(
                    Cell(str(values[part.name][month]))
                    if month in values.get(part.name, {})
                    else Cell("-", figure=False)
                    for part in parts
                ),
                Cell(str(totals[month])),
            ),
        )
        for month in shown
    )
    chart = Chart(
        _parts_chart(measure, anchor, months, values, totals, summary),
        f"{measure.breakdown}, by month",
        summary,
        Table(
            f"table-{anchor}",
            f"{measure.breakdown}: {unit} by month",
            ("Month", *(part.title for part in parts), f"All {unit}"),
            rows,
        ),
    )
    return Section(anchor, measure.breakdown, chart, note=measure.breakdown_note)


def _share(count: int | float, total: int | float) -> str:
    return f"{100 * count / total:.0f}%" if total else "0%"


def _method_note(measure: Measure, methods: Mapping[Month, str]) -> MethodNote:
    """How the measure's figures are made; with each month's method where it changes over time."""
    periods = method_periods(methods) if measure.methods else []
    if not periods:
        return MethodNote(measure.title, measure.note)
    return MethodNote(
        measure.title,
        measure.note,
        methods_heading(methods),
        tuple((first, last, measure.methods.get(method, method)) for first, last, method in periods),
    )


def _revisions_table(revisions: Sequence[Mapping[str, str]]) -> Table:
    rows = tuple(
        Row(
            Month.parse(r["month"]),
            (
                Cell(r["dataType"], figure=False),
                Cell(r["previous_value"] or "none"),
                Cell(r["new_value"] or "withdrawn"),
                Cell(r["revised_at"][:10], figure=False, datetime=r["revised_at"]),
            ),
        )
        for r in revisions
    )
    return Table(
        "table-revisions",
        "Every change to a published figure, oldest first",
        ("Month", "Measure", "Previous value", "New value", "Revised on"),
        rows,
    )


# Charts -----------------------------------------------------------------------------------------------


def _style() -> Any:
    import matplotlib

    return matplotlib.rc_context(RC)


def _figure(height: float) -> Figure:
    # matplotlib is imported when a chart is drawn, not when the code location loads.
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.2, height), layout="constrained")
    FigureCanvasSVG(figure)
    return figure


def month_ticks(months: Sequence[Month]) -> list[tuple[int, str]]:
    """The months the x axis labels, by position, and their labels: every month while `MAX_TICKS` fit, else
    every 2nd, 3rd or 6th month from January (month over year), else each January or every other (the year
    alone). No label is wider than a year's four digits, so none overlaps another at any length."""
    step = next((s for s in TICK_STEPS if len(months) <= s * MAX_TICKS), TICK_STEPS[-1])
    return [(i, _tick_label(month, step)) for i, month in enumerate(months) if _on_step(month, step)]


def _on_step(month: Month, step: int) -> bool:
    day = month.first_day
    if step < 12:
        return (day.month - 1) % step == 0
    return day.month == 1 and day.year % (step // 12) == 0


def _tick_label(month: Month, step: int) -> str:
    return str(month.first_day.year) if step >= 12 else month.first_day.strftime("%b\n%Y")


def _month_axis(axes, months: Sequence[Month]) -> None:
    ticks = month_ticks(months)
    axes.set_xticks([i for i, _ in ticks], [label for _, label in ticks])
    axes.set_xlim(-0.6, len(months) - 0.4)


def _line_chart(
    measure: Measure,
    months: Sequence[Month],
    series: Mapping[Month, int | float],
    changes: Sequence[tuple[Month, str, str]],
    summary: str,
) -> Markup:
    with _style():
        figure = _figure(2.8)
        axes = figure.add_subplot()
        ys = [float(series[m]) if m in series else math.nan for m in months]
        axes.plot(range(len(months)), ys, color=BLUE, linewidth=2, marker="o", markersize=6, gid="series")
        axes.grid(axis="y", color=GRID, linewidth=0.6)
        axes.set_axisbelow(True)
        axes.set_ylabel(measure.headline.unit)
        _month_axis(axes, months)
        low, high = min(v for v in ys if not math.isnan(v)), max(v for v in ys if not math.isnan(v))
        margin = max((high - low) * 0.25, 1.0)
        # The axis never reads past the dataType's bounds (a percentage's 100): just enough room above a
        # value near them for its marker.
        floor, ceiling = float(measure.headline.bounds.low), float(measure.headline.bounds.high)
        bottom, top = max(floor, low - margin), min(high + margin, max(high, ceiling) + margin * 0.3)
        axes.set_ylim(bottom, top)
        # Rounded first: matplotlib's 100 can be 100.00000000000001, which the bound would leave out.
        ticks = [round(float(t), 9) for t in axes.get_yticks()]
        axes.set_yticks([t for t in ticks if bottom <= t <= min(top, ceiling)])
        axes.yaxis.set_major_formatter(lambda value, _: f"{value:g}")
        last = max(i for i, v in enumerate(ys) if not math.isnan(v))
        _label_newest(axes, last, ys[last], value_text(measure.headline, series[months[last]]), (bottom, top))
        for n, (first, _, method) in enumerate(changes):
            label = f"from {_month_short(first)}: {method}"
            _mark_change(axes, months.index(first) - 0.5, label, len(months), n)
        return _svg(figure, f"chart-{measure.anchor}", f"{measure.title} by month", summary)


def _label_newest(axes, x: int, y: float, text: str, limits: tuple[float, float]) -> None:
    """The newest value's label, right of its point, where nothing is drawn at any length (every other
    point is to its left; above the point, it covered the points before it once months were a few pixels
    apart). Level with the point, unless the point is near the top or the bottom of the plot: then it
    hangs from the point's level or stands on it, so it stays inside the plot, below the change labels."""
    bottom, top = limits
    height = (y - bottom) / (top - bottom)
    level = (
        "top" if height > NEAR_EDGE_OF_PLOT[1] else "bottom" if height < NEAR_EDGE_OF_PLOT[0] else "center"
    )
    axes.annotate(
        text,
        (x, y),
        xytext=(LABEL_GAP, 0),
        textcoords="offset points",
        ha="left",
        va=level,
        fontweight="bold",
        annotation_clip=False,
        gid="newest",
    )


def _mark_change(axes, at: float, label: str, length: int, n: int) -> None:
    """A dashed line before the first month of a new method, labelled above the plot, where no data is
    drawn, on the side of the line with more room, so the label stays inside the chart however late in the
    series the change falls."""
    right = at < length / 2
    axes.axvline(at, color=INK, linestyle="--", linewidth=1.2, gid=f"change-{n}")
    axes.annotate(
        label,
        (at, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(LABEL_GAP if right else -LABEL_GAP, LABEL_GAP),
        textcoords="offset points",
        ha="left" if right else "right",
        va="bottom",
        fontsize=9,
        annotation_clip=False,
    )


def _parts_chart(
    measure: Measure,
    anchor: str,
    months: Sequence[Month],
    values: Mapping[str, Mapping[Month, int | float]],
    totals: Mapping[Month, int | float],
    summary: str,
) -> Markup:
    with _style():
        figure = _figure(3.4)
        axes = figure.add_subplot()
        for part, (colour, marker, dashes) in zip(measure.parts, PART_STYLES, strict=False):
            shares = [
                100 * values[part.name][m] / totals[m]
                if totals.get(m) and m in values.get(part.name, {})
                else math.nan
                for m in months
            ]
            axes.plot(
                range(len(months)),
                shares,
                color=colour,
                marker=marker,
                linestyle=dashes,
                linewidth=1.8,
                markersize=6,
                label=part.title,
                gid=f"series-{part.name}",
            )
        axes.grid(axis="y", color=GRID, linewidth=0.6)
        axes.set_axisbelow(True)
        axes.set_ylim(0, 100)
        axes.set_ylabel(f"per cent of {measure.parts[0].unit}")
        _month_axis(axes, months)
        figure.legend(loc="outside lower center", ncols=2, frameon=False, fontsize=9)
        return _svg(figure, f"chart-{anchor}", f"{measure.breakdown}, by month", summary)


_XML_PROLOGUE = re.compile(r"\A.*?(?=<svg)", re.DOTALL)


def _svg(figure: Figure, chart_id: str, title: str, description: str) -> Markup:
    """The figure as inline SVG: ids made unique to the chart, sized by its viewBox to the page's width,
    named by its <title> and <desc>."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata=SVG_METADATA)
    svg = _XML_PROLOGUE.sub("", buffer.getvalue(), count=1)
    svg = re.sub(r">\s+<", "><", re.sub(r"\s*\n\s*", " ", svg))  # matplotlib's indents: a fifth of it
    svg = re.sub(r'\bid="', f'id="{chart_id}-', svg)
    svg = svg.replace('href="#', f'href="#{chart_id}-').replace("url(#", f"url(#{chart_id}-")
    svg = re.sub(r'\s(width|height)="[^"]*pt"', "", svg, count=2)
    svg = svg.replace(
        "<svg ",
        f'<svg role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false" ',
        1,
    )
    opening = svg.index(">", svg.index("<svg")) + 1
    return (
        Markup(svg[:opening])
        + Markup('<title id="{}-title">{}</title>').format(chart_id, title)
        + Markup('<desc id="{}-desc">{}</desc>').format(chart_id, description)
        + Markup(svg[opening:].rstrip())
    )
