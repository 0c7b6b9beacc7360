"""The completion rate's definition applied by hand, in plain Python, to the sample export's events: the
figures a test expects of the export's query, worked out without it."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlsplit

from perfplat_assets.common.months import Month
from perfplat_sample.sample_export import month_events

# The service's pages, written out here rather than taken from perfplat.
START = re.compile(r"(/user/dashboard/create(/[0-9]+)?|/lpa/type)/?")
APPLICANT = re.compile(r"/lpa/[0-9]+/applicant/?")
DAY_MICROS = 24 * 3600 * 1_000_000


def journeys_by_hand(month: Month) -> tuple[int, int]:
    """Sessions of `month` that viewed a start page, and those that viewed the applicant page within 24
    hours of the first, from the sample export's events (the previous month's too: a session may begin on
    its last evening and reach a start page after midnight)."""
    views: dict[tuple[str, int], list[tuple[int, str]]] = defaultdict(list)
    for event in (*month_events(month.previous()), *month_events(month)):
        params = {p["key"]: p["value"] for p in event["event_params"]}
        session = (params.get("ga_session_id") or {}).get("int_value")
        if event["event_name"] != "page_view" or session is None or event["user_pseudo_id"] is None:
            continue
        path = urlsplit(params["page_location"]["string_value"]).path
        views[(event["user_pseudo_id"], session)].append((event["event_timestamp"], path))
    started = completed = 0
    for pages in views.values():
        starts = [moment for moment, path in pages if START.fullmatch(path)]
        if not starts or Month.containing(datetime.fromtimestamp(min(starts) / 1e6, UTC)) != month:
            continue
        started += 1
        first = min(starts)
        completed += any(APPLICANT.fullmatch(p) and first <= t <= first + DAY_MICROS for t, p in pages)
    return started, completed


def percent_half_up(part: int, whole: int, places: str) -> Decimal:
    """100 x part / whole, rounded half-up to `places` ("0.1"), as an analyst rounds by hand."""
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal(places), rounding=ROUND_HALF_UP)
