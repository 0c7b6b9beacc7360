"""`report.html` at any length, in Debian's Chromium, as the browser lays it out: for 1, 6, 69 (OPG's series,
March 2021 to November 2026) and 120 months, on a wide screen and on a phone's, under every chart no two
month labels overlap, no label (a month, a value, a change of method, an axis, a legend entry) sits on a line
or a marker of the data or on another label, and every label is inside its chart."""

from __future__ import annotations

from itertools import combinations, pairwise

from perfplat_assets.common.months import Month
from perfplat_assets.completion_rate.queries.bigquery_export import DATA_API_RATIO, EXPORT_JOURNEYS
from perfplat_assets.publication.published_format.records import record
from perfplat_assets.publication.published_format.report import report_html
from perfplat_assets.services.make_an_lpa.service import MAKE_AN_LPA
from perfplat_assets.user_satisfaction.calculation import Rating
from perfplat_assets_tests.support.browser import ARTIFACTS

RATINGS = tuple(rating.data_type for rating in Rating)

CHANGED = Month.parse("2026-04")  # OPG's change of method
RATINGS_FROM = Month.parse("2025-05")  # OPG's first month with the five counts
COMPLETION_MONTHS = 5  # the completion rate is published for the last five months only

# Each x-axis label's box: the union of its lines' <text> boxes ("Mar" over "2021" is one label).
TICK_LABEL_BOXES = """chart => [...document.querySelectorAll(`svg g[id^="${chart}-xtick_"]`)]
    .map(tick => [...tick.querySelectorAll('text')].map(text => text.getBoundingClientRect()))
    .filter(rects => rects.length > 0)
    .map(rects => ({
        left: Math.min(...rects.map(r => r.left)), right: Math.max(...rects.map(r => r.right)),
        top: Math.min(...rects.map(r => r.top)), bottom: Math.max(...rects.map(r => r.bottom)),
    }))"""

# Every label of a chart (each <text>) and what the data draws, in the page's pixels: each line (the series'
# and the dashed line of a change of method) as the points its path joins, matplotlib's `M x y L x y ...`
# (a gap starts a new run with M), with half its stroke's width; each marker's box, its stroke around it.
LABELS_AND_DATA = r"""chart => {
    const svg = document.querySelector(`svg[aria-labelledby^="${chart}-title"]`);
    const box = r => ({left: r.left, right: r.right, top: r.top, bottom: r.bottom});
    const labels = [...svg.querySelectorAll('text')]
        .map(text => ({text: text.textContent, ...box(text.getBoundingClientRect())}));
    const lines = [], markers = [];
    for (const group of svg.querySelectorAll(`g[id^="${chart}-series"], g[id^="${chart}-change-"]`)) {
        for (const path of group.querySelectorAll(':scope > path')) {
            const matrix = path.getScreenCTM();
            const pad = parseFloat(getComputedStyle(path).strokeWidth) * matrix.a / 2;
            const d = path.getAttribute('d');
            if (/[^ML\d.\s-]/.test(d)) throw new Error(`${group.id}: a path of more than M and L: ${d}`);
            const runs = d.trim().split(/(?=M)/).map(run =>
                [...run.matchAll(/[ML]\s*(-?[\d.]+)\s+(-?[\d.]+)/g)].map(([, x, y]) => {
                    const p = new DOMPoint(+x, +y).matrixTransform(matrix);
                    return [p.x, p.y];
                }));
            lines.push({line: group.id, pad, runs});
        }
        for (const use of group.querySelectorAll('use')) {
            const pad = parseFloat(getComputedStyle(use).strokeWidth) * use.getScreenCTM().a / 2;
            const r = use.getBoundingClientRect();
            markers.push({line: group.id, left: r.left - pad, right: r.right + pad,
                          top: r.top - pad, bottom: r.bottom + pad});
        }
    }
    return {chart: box(svg.getBoundingClientRect()), labels, lines, markers,
            newest: svg.querySelectorAll(`g[id="${chart}-newest"] text`).length};
}"""


def _series(first: Month, count: int) -> tuple[list, dict[str, dict[Month, str]]]:
    """`count` months of satisfaction, take-up and uptime from `first`, the ratings from May 2025, the
    completion rate for the last five months (its method changing at the third, to the longest name),
    each month's satisfaction method OPG's."""
    months = [first]
    while len(months) < count:
        months.append(months[-1].next())
    completion = months[-COMPLETION_MONTHS:]
    records = []
    for i, month in enumerate(months):
        records += [
            record(MAKE_AN_LPA, month, "user-satisfaction-percent", 80 + i % 7),
            record(MAKE_AN_LPA, month, "digital-take-up", 40 + i % 5 / 10),
            record(MAKE_AN_LPA, month, "uptime-percent", 100 if i % 9 else 97.5),
        ]
        if month >= RATINGS_FROM:
            counts = zip(RATINGS, (420, 310, 90, 40, 25), strict=True)
            records += [record(MAKE_AN_LPA, month, data_type, count + i) for data_type, count in counts]
        if month in completion:
            records.append(record(MAKE_AN_LPA, month, "completion-rate", 61.4 + i % 4))
    methods = {
        "user_satisfaction": {m: "weighted-gds" if m < CHANGED else "top-two-box" for m in months},
        "completion_rate": {
            m: DATA_API_RATIO if i < 2 else EXPORT_JOURNEYS for i, m in enumerate(completion)
        },
    }
    return records, methods


def _intersect(a: dict, b: dict) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    )


def _crosses(line: dict, label: dict) -> bool:
    """Whether any segment of the line, as wide as its stroke, passes through the label's box: each
    segment clipped to the box grown by half the stroke (Liang and Barsky's clipping)."""
    pad = line["pad"]
    left, right = label["left"] - pad, label["right"] + pad
    top, bottom = label["top"] - pad, label["bottom"] + pad
    for run in line["runs"]:
        if len(run) == 1:
            run = run * 2
        for (x0, y0), (x1, y1) in pairwise(run):
            dx, dy = x1 - x0, y1 - y0
            low, high = 0.0, 1.0
            for p, q in ((-dx, x0 - left), (dx, right - x0), (-dy, y0 - top), (dy, bottom - y0)):
                if p == 0:
                    if q < 0:
                        break
                    continue
                t = q / p
                if p < 0:
                    low = max(low, t)
                else:
                    high = min(high, t)
            else:
                if low < high:
                    return True
    return False


# By length: the first month, and how many month labels each chart has. March 2021 to November 2026: the
# Januaries of 2022 to 2026; the ratings, May 2025 to November 2026 (19 months), every 3rd month from
# January: July and October 2025, then four in 2026. March 2021 to February 2031: every other January from
# 2022; the ratings (70 months) each January, 2026 to 2031. The completion rate: its own five months.
LENGTHS = {
    1: ("2026-06", {"user-satisfaction": 1, "ratings": 1, "digital-take-up": 1, "completion-rate": 1}),
    6: ("2026-01", {"user-satisfaction": 6, "ratings": 6, "digital-take-up": 6, "completion-rate": 5}),
    69: ("2021-03", {"user-satisfaction": 5, "ratings": 6, "digital-take-up": 5, "completion-rate": 5}),
    120: ("2021-03", {"user-satisfaction": 5, "ratings": 6, "digital-take-up": 5, "completion-rate": 5}),
}
LINE_CHARTS = ("user-satisfaction", "digital-take-up", "completion-rate", "uptime")


def test_no_label_overlaps_the_data_or_another_label_at_any_length(chromium, tmp_path):
    page = chromium.new_page(viewport={"width": 1024, "height": 800})
    ARTIFACTS.mkdir(exist_ok=True)
    for count, (first, tick_labels) in LENGTHS.items():
        records, methods = _series(Month.parse(first), count)
        page_file = tmp_path / f"report-{count}.html"
        page_file.write_text(report_html(MAKE_AN_LPA, records, [], methods), encoding="utf-8")
        page.goto(page_file.as_uri())
        for width in (320, 1024):
            page.set_viewport_size({"width": width, "height": 800})
            where = f"at {count} months, {width}px wide"
            for chart, expected in {**tick_labels, "uptime": tick_labels["digital-take-up"]}.items():
                boxes = page.evaluate(TICK_LABEL_BOXES, f"chart-{chart}")
                assert len(boxes) == expected, (chart, where, boxes)
                touching = [(a, b) for a, b in combinations(boxes, 2) if _intersect(a, b)]
                assert touching == [], f"{chart}'s month labels {where}: {touching}"
            for chart in (*LINE_CHARTS, "ratings"):
                drawn = page.evaluate(LABELS_AND_DATA, f"chart-{chart}")
                labels = drawn["labels"]
                assert drawn["lines"] and drawn["markers"], (chart, where)
                assert drawn["newest"] == (chart in LINE_CHARTS), f"{chart} {where}: the newest value's label"
                on_lines = {
                    (label["text"], line["line"])
                    for label in labels
                    for line in drawn["lines"]
                    if _crosses(line, label)
                }
                assert on_lines == set(), f"{chart} {where}: labels on a line: {sorted(on_lines)}"
                on_markers = {
                    (label["text"], marker["line"])
                    for label in labels
                    for marker in drawn["markers"]
                    if _intersect(label, marker)
                }
                assert on_markers == set(), f"{chart} {where}: labels on a marker: {sorted(on_markers)}"
                on_labels = [(a["text"], b["text"]) for a, b in combinations(labels, 2) if _intersect(a, b)]
                assert on_labels == [], f"{chart} {where}: labels on each other: {on_labels}"
                outside = [label["text"] for label in labels if not _inside(label, drawn["chart"])]
                assert outside == [], f"{chart} {where}: labels cut off at the chart's edge: {outside}"
        page.screenshot(path=str(ARTIFACTS / f"report-{count}-months.png"), full_page=True)


def _inside(label: dict, chart: dict) -> bool:
    return (
        chart["left"] <= label["left"]
        and label["right"] <= chart["right"]
        and chart["top"] <= label["top"]
        and label["bottom"] <= chart["bottom"]
    )
