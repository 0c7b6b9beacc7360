"""`report.html`: the published figures as a page for people, with a chart and a table for each measure.

Pure: no I/O, no clock. The charts are drawn by matplotlib's SVG backend and inlined, so the page needs no
JavaScript, no network and nothing beside it. The same records give the same bytes (the plan's digest and an
idempotent re-apply depend on it): matplotlib's SVG ids are salted with a constant, its date is left out and
text stays text. The date the page gives is the data's own: the newest published month and the latest
revision, never the time it was built.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any

from perfplat_assets.common.measure import DataType, Measure
from perfplat_assets.common.months import Month
from perfplat_assets.measures import Methods, measures
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

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TITLE = "Make a lasting power of attorney: monthly service performance"

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


def report_html(
    all_records: Sequence[Record],
    revision_history: Sequence[Mapping[str, object]],
    methods: Methods,
) -> str:
    """The page: each measure's chart, summary and table, the ratings, the methods and the revisions."""
    values: dict[str, dict[Month, int | float]] = {}
    for item in all_records:
        values.setdefault(item["dataType"], {})[Month.from_timestamp(item["_timestamp"])] = item["count"]
    months = sorted({month for series in values.values() for month in series})
    revisions = list(csv.DictReader(io.StringIO(revisions_csv(revision_history))))
    sections, contents = [], []
    for measure in measures():
        series, by_month = values.get(measure.headline.name, {}), methods.get(measure.name, {})
        sections.append(_measure_section(measure, months, series, by_month))
        contents.append((measure.anchor, measure.title))
        if measure.parts:
            sections.append(_breakdown_section(measure, months, values))
            contents.append((_breakdown_anchor(measure), measure.breakdown))
    contents += [("methods", "How the figures are made"), ("revisions", "Revisions"), ("data", "The data")]
    body = [
        "<header>",
        '<p class="publisher">Office of the Public Guardian</p>',
        f"<h1>{escape(TITLE)}</h1>",
        _dates(months, revisions),
        '<nav aria-label="Contents"><ul>',
        *(f'<li><a href="#{anchor}">{escape(name)}</a></li>' for anchor, name in contents),
        "</ul></nav>",
        "</header>",
        "<main>",
        *sections,
        _methods_section(methods),
        _revisions_section(revisions),
        _data_section(),
        "</main>",
        "<footer>",
        "<p>All content is available under the "
        '<a href="https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/">'
        "Open Government Licence v3.0</a>, except where otherwise stated.</p>",
        "</footer>",
    ]
    return "\n".join(
        [
            "<!DOCTYPE html>",
            '<html lang="en-GB">',
            "<head>",
            '<meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{escape(TITLE)}</title>",
            f"<style>{STYLE}</style>",
            "</head>",
            "<body>",
            *body,
            "</body>",
            "</html>",
            "",
        ]
    )


STYLE = (
    "html{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#0b0c0c;"
    "background:#fff;line-height:1.5}"
    "body{margin:0 auto;max-width:60rem;padding:0 1rem 2rem}"
    "h1{font-size:1.75rem;line-height:1.2;margin:.5rem 0 1rem}"
    "h2{font-size:1.4rem;margin:2.5rem 0 .75rem;border-top:2px solid #b1b4b6;padding-top:1rem}"
    "h3{font-size:1.1rem;margin:1.5rem 0 .5rem}"
    "a{color:#1d70b8}a:visited{color:#4c2c92}"
    "a:focus,summary:focus,[tabindex]:focus{outline:3px solid #ffdd00;background:#ffdd00;color:#0b0c0c}"
    ".publisher{margin:1rem 0 0;font-weight:700;color:#505a5f}"
    "nav ul{padding-left:1.25rem}"
    "figure{margin:0 0 1rem}"
    "figure svg{display:block;width:100%;height:auto;max-width:40rem}"
    "figcaption{margin-top:.5rem}"
    "figcaption strong{display:block}"
    ".scroll{overflow-x:auto;max-width:100%}"
    "table{border-collapse:collapse;margin:.5rem 0 1rem;min-width:12rem}"
    "caption{text-align:left;font-weight:700;padding-bottom:.25rem}"
    "th,td{text-align:left;padding:.25rem 1rem .25rem 0;border-bottom:1px solid #b1b4b6;vertical-align:top}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}"
    "summary{cursor:pointer;color:#1d70b8;text-decoration:underline}"
    "footer{margin-top:3rem;border-top:2px solid #b1b4b6;color:#0b0c0c}"
)


def _month_name(month: Month) -> str:
    return month.first_day.strftime("%B %Y")


def _month_short(month: Month) -> str:
    return month.first_day.strftime("%b %Y")


def _time(month: Month) -> str:
    return f'<time datetime="{month.label}">{_month_name(month)}</time>'


def _shown(data_type: DataType, value: int | float) -> str:
    """A value as the page shows it: `84%`, `2,812 responses`."""
    return f"{value}%" if data_type.unit == "per cent" else f"{value:,} {data_type.unit}"


def _dates(months: Sequence[Month], revisions: Sequence[Mapping[str, str]]) -> str:
    if not months:
        return "<p>No figures have been published yet.</p>"
    span = (
        _time(months[0])
        if len(months) == 1
        else f"{len(months)} months, {_time(months[0])} to {_time(months[-1])}"
    )
    parts = [f"<p>Published with the figures for {_time(months[-1])}, the newest month. Figures for {span}."]
    if revisions:
        latest = max(revisions, key=lambda r: r["revised_at"])["revised_at"]
        day = datetime.fromisoformat(latest)
        parts.append(
            f' Last revised on <time datetime="{escape(latest)}">{day.day} {day:%B %Y}</time>'
            f' (see <a href="#revisions">Revisions</a>).'
        )
    return "".join(parts) + "</p>"


def _summary(measure: Measure, months: Sequence[Month], series: Mapping[Month, int | float]) -> str:
    """The chart in words: what it covers, the latest value, the lowest and the highest, the gaps."""
    present = [m for m in months if m in series]
    latest = present[-1]
    low = min(present, key=lambda m: (series[m], m))
    high = max(present, key=lambda m: (series[m], m))
    shown = measure.headline
    text = (
        f"{measure.title} by month, {_month_name(months[0])} to {_month_name(months[-1])}. "
        f"Latest: {_shown(shown, series[latest])} in {_month_name(latest)}. "
        f"Lowest: {_shown(shown, series[low])} in {_month_name(low)}; "
        f"highest: {_shown(shown, series[high])} in {_month_name(high)}."
    )
    missing = [m for m in months if m not in series]
    if missing:
        names = ", ".join(_month_name(m) for m in missing[:6]) + (" and others" if len(missing) > 6 else "")
        text += f" Not published for {len(missing)} month{'s' if len(missing) > 1 else ''}: {names}."
    return text


def _measure_section(
    measure: Measure,
    months: Sequence[Month],
    series: Mapping[Month, int | float],
    methods: Mapping[Month, str],
) -> str:
    heading = f'<section aria-labelledby="{measure.anchor}"><h2 id="{measure.anchor}">{measure.title}</h2>'
    unit = measure.headline.unit
    if not series:
        return heading + "<p>No figures for this measure have been published.</p></section>"
    changes = _method_changes(measure, months, methods)
    summary = _summary(measure, months, series) + _changes_sentence(measure, changes)
    svg = _line_chart(measure, months, series, changes, summary)
    caption = f"<figcaption><strong>{measure.title}, {unit}, by month</strong> {escape(summary)}"
    if changes:
        caption += " The dashed line marks a change of method (see How the figures are made)."
    rows = [
        (
            f'<tr><th scope="row">{_time(month)}</th>'
            + (
                f'<td class="n">{_shown(measure.headline, series[month])}</td>'
                if month in series
                else "<td>not published</td>"
            )
            + "</tr>"
        )
        for month in months
    ]
    table = _table(
        f"table-{measure.anchor}",
        f"{measure.title} by month",
        ["Month", f"{measure.title} ({unit})"],
        rows,
    )
    return "\n".join(
        [
            heading,
            f"<figure>{svg}{caption}</figcaption></figure>",
            f"<details><summary>{measure.title} as a table</summary>{table}</details>",
            "</section>",
        ]
    )


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
) -> str:
    """A measure's parts (user satisfaction's five rating counts), each as a share of the month's total."""
    anchor, parts = _breakdown_anchor(measure), measure.parts
    heading = f'<section aria-labelledby="{anchor}"><h2 id="{anchor}">{escape(measure.breakdown)}</h2>'
    shown = [m for m in months if any(m in values.get(part.name, {}) for part in parts)]
    if not shown:
        return heading + f"<p>No {escape(measure.breakdown.lower())} have been published.</p></section>"
    totals = {m: sum(values.get(part.name, {}).get(m, 0) for part in parts) for m in shown}
    latest, unit = shown[-1], parts[0].unit
    shares = ", ".join(
        f"{part.title.lower()} {_share(values.get(part.name, {}).get(latest, 0), totals[latest])}"
        for part in parts
    )
    summary = (
        f"{measure.breakdown} by month, {_month_name(shown[0])} to {_month_name(shown[-1])}, as a share of "
        f"each month's {unit}. {_month_name(latest)}: {totals[latest]} {unit}; {shares}."
    )
    svg = _parts_chart(measure, anchor, shown, values, totals, summary)
    rows = [
        f'<tr><th scope="row">{_time(month)}</th>'
        + "".join(
            f'<td class="n">{values[part.name][month]}</td>'
            if month in values.get(part.name, {})
            else "<td>-</td>"
            for part in parts
        )
        + f'<td class="n">{totals[month]}</td></tr>'
        for month in shown
    ]
    table = _table(
        f"table-{anchor}",
        f"{measure.breakdown}: {unit} by month",
        ["Month", *(part.title for part in parts), f"All {unit}"],
        rows,
    )
    return "\n".join(
        [
            heading,
            f"<p>{escape(measure.breakdown_note)}.</p>" if measure.breakdown_note else "",
            f"<figure>{svg}<figcaption><strong>{escape(measure.breakdown)}, by month</strong> "
            f"{escape(summary)}</figcaption></figure>",
            f"<details><summary>{escape(measure.breakdown)} as a table</summary>{table}</details>",
            "</section>",
        ]
    )


def _share(count: int | float, total: int | float) -> str:
    return f"{100 * count / total:.0f}%" if total else "0%"


def _table(table_id: str, caption: str, headers: Sequence[str], rows: Sequence[str]) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    return (
        f'<div class="scroll" role="region" aria-labelledby="{table_id}-caption" tabindex="0">'
        f'<table id="{table_id}"><caption id="{table_id}-caption">{escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _methods_section(methods: Methods) -> str:
    return "\n".join(
        [
            '<section aria-labelledby="methods"><h2 id="methods">How the figures are made</h2>',
            "<p>A measure without data for a month is left out, never shown as 0.</p>",
            *(f"<h3>{escape(m.title)}</h3>{_method_note(m, methods.get(m.name, {}))}" for m in measures()),
            "</section>",
        ]
    )


def _method_note(measure: Measure, methods: Mapping[Month, str]) -> str:
    """How the measure's figures are made; with each month's method where it changes over time."""
    periods = method_periods(methods) if measure.methods else []
    if not periods:
        return f"<p>{escape(measure.note)}.</p>"
    items = "".join(
        f"<li>{_time(first) if first == last else f'{_time(first)} to {_time(last)}'}: "
        f"{escape(measure.methods.get(method, method))}</li>"
        for first, last, method in periods
    )
    return f"<p>{escape(measure.note)}. {methods_heading(methods)}</p><ul>{items}</ul>"


def _revisions_section(revisions: Sequence[Mapping[str, str]]) -> str:
    heading = '<section aria-labelledby="revisions"><h2 id="revisions">Revisions</h2>'
    if not revisions:
        return heading + "<p>No published figure has been revised.</p></section>"
    rows = [
        f'<tr><th scope="row">{_time(Month.parse(r["month"]))}</th><td>{escape(r["dataType"])}</td>'
        f'<td class="n">{escape(r["previous_value"]) or "none"}</td>'
        f'<td class="n">{escape(r["new_value"]) or "withdrawn"}</td>'
        f'<td><time datetime="{escape(r["revised_at"])}">{escape(r["revised_at"][:10])}</time></td></tr>'
        for r in revisions
    ]
    table = _table(
        "table-revisions",
        "Every change to a published figure, oldest first",
        ["Month", "Measure", "Previous value", "New value", "Revised on"],
        rows,
    )
    return "\n".join(
        [
            heading,
            "<p>Figures already published that were later changed or withdrawn, as listed in "
            '<a href="revisions.csv">revisions.csv</a>.</p>',
            table,
            "</section>",
        ]
    )


def _data_section() -> str:
    files = [
        (CUMULATIVE_CSV, "every month, a column per measure (CSV)"),
        (CSVW_METADATA, f"what each column of {CUMULATIVE_CSV} means (CSV on the Web)"),
        (RECORDS_JSON, "every record in OPG's format (JSON)"),
        (REVISIONS_CSV, "every change to a published figure (CSV)"),
        (NOTES_MD, "how the figures are made (Markdown)"),
    ]
    items = "".join(f'<li><a href="{name}">{name}</a>: {escape(what)}</li>' for name, what in files)
    return (
        '<section aria-labelledby="data"><h2 id="data">The data</h2>'
        f"<p>The figures on this page are published beside it:</p><ul>{items}</ul></section>"
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
) -> str:
    with _style():
        figure = _figure(2.8)
        axes = figure.add_subplot()
        ys = [float(series[m]) if m in series else math.nan for m in months]
        axes.plot(range(len(months)), ys, color=BLUE, linewidth=2, marker="o", markersize=6)
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
        axes.set_yticks([t for t in axes.get_yticks() if bottom <= t <= min(top, ceiling)])
        axes.yaxis.set_major_formatter(lambda value, _: f"{value:g}")
        last = max(i for i, v in enumerate(ys) if not math.isnan(v))
        axes.annotate(
            _shown(measure.headline, series[months[last]]),
            (last, ys[last]),
            xytext=(0, 8),
            textcoords="offset points",
            ha="center",
            fontweight="bold",
        )
        for first, _, method in changes:
            label = f"from {_month_short(first)}: {method}"
            _mark_change(axes, months.index(first) - 0.5, label, len(months))
        return _svg(figure, f"chart-{measure.anchor}", f"{measure.title} by month", summary)


def _mark_change(axes, at: float, label: str, length: int) -> None:
    """A dashed line before the first month of a new method, labelled on the side with more room, so the
    label stays inside the chart however late in the series the change falls."""
    right = at < length / 2
    axes.axvline(at, color=INK, linestyle="--", linewidth=1.2)
    axes.annotate(
        label,
        (at, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(4 if right else -4, -2),
        textcoords="offset points",
        ha="left" if right else "right",
        va="top",
        fontsize=9,
    )


def _parts_chart(
    measure: Measure,
    anchor: str,
    months: Sequence[Month],
    values: Mapping[str, Mapping[Month, int | float]],
    totals: Mapping[Month, int | float],
    summary: str,
) -> str:
    with _style():
        figure = _figure(3.4)
        axes = figure.add_subplot()
        for part, (colour, marker, dashes) in zip(measure.parts, PART_STYLES, strict=False):
            shares = [
                100 * values[part.name][m] / totals[m]
                if totals[m] and m in values.get(part.name, {})
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
            )
        axes.grid(axis="y", color=GRID, linewidth=0.6)
        axes.set_axisbelow(True)
        axes.set_ylim(0, 100)
        axes.set_ylabel(f"per cent of {measure.parts[0].unit}")
        _month_axis(axes, months)
        figure.legend(loc="outside lower center", ncols=2, frameon=False, fontsize=9)
        return _svg(figure, f"chart-{anchor}", f"{measure.breakdown}, by month", summary)


_XML_PROLOGUE = re.compile(r"\A.*?(?=<svg)", re.DOTALL)


def _svg(figure: Figure, chart_id: str, title: str, description: str) -> str:
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
        svg[:opening]
        + f'<title id="{chart_id}-title">{escape(title)}</title>'
        + f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
        + svg[opening:].rstrip()
    )
