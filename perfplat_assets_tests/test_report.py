"""`report.html`, the page for people: built by the publication plan like every other file, the same bytes
from the same records, and, in Debian's Chromium, WCAG 2.2 AA by axe-core with no network request."""

from __future__ import annotations

import json
import random
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from itertools import pairwise
from typing import TYPE_CHECKING

from dagster import DagsterInstance, materialize
from markupsafe import escape

from perfplat_assets.common.months import Month
from perfplat_assets.completion_rate.measure import COMPLETION_RATE
from perfplat_assets.configuration import build_resources
from perfplat_assets.definitions import assets
from perfplat_assets.publication.committing.plan import RevisionStamp, StoreSnapshot, plan_publication
from perfplat_assets.publication.history.importing import import_published_file
from perfplat_assets.publication.published_format import report
from perfplat_assets.publication.published_format.notes import method_changes
from perfplat_assets.publication.published_format.records import DATA_TYPES, record
from perfplat_assets.publication.published_format.report import month_ticks, report_html, value_text
from perfplat_assets.services.make_an_lpa.service import MAKE_AN_LPA
from perfplat_assets.user_satisfaction.calculation import METHOD_DESCRIPTIONS, Rating, parse_methods
from perfplat_assets_tests.support.axe import axe_violations
from perfplat_assets_tests.support.browser import ARTIFACTS

RATINGS = tuple(rating.data_type for rating in Rating)

if TYPE_CHECKING:
    pass

MONTHS = [Month.parse(f"2026-{m:02d}") for m in range(1, 7)]
WITHHELD = Month.parse("2026-03")  # a completion rate over 100: withheld, so a gap in its chart
CHANGED = Month.parse("2026-04")  # satisfaction's method changes here, as it did for OPG
METHODS = {m: "weighted-gds" if m < CHANGED else "top-two-box" for m in MONTHS}
NOW = datetime(2026, 7, 2, 6, 0, tzinfo=UTC)
REVISED = datetime(2026, 4, 3, 6, 0, tzinfo=UTC)
HISTORY = [
    {
        "month": "2026-02-01",
        "data_type": "digital-take-up",
        "previous_count": 40.2,
        "new_count": 41.0,
        "revised_at": REVISED,
        "run_id": "run-0",
    }
]
CHARTS = ("user-satisfaction", "ratings", "digital-take-up", "completion-rate", "uptime")
# Each month's percentage is its counts' score under its method, rounded: 2026-01's counts (420, 310, 90,
# 40, 25) give a weighted score of 70750 / 885 = 79.94, 2026-04's (441, 331, 97, 61, 60) a top-two-box
# share of 100 x 772 / 990 = 77.98, and so on, 7 more of each rating every month.
SATISFACTION = (80, 79, 78, 78, 77, 75)


def _values(months=MONTHS) -> dict:
    values = {}
    for i, month in enumerate(months):
        values[(month, "user-satisfaction-percent")] = SATISFACTION[i]
        for data_type, count in zip(RATINGS, (420, 310, 90, 40, 25), strict=True):
            values[(month, data_type)] = count + 7 * i
        values[(month, "digital-take-up")] = 40.1 + i / 2
        if month != WITHHELD:
            values[(month, "completion-rate")] = 61.4 + i
        values[(month, "uptime-percent")] = 100 if i % 2 else 99.93
    return values


def _plan(history=HISTORY):
    snapshot = StoreSnapshot(
        published={},
        published_at={},
        revision_history=history,
        methods={"user_satisfaction": METHODS},
        service=MAKE_AN_LPA,
    )
    return plan_publication(snapshot, MONTHS, _values(), stamp=RevisionStamp("run-1", NOW), csv_url=None)


class _Page(HTMLParser):
    """Every element as (tag, attributes), and the text inside each element with an id."""

    VOID = frozenset({"meta", "br", "hr", "img", "input", "link"})

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text_by_id: dict[str, str] = {}
        self._open: list[tuple[str, str | None]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        self.elements.append((tag, attributes))
        if "id" in attributes:
            self.text_by_id[attributes["id"]] = ""
        if tag not in self.VOID:
            self._open.append((tag, attributes.get("id")))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        while self._open and self._open.pop()[0] != tag:
            pass

    def handle_data(self, data):
        for _, element_id in self._open:
            if element_id is not None:
                self.text_by_id[element_id] += data

    def all(self, tag: str) -> list[dict[str, str]]:
        return [attributes for name, attributes in self.elements if name == tag]


def test_the_plan_publishes_report_html_as_html():
    plan = _plan()
    report = plan.file("report.html")
    assert report.content_type == "text/html; charset=utf-8"
    names = [f.name for f in plan.files]
    assert names.index("report.html") < names.index("make_a_lasting_power_of_attorney_26_01.json")


def test_each_measure_is_a_chart_named_by_its_title_and_description():
    html = _plan().file("report.html").content.decode()
    page = _Page(html)
    svgs = page.all("svg")
    assert [s["aria-labelledby"] for s in svgs] == [f"chart-{c}-title chart-{c}-desc" for c in CHARTS]
    for svg in svgs:
        assert svg["role"] == "img" and "width" not in svg and svg["viewbox"].startswith("0 0 ")
    described = page.text_by_id["chart-completion-rate-desc"]
    assert "Latest: 66.4% in June 2026" in described
    assert "Lowest: 61.4% in January 2026; highest: 66.4% in June 2026" in described
    assert "Not published for 1 month: March 2026" in described
    assert "Latest: 75% in June 2026" in page.text_by_id["chart-user-satisfaction-desc"]
    assert len(page.all("figure")) == len(page.all("figcaption")) == len(CHARTS)
    ids = [attributes["id"] for _, attributes in page.elements if "id" in attributes]
    assert len(ids) == len(set(ids)), "every chart's SVG ids are its own"


def test_the_figures_are_tables_with_a_row_per_month():
    page = _Page(_plan().file("report.html").content.decode())
    tables = [t["id"] for t in page.all("table")]
    assert tables == [f"table-{c}" for c in CHARTS] + ["table-revisions"]
    assert len(page.all("caption")) == len(tables)
    assert {th["scope"] for th in page.all("th")} == {"col", "row"}
    completion = page.text_by_id["table-completion-rate"]
    assert "March 2026not published" in completion and "June 202666.4%" in completion
    rows = [th for th in page.all("th") if th["scope"] == "row"]
    assert len(rows) == len(CHARTS) * len(MONTHS) + len(HISTORY)


def test_methods_revisions_and_dates_come_from_the_data():
    html = _plan().file("report.html").content.decode()
    assert escape(COMPLETION_RATE.note) in html
    assert METHOD_DESCRIPTIONS["top-two-box"] in html and METHOD_DESCRIPTIONS["weighted-gds"] in html
    assert '<time datetime="2026-04">April 2026</time> to <time datetime="2026-06">June 2026</time>' in html
    assert "from Apr 2026: top-two-box" in html, "the chart marks the change of method"
    assert 'Published with the figures for <time datetime="2026-06">June 2026</time>' in html
    assert 'Last revised on <time datetime="2026-04-03T06:00:00+00:00">3 April 2026</time>' in html
    revisions = _Page(html).text_by_id["table-revisions"]
    assert "February 2026digital-take-up40.241.02026-04-03" in revisions
    assert "No published figure has been revised" in _plan(history=[]).file("report.html").content.decode()


def test_the_page_is_whole_in_itself():
    html = _plan().file("report.html").content.decode()
    assert html.startswith('<!DOCTYPE html>\n<html lang="en-GB">')
    assert not re.search(r"<script|<link|<img|<iframe|@import|src=|url\((?!#)", html)
    assert re.findall(r'href="(https?:[^"]+)"', html) == [
        "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
    ], "the one absolute link is the licence, which a reader follows, not the page"


def test_chart_text_is_dark_on_white_since_axe_cannot_measure_svg_text():
    """axe leaves the contrast of SVG text for review; the charts draw all of it in GOV.UK black
    (#0b0c0c, 19:1 on white) and their series in GOV.UK blue (#1d70b8, 5.2:1)."""
    html = _plan().file("report.html").content.decode()
    styles = re.findall(r'<text style="([^"]*)"', html)
    assert styles and all("fill: #0b0c0c" in style for style in styles)
    assert {re.search(r"fill: (#\w+)", s).group(1) for s in styles} == {"#0b0c0c"}
    assert "stroke: #1d70b8; stroke-width: 2" in html


def test_the_same_records_give_the_same_bytes():
    first = _plan()
    again = _plan()
    assert first.file("report.html").content == again.file("report.html").content
    assert first.digest == again.digest
    records = [
        record(MAKE_AN_LPA, month, data_type, value) for (month, data_type), value in _values().items()
    ]
    shuffled = records[:]
    random.Random(7).shuffle(shuffled)
    # As the recovery re-plans: rows read back from the store, revised_at naive UTC as SQLite keeps it.
    naive = [{**row, "revised_at": REVISED.replace(tzinfo=None)} for row in HISTORY]
    assert report_html(MAKE_AN_LPA, records, HISTORY, {"user_satisfaction": METHODS}) == report_html(
        MAKE_AN_LPA, shuffled, naive, {"user_satisfaction": dict(reversed(METHODS.items()))}
    )
    assert report_html(MAKE_AN_LPA, records, HISTORY, {"user_satisfaction": METHODS}) != report_html(
        MAKE_AN_LPA, records[1:], HISTORY, {"user_satisfaction": METHODS}
    )


def test_a_publication_of_nothing_yet_is_still_a_page():
    html = report_html(MAKE_AN_LPA, [], [], {})
    assert "No figures have been published yet" in html and "<svg" not in html


# At the live series' length ----------------------------------------------------------------------------


def _run_of(first: str, count: int) -> list[Month]:
    months = [Month.parse(first)]
    while len(months) < count:
        months.append(months[-1].next())
    return months


def test_the_month_axis_labels_every_month_while_eight_fit():
    assert month_ticks(_run_of("2026-06", 1)) == [(0, "Jun\n2026")]
    assert month_ticks(_run_of("2026-01", 6)) == [
        (0, "Jan\n2026"),
        (1, "Feb\n2026"),
        (2, "Mar\n2026"),
        (3, "Apr\n2026"),
        (4, "May\n2026"),
        (5, "Jun\n2026"),
    ]
    assert len(month_ticks(_run_of("2026-01", 8))) == 8


def test_a_longer_series_labels_every_other_month_counted_from_january():
    odd_months = [(0, "Jan"), (2, "Mar"), (4, "May"), (6, "Jul"), (8, "Sep"), (10, "Nov")]
    assert month_ticks(_run_of("2026-01", 12)) == [(i, f"{name}\n2026") for i, name in odd_months]
    # From December 2025 the odd months are a place later; December itself is not labelled.
    assert month_ticks(_run_of("2025-12", 13)) == [(i + 1, f"{name}\n2026") for i, name in odd_months]
    quarters = month_ticks(_run_of("2025-01", 24))
    assert quarters[:5] == [
        (0, "Jan\n2025"),
        (3, "Apr\n2025"),
        (6, "Jul\n2025"),
        (9, "Oct\n2025"),
        (12, "Jan\n2026"),
    ]
    assert [i for i, _ in month_ticks(_run_of("2025-01", 25))] == [0, 6, 12, 18, 24]


def test_opgs_series_is_labelled_by_year_at_each_january():
    # March 2021 to November 2026: January 2022 is the 11th month, each later January 12 on.
    assert month_ticks(_run_of("2021-03", 69)) == [
        (10, "2022"),
        (22, "2023"),
        (34, "2024"),
        (46, "2025"),
        (58, "2026"),
    ]
    # Ten years, to February 2031: every other January.
    assert month_ticks(_run_of("2021-03", 120)) == [
        (10, "2022"),
        (34, "2024"),
        (58, "2026"),
        (82, "2028"),
        (106, "2030"),
    ]


def test_no_two_month_labels_overlap_at_any_length_up_to_ten_years():
    """Measured as matplotlib draws them (DejaVu Sans, the chart's size and layout): between any two labels
    at least a quarter of a label's width, room for a browser's font to differ."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    for count in range(1, 121):
        with report._style():
            figure = report._figure(2.8)
            axes = figure.add_subplot()
            axes.plot(range(count), [50.0] * count)
            axes.set_ylabel("per cent")
            report._month_axis(axes, _run_of("2021-03", count))
            renderer = FigureCanvasAgg(figure).get_renderer()
            figure.draw(renderer)
            boxes = [
                label.get_window_extent(renderer) for label in axes.get_xticklabels() if label.get_text()
            ]
        assert 1 <= len(boxes) <= 8, count
        widest = max(box.width for box in boxes)
        assert all(b.x0 - a.x1 >= widest / 4 for a, b in pairwise(boxes)), (count, boxes)
        assert boxes[0].x0 >= 0 and boxes[-1].x1 <= figure.bbox.width, count


def _chart_texts(html: str, chart: str) -> list[str]:
    """The words and numbers drawn in a chart's SVG, in the order drawn."""
    start = html.index(f'<svg role="img" aria-labelledby="chart-{chart}-title')
    return re.findall(r"<text[^>]*>([^<]*)</text>", html[start : html.index("</svg>", start)])


def test_each_number_in_the_text_is_as_its_data_type_publishes_it():
    """As OPG's series after the import: take-up published with two decimals by hand (29.01), as a string
    ("42", read as 42.0) and with perfplat's one decimal (41.2); satisfaction and uptime as the store holds
    them, floats. Each number reads as data.json and data.csv have it, never as Python prints the float."""
    july_2021, march_2026, april_2026 = (Month.parse(m) for m in ("2021-07", "2026-03", "2026-04"))
    values = {
        july_2021: {"user-satisfaction-percent": 92.0, "digital-take-up": 29.01, "uptime-percent": 100.0},
        march_2026: {"user-satisfaction-percent": 86.0, "digital-take-up": 42.0, "uptime-percent": 99.97},
        april_2026: {"user-satisfaction-percent": 81.0, "digital-take-up": 41.2, "uptime-percent": 100.0},
    }
    records = [
        record(MAKE_AN_LPA, month, data_type, value)
        for month, by_type in values.items()
        for data_type, value in by_type.items()
    ]
    html = report_html(MAKE_AN_LPA, records, [], {})
    page = _Page(html)
    assert page.text_by_id["chart-user-satisfaction-desc"] == (
        "User satisfaction by month, July 2021 to April 2026. Latest: 81% in April 2026. Lowest: 81% in "
        "April 2026; highest: 92% in July 2021."
    )
    assert page.text_by_id["chart-digital-take-up-desc"] == (
        "Digital take-up by month, July 2021 to April 2026. Latest: 41.2% in April 2026. Lowest: 29.01% in "
        "July 2021; highest: 42.0% in March 2026."
    )
    assert page.text_by_id["chart-uptime-desc"] == (
        "Uptime by month, July 2021 to April 2026. Latest: 100% in April 2026. Lowest: 99.97% in March "
        "2026; highest: 100% in April 2026."
    )
    assert "March 202642.0%" in page.text_by_id["table-digital-take-up"]
    assert "March 202686%" in page.text_by_id["table-user-satisfaction"]
    assert "July 2021100%" in page.text_by_id["table-uptime"]
    assert _chart_texts(html, "user-satisfaction")[-1] == "81%", "the newest value's label"
    assert _chart_texts(html, "digital-take-up")[-1] == "41.2%"
    assert not re.search(r"\b(81|86|92|100)\.0%", html), "a whole number is published whole"
    # The index gives the store's floats: they read as published too.
    satisfaction, take_up, uptime = (
        DATA_TYPES[name] for name in ("user-satisfaction-percent", "digital-take-up", "uptime-percent")
    )
    assert [value_text(satisfaction, 84.0), value_text(uptime, 100.0), value_text(uptime, 99.5)] == [
        "84%",
        "100%",
        "99.5%",
    ]
    assert value_text(take_up, 42) == "42.0%" and value_text(DATA_TYPES["very-satisfied"], 8424.0) == (
        "8424 responses"
    )


def _from(first: str, count: int, value) -> dict[Month, float]:
    return {month: value(i) for i, month in enumerate(_run_of(first, count))}


def test_each_series_is_drawn_from_its_first_published_month():
    """OPG's 69 months after the import, March 2021 to November 2026: the ratings begin in May 2025, the
    completion rate in July 2026, and take-up has no figure yet for November. Each chart, its text and its
    table span the series' own months, to the page's newest."""
    series = {
        "user-satisfaction-percent": _from("2021-03", 69, lambda i: 80 + i % 7),
        "uptime-percent": _from("2021-03", 69, lambda i: 100),
        "digital-take-up": _from("2021-03", 68, lambda i: 40 + i % 5 / 10),
        "completion-rate": _from("2026-07", 5, lambda i: 62.5 + i),
    }
    for data_type, count in zip(RATINGS, (420, 310, 90, 40, 25), strict=True):
        series[data_type] = _from("2025-05", 19, lambda i, count=count: count + i)
    records = [
        record(MAKE_AN_LPA, month, data_type, value)
        for data_type, values in series.items()
        for month, value in values.items()
    ]
    methods = {
        m: "weighted-gds" if m < Month.parse("2026-04") else "top-two-box" for m in _run_of("2021-03", 69)
    }
    html = report_html(MAKE_AN_LPA, records, [], {"user_satisfaction": methods})
    page = _Page(html)
    completion = page.text_by_id["chart-completion-rate-desc"]
    assert completion.startswith("Completion rate by month, July 2026 to November 2026. Latest: 66.5% in")
    assert "Not published" not in completion
    assert _chart_texts(html, "completion-rate")[:10] == [
        "Jul",
        "2026",
        "Aug",
        "2026",
        "Sep",
        "2026",
        "Oct",
        "2026",
        "Nov",
        "2026",
    ], "a label for each of its five months, none for the four years before"
    rows = [th for th in page.all("th") if th["scope"] == "row"]
    assert len(page.text_by_id["table-completion-rate"].split("2026")) - 1 == 5
    assert "not published" not in page.text_by_id["table-completion-rate"]
    # November 2026: 420+18, 310+18, 90+18, 40+18, 25+18 = 975 responses.
    assert page.text_by_id["chart-ratings-desc"].startswith(
        "Ratings by month, May 2025 to November 2026, as a share of each month's responses. November 2026: "
        "975 responses;"
    )
    assert _chart_texts(html, "ratings")[:4] == ["Jul", "2025", "Oct", "2025"]
    take_up = page.text_by_id["chart-digital-take-up-desc"]
    assert take_up.startswith(
        "Digital take-up by month, March 2021 to November 2026. Latest: 40.2% in October"
    )
    assert take_up.endswith("Not published for 1 month: November 2026.")
    assert page.text_by_id["chart-user-satisfaction-desc"].startswith(
        "User satisfaction by month, March 2021 to November 2026."
    )
    assert len(rows) == 69 + 19 + 69 + 5 + 69, "satisfaction, ratings, take-up, completion, uptime"


def test_a_change_of_method_is_a_change_not_a_gap():
    january, march, april = (Month.parse(f"2026-{m:02d}") for m in (1, 3, 4))
    methods = {april: "top-two-box", january: "weighted-gds", march: "weighted-gds"}
    assert method_changes(methods) == [(april, "weighted-gds", "top-two-box")]
    assert method_changes({january: "weighted-gds", april: "weighted-gds"}) == []


JUNE = MONTHS[-1]


def _imported_plan(schedule: str | None = None):
    """January to May 2026 imported from OPG's file (satisfaction and uptime, February uptime alone), so
    the store holds no method for them; June computed by perfplat with the top-two-box share."""
    published = {(month, "uptime-percent"): 100.0 for month in MONTHS[:5]}
    published |= {
        (month, "user-satisfaction-percent"): 86.0 for month in MONTHS[:5] if month.label != "2026-02"
    }
    extra = ({"user_satisfaction": parse_methods(schedule)},) if schedule else ()
    computed = {"user_satisfaction": {JUNE: "top-two-box"}}
    snapshot = StoreSnapshot(
        published, {m: REVISED for m in MONTHS[:5]}, [], computed, *extra, service=MAKE_AN_LPA
    )
    values = {(JUNE, "user-satisfaction-percent"): 90.0, (JUNE, "uptime-percent"): 100.0}
    return plan_publication(snapshot, [JUNE], values, stamp=RevisionStamp("run-1", NOW), csv_url=None)


def _satisfaction_chart(html: str) -> str:
    start = html.index('<svg role="img" aria-labelledby="chart-user-satisfaction-title')
    return html[start : html.index("</svg>", start)]


def test_imported_months_have_the_method_in_force_and_its_change_is_marked():
    plan = _imported_plan()
    html = plan.file("report.html").content.decode()
    page = _Page(html)
    weighted, top_two = (METHOD_DESCRIPTIONS[m].partition(":")[0] for m in ("weighted-gds", "top-two-box"))
    assert f'<li><time datetime="2026-01">January 2026</time>: {weighted}' in html
    assert f'<li><time datetime="2026-03">March 2026</time>: {weighted}' in html
    april_on = '<time datetime="2026-04">April 2026</time> to <time datetime="2026-06">June 2026</time>'
    assert f"<li>{april_on}: {top_two}" in html
    chart = _satisfaction_chart(html)
    assert chart.count("stroke-dasharray") == 1, "one dashed line, at April: February's gap is no change"
    assert "from Apr 2026: top-two-box" in chart
    assert (
        "The method changed in April 2026, from the weighted GDS score to the top-two-box share: figures "
        "either side are not directly comparable." in page.text_by_id["chart-user-satisfaction-desc"]
    )
    notes = plan.file("notes.md").content.decode()
    assert f"- 2026-01: {weighted}" in notes and f"- 2026-03: {weighted}" in notes
    assert f"- 2026-04 to 2026-06: {top_two}" in notes and "2026-02" not in notes
    columns = json.loads(plan.file("data.csv-metadata.json").content)["tableSchema"]["columns"]
    satisfaction = next(c for c in columns if c["titles"] == "user-satisfaction-percent")
    in_full = METHOD_DESCRIPTIONS["weighted-gds"], METHOD_DESCRIPTIONS["top-two-box"]
    assert f"2026-03: {in_full[0]}; 2026-04 to 2026-06: {in_full[1]}" in satisfaction["dc:description"]


def test_the_schedule_in_the_settings_says_an_imported_months_method():
    html = _imported_plan("2021-03:weighted-gds,2026-03:top-two-box").file("report.html").content.decode()
    assert "from Mar 2026: top-two-box" in _satisfaction_chart(html)
    assert (
        '<li><time datetime="2026-03">March 2026</time> to <time datetime="2026-06">June 2026</time>' in html
    )
    assert "The method changed in March 2026" in html
    same = _imported_plan("2021-03:top-two-box").file("report.html").content.decode()
    assert "stroke-dasharray" not in _satisfaction_chart(same) and "The method changed" not in same


# In the browser -----------------------------------------------------------------------------------------


def _publish(month: Month) -> None:
    result = materialize(
        assets,
        partition_key=month.key,
        resources=build_resources(),
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    assert result.success, month


def test_the_pipeline_states_imported_months_methods_from_perfplat_satisfaction_methods(
    perfplat_env, tmp_path, monkeypatch
):
    """OPG's history (January to April 2025: satisfaction and uptime) imported, then May 2025 published
    through the real pipeline with a schedule that changes method in March 2025: the imported months'
    methods come from the setting, as the computed month's does."""
    # The embedded sample stands in for the real sources beside the real history: a mix the store refuses
    # unless PERFPLAT_ALLOW_SAMPLE_DATA says so.
    monkeypatch.setenv("PERFPLAT_ALLOW_SAMPLE_DATA", "true")
    monkeypatch.setenv("PERFPLAT_SATISFACTION_METHODS", "2021-03:weighted-gds,2025-03:top-two-box")
    imported = [Month.parse(f"2025-{m:02d}") for m in range(1, 5)]
    history = [record(MAKE_AN_LPA, month, "user-satisfaction-percent", 85) for month in imported]
    history += [record(MAKE_AN_LPA, month, "uptime-percent", 100) for month in imported]
    (tmp_path / "opg.json").write_text(json.dumps(history), encoding="utf-8")
    import_published_file(tmp_path / "opg.json", build_resources()["metrics_store"])
    _publish(Month.parse("2025-05"))
    notes = (perfplat_env / "publish" / "make_a_lasting_power_of_attorney_service" / "notes.md").read_text(
        encoding="utf-8"
    )
    weighted, top_two = METHOD_DESCRIPTIONS["weighted-gds"], METHOD_DESCRIPTIONS["top-two-box"]
    assert f"- 2025-01 to 2025-02: {weighted}\n- 2025-03 to 2025-05: {top_two}\n" in notes
    html = (perfplat_env / "publish" / "make_a_lasting_power_of_attorney_service" / "report.html").read_text(
        encoding="utf-8"
    )
    assert "from Mar 2025: top-two-box" in _satisfaction_chart(html)
    assert "The method changed in March 2025, from the weighted GDS score to the top-two-box share" in html


def test_the_published_report_passes_axe_in_chromium_without_the_network(chromium, perfplat_env):
    """Two months through the real pipeline on the embedded default, then the published file in a browser:
    WCAG 2.0, 2.1 and 2.2 A and AA by axe-core, a chart and a table per measure, nothing fetched."""
    _publish(Month.parse("2025-05"))
    _publish(Month.parse("2025-06"))
    report = (perfplat_env / "publish" / "make_a_lasting_power_of_attorney_service" / "report.html").resolve()
    url = report.as_uri()
    page = chromium.new_page(viewport={"width": 1024, "height": 800})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url)
    assert page.title() == "Make a lasting power of attorney: monthly service performance"
    assert page.locator("header").count() == 1 and page.locator("main").count() == 1
    for chart in CHARTS:
        assert page.locator(f"section figure svg[role=img][aria-labelledby^='chart-{chart}-']").count() == 1
        assert page.locator(f"#table-{chart} tbody tr").count() == 2
    assert (
        page.locator("#chart-uptime-desc").text_content().startswith("Uptime by month, May 2025 to June 2025")
    )
    page.locator("details").first.locator("summary").click()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)

    violations = axe_violations(page)
    assert violations == [], violations
    assert requests == [url], f"the page fetched {[r for r in requests if r != url]}"

    page.set_viewport_size({"width": 320, "height": 640})
    overflow = page.evaluate("document.documentElement.scrollWidth")
    assert overflow <= 320, f"at 320px the page is {overflow}px wide: it should reflow"
    widths = page.eval_on_selector_all("figure svg", "svgs => svgs.map(s => s.getBoundingClientRect().width)")
    assert all(0 < width <= 320 for width in widths), widths
    page.screenshot(path=str(ARTIFACTS / "report-320.png"), full_page=True)
    assert requests == [url]
