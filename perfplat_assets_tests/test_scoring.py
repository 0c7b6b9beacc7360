"""The satisfaction methods against the figures OPG actually published."""

import pytest

from perfplat_assets.common.months import Month
from perfplat_assets.common.settings import SettingError, method_schedule
from perfplat_assets.services.deputy_reporting.service import DEPUTY_REPORTING
from perfplat_assets.user_satisfaction.calculation import (
    DEFAULT_METHOD_SCHEDULE,
    RatingCounts,
    parse_methods,
    satisfaction_figures,
    top_two_box_share,
    weighted_gds_score,
)
from perfplat_assets.user_satisfaction.measure import USER_SATISFACTION

SCHEDULE = parse_methods(DEFAULT_METHOD_SCHEDULE)


# (month, very-satisfied, satisfied, neither, dissatisfied, very-dissatisfied, published, method)
PUBLISHED = [
    ("2025-05", 8081, 4087, 1046, 282, 439, 84, "weighted-gds"),
    ("2026-03", 11620, 6044, 1380, 244, 302, 86, "weighted-gds"),
    ("2026-06", 8424, 4049, 983, 200, 260, 90, "top-two-box"),
]


@pytest.mark.parametrize(("month", "vs", "s", "n", "d", "vd", "published", "method"), PUBLISHED)
def test_published_figures_are_reproduced(month, vs, s, n, d, vd, published, method):
    counts = RatingCounts(vs, s, n, d, vd)
    result = satisfaction_figures(Month.parse(month), counts, SCHEDULE)
    assert result.method == method
    assert result.satisfaction_percent == published
    assert result.not_available_reason is None


def test_the_unrounded_scores_match_the_reference():
    may_2025 = RatingCounts(8081, 4087, 1046, 282, 439)
    june_2026 = RatingCounts(8424, 4049, 983, 200, 260)
    assert round(float(weighted_gds_score(may_2025)), 2) == 84.25
    assert round(float(top_two_box_share(june_2026)), 2) == 89.63


def test_halves_round_up_as_by_hand():
    # top-two-box of 1 in 8 responses is exactly 12.5: Python's round() would give 12.
    counts = RatingCounts(very_satisfied=1, very_dissatisfied=7)
    result = satisfaction_figures(Month.parse("2026-05"), counts, SCHEDULE)
    assert result.satisfaction_percent == 13


def test_unknown_ratings_are_counted_but_not_in_the_total():
    counts = RatingCounts.from_form_values(
        {"very-satisfied": 3, "neither-satisfied-or-dissatisfied": 1, "good": 2, None: 1, "": 1}
    )
    assert counts.very_satisfied == 3 and counts.neither == 1
    assert counts.unknown == 4
    assert counts.total == 4
    assert counts.published() == {
        "very-satisfied": 3,
        "satisfied": 0,
        "neither": 1,
        "dissatisfied": 0,
        "very-dissatisfied": 0,
    }


def test_a_month_without_ratings_is_not_available_rather_than_zero():
    result = satisfaction_figures(Month.parse("2025-05"), RatingCounts(unknown=5), SCHEDULE)
    assert result.satisfaction_percent is None
    assert "no feedback" in (result.not_available_reason or "")


def test_the_schedule_is_configuration():
    schedule = parse_methods("2021-03:top-two-box, 2024-01:weighted-gds")
    assert schedule.method_for(Month.parse("2023-12")) == "top-two-box"
    assert schedule.method_for(Month.parse("2024-01")) == "weighted-gds"
    assert SCHEDULE.method_for(Month.parse("2026-03")) == "weighted-gds"
    assert SCHEDULE.method_for(Month.parse("2026-04")) == "top-two-box"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("2021-03:mean", "'mean' is not a method"),
        ("", "empty"),
        ("March:weighted-gds", "is not a month"),
    ],
)
def test_a_bad_schedule_says_what_is_wrong(text, complaint):
    with pytest.raises(ValueError, match=complaint):
        parse_methods(text)


def test_a_services_schedule_must_start_by_its_first_month(monkeypatch):
    """Checked at load, for each service from its own first month: Complete the deputy report's series
    starts in April 2023, so a schedule from then is whole for it, and one from May 2023 is not."""
    monkeypatch.setenv("PERFPLAT_DEPUTY_REPORTING_SATISFACTION_METHODS", "2023-04:weighted-gds")
    assert method_schedule(DEPUTY_REPORTING, USER_SATISFACTION).method_for(Month.parse("2023-04"))
    monkeypatch.setenv("PERFPLAT_DEPUTY_REPORTING_SATISFACTION_METHODS", "2023-05:weighted-gds")
    with pytest.raises(
        SettingError, match=r"PERFPLAT_DEPUTY_REPORTING_SATISFACTION_METHODS: .*must start by 2023-04"
    ):
        method_schedule(DEPUTY_REPORTING, USER_SATISFACTION)
