"""`report.html` at the live series' length, in Debian's Chromium: the month labels under every chart, as
the browser lays them out, never overlap, for half a year and for OPG's 69 months (March 2021 to
November 2026), on a wide screen and on a phone's."""

from __future__ import annotations

from itertools import combinations

import pytest

from perfplat_assets.common.months import Month
from perfplat_assets.publication.published_format.records import record
from perfplat_assets.publication.published_format.report import report_html
from perfplat_assets.services.make_an_lpa.service import MAKE_AN_LPA
from perfplat_assets.user_satisfaction.calculation import Rating
from perfplat_assets_tests.support.browser import ARTIFACTS

RATINGS = tuple(rating.data_type for rating in Rating)

CHANGED = Month.parse("2026-04")  # OPG's change of method
RATINGS_FROM = Month.parse("2025-05")  # OPG's first month with the five counts

# Each x-axis label's box: the union of its lines' <text> boxes ("Mar" over "2021" is one label).
TICK_LABEL_BOXES = """chart => [...document.querySelectorAll(`svg g[id^="${chart}-xtick_"]`)]
    .map(tick => [...tick.querySelectorAll('text')].map(text => text.getBoundingClientRect()))
    .filter(rects => rects.length > 0)
    .map(rects => ({
        left: Math.min(...rects.map(r => r.left)), right: Math.max(...rects.map(r => r.right)),
        top: Math.min(...rects.map(r => r.top)), bottom: Math.max(...rects.map(r => r.bottom)),
    }))"""


def _series(first: Month, count: int) -> tuple[list, dict[Month, str]]:
    """`count` months of satisfaction, take-up and uptime from `first`, the ratings from May 2025, each
    month's method OPG's."""
    months = [first]
    while len(months) < count:
        months.append(months[-1].next())
    records = []
    for i, month in enumerate(months):
        records += [
            record(MAKE_AN_LPA, month, "user-satisfaction-percent", 80 + i % 7),
            record(MAKE_AN_LPA, month, "digital-take-up", 40 + i % 5 / 10),
            record(MAKE_AN_LPA, month, "uptime-percent", 100),
        ]
        if month >= RATINGS_FROM:
            counts = zip(RATINGS, (420, 310, 90, 40, 25), strict=True)
            records += [record(MAKE_AN_LPA, month, data_type, count + i) for data_type, count in counts]
    methods = {month: "weighted-gds" if month < CHANGED else "top-two-box" for month in months}
    return records, methods


def _intersect(a: dict, b: dict) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    )


@pytest.mark.parametrize(
    ("first", "count", "labels"),
    [
        # January to June 2026: every month, month over year.
        ("2026-01", 6, {"user-satisfaction": 6, "ratings": 6, "digital-take-up": 6, "uptime": 6}),
        # March 2021 to November 2026: the Januaries of 2022 to 2026; the ratings, May 2025 to November
        # 2026 (19 months), every 3rd month from January: July and October 2025, then four in 2026.
        ("2021-03", 69, {"user-satisfaction": 5, "ratings": 6, "digital-take-up": 5, "uptime": 5}),
    ],
)
def test_no_two_month_labels_overlap_in_the_browser(chromium, tmp_path, first, count, labels):
    records, methods = _series(Month.parse(first), count)
    page_file = tmp_path / "report.html"
    page_file.write_text(
        report_html(MAKE_AN_LPA, records, [], {"user_satisfaction": methods}), encoding="utf-8"
    )
    page = chromium.new_page(viewport={"width": 1024, "height": 800})
    page.goto(page_file.as_uri())
    for width in (1024, 320):
        page.set_viewport_size({"width": width, "height": 800})
        for chart, expected in labels.items():
            boxes = page.evaluate(TICK_LABEL_BOXES, f"chart-{chart}")
            assert len(boxes) == expected, (chart, width, boxes)
            assert all(box["right"] > box["left"] for box in boxes), (chart, width, boxes)
            touching = [(a, b) for a, b in combinations(boxes, 2) if _intersect(a, b)]
            assert touching == [], f"{chart} at {count} months, {width}px wide: {touching}"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"report-{count}-months-{width}.png"), full_page=True)
