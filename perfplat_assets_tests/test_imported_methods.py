"""An imported month in the publication: checked under the method the files state for it, so that notes.md
never states a method that a published figure does not follow without naming it. The plan alone: pure, fast.
"""

from datetime import UTC, datetime

from perfplat_assets.common.methods import MethodSchedule
from perfplat_assets.common.months import Month
from perfplat_assets.publication.committing.plan import RevisionStamp, StoreSnapshot, plan_publication
from perfplat_assets.services.make_an_lpa.service import MAKE_AN_LPA

MAY_2023, JUNE_2026 = Month.parse("2023-05"), Month.parse("2026-06")
RATINGS = ("very-satisfied", "satisfied", "neither", "dissatisfied", "very-dissatisfied")
METHODS = ("weighted-gds", "top-two-box")
NOW = datetime(2026, 7, 1, 6, tzinfo=UTC)
# OPG's 2023-05 as published: 50 per cent, ten responses of each rating. By hand, the weighted GDS score is
# (0+25+50+75+100)·10/50 = 50, the top-two-box share 100·(10+10)/50 = 40.
IMPORTED = {(MAY_2023, "user-satisfaction-percent"): 50.0} | {(MAY_2023, t): 10.0 for t in RATINGS}
TOP_TWO_BOX = "top-two-box share: 100 x (satisfied + very satisfied) / responses"
WEIGHTED = (
    "weighted GDS score: (0 x very dissatisfied + 25 x dissatisfied + 50 x neither + 75 x satisfied + 100 x "
    "very satisfied) / responses"
)
TOP_TWO_BOX_REASON = (
    "user-satisfaction-percent 50 is not 40, what 2023-05's five rating counts give by the top-two-box "
    "method (40.00, rounded half up)"
)


def _notes_and_csv(
    schedule: str, computed: dict[Month, str], published: dict, flagged: dict | None = None
) -> tuple[str, str, dict]:
    """The notes, the CSV and what is withheld when June 2026's take-up is published beside `published`."""
    snapshot = StoreSnapshot(
        published=published,
        published_at={month: NOW for month, _ in published},
        revision_history=[],
        methods={"user_satisfaction": computed},
        schedules={"user_satisfaction": MethodSchedule.parse(schedule, METHODS, "satisfaction method")},
        adopted=flagged or {},
        service=MAKE_AN_LPA,
    )
    plan = plan_publication(
        snapshot,
        [JUNE_2026],
        {(JUNE_2026, "digital-take-up"): 61.3},
        stamp=RevisionStamp("run", NOW),
        csv_url=None,
    )
    return (
        plan.file("notes.md").content.decode(),
        plan.file("data.csv").content.decode(),
        dict(plan.withheld),
    )


def test_an_imported_month_its_stated_method_does_not_give_is_published_as_it_stands_and_named():
    """Imported when the schedule said weighted (so not flagged), published once it says top-two-box."""
    notes, data, withheld = _notes_and_csv("2021-03:top-two-box", {}, IMPORTED)
    assert "2023-05,50,10,10,10,10,10,,," in data.splitlines()
    assert withheld == {}
    assert (
        f"- 2023-05: {TOP_TWO_BOX} (2023-05 as OPG published it, not by this method: see the last section)"
        in notes.splitlines()
    )
    assert notes.endswith(
        "## Months as OPG published them\n\n"
        "These months were taken over from OPG's published series as published, though their figures do not "
        "agree with each other under the method stated above; the published record stands:\n\n"
        f"- 2023-05: {TOP_TWO_BOX_REASON} (published as it stands).\n"
    )


def test_a_flag_from_an_import_under_another_method_is_not_repeated_where_the_stated_method_holds():
    """Flagged by an import under top-two-box; the schedule now says weighted, which gives its 50."""
    notes, data, withheld = _notes_and_csv(
        "2021-03:weighted-gds", {}, IMPORTED, {(MAY_2023, "user-satisfaction-percent"): TOP_TWO_BOX_REASON}
    )
    assert "2023-05,50,10,10,10,10,10,,," in data.splitlines() and withheld == {}
    assert f"- 2023-05: {WEIGHTED}" in notes.splitlines()
    assert "OPG published" not in notes and "is not 40" not in notes


def test_a_month_perfplat_computed_that_its_method_does_not_give_is_still_withheld():
    """The same figures computed by perfplat under top-two-box: not OPG's record, so withheld, not marked."""
    notes, data, withheld = _notes_and_csv("2021-03:top-two-box", {MAY_2023: "top-two-box"}, IMPORTED)
    assert not any(line.startswith("2023-05") for line in data.splitlines())
    assert list(withheld) == [(MAY_2023, "user_satisfaction")]
    why = withheld[(MAY_2023, "user_satisfaction")]
    assert why.startswith(f"{TOP_TWO_BOX_REASON}. This measure of 2023-05")
    assert "OPG published" not in notes
