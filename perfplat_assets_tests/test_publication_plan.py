"""The publication plan on its own: a pure function of a store snapshot, validated whole."""

import json
from datetime import UTC, datetime

import pytest

from perfplat_assets.common.months import Month
from perfplat_assets.publication.committing.plan import (
    PlanRefused,
    RevisionStamp,
    StoreSnapshot,
    dropped_pairs,
    plan_problems,
    plan_publication,
    read_public_records,
)
from perfplat_assets.services.make_an_lpa.service import MAKE_AN_LPA

APRIL, MAY, JUNE = Month.parse("2025-04"), Month.parse("2025-05"), Month.parse("2025-06")
NOW = datetime(2025, 7, 2, 6, 0, tzinfo=UTC)
EARLIER = datetime(2025, 6, 2, 6, 0, tzinfo=UTC)


def _snapshot(published=None, methods=None) -> StoreSnapshot:
    published = published or {}
    return StoreSnapshot(
        published=published,
        published_at={month: EARLIER for month, _ in published},
        revision_history=[],
        methods={"user_satisfaction": methods or {}},
        service=MAKE_AN_LPA,
    )


def _plan(snapshot, months, values, csv_url=None):
    return plan_publication(snapshot, months, values, stamp=RevisionStamp("run-1", NOW), csv_url=csv_url)


def test_a_first_publication_plans_every_file_cumulative_first_month_files_last():
    plan = _plan(_snapshot(methods={MAY: "weighted-gds"}), [MAY], {(MAY, "digital-take-up"): 41.2})
    names = [f.name for f in plan.files]
    assert names == [
        "data.json",
        "data.csv",
        "data.csv-metadata.json",
        "revisions.csv",
        "notes.md",
        "report.html",
        "make_a_lasting_power_of_attorney_25_05.json",
    ]
    kinds = {f.name: f.content_type for f in plan.files}
    assert kinds["data.csv-metadata.json"] == "application/csvm+json"
    assert kinds["data.csv"] == "text/csv; charset=utf-8"
    [published] = json.loads(plan.file("data.json").content)
    assert published["count"] == 41.2 and published["_timestamp"] == "2025-05-01T00:00:00+00:00"
    assert plan.revisions == () and plan.ckan is None


def test_the_same_snapshot_gives_the_same_plan_and_digest():
    snapshot = _snapshot({(APRIL, "digital-take-up"): 40.0})
    values = {(MAY, "digital-take-up"): 41.0}
    assert _plan(snapshot, [MAY], values) == _plan(snapshot, [MAY], values)
    assert (
        _plan(snapshot, [MAY], values).digest
        != _plan(snapshot, [MAY], {(MAY, "digital-take-up"): 42.0}).digest
    )


def test_the_plan_rebuilds_every_published_month_and_keeps_earlier_ones():
    snapshot = _snapshot({(APRIL, "digital-take-up"): 40.0, (MAY, "digital-take-up"): 41.0})
    plan = _plan(snapshot, [JUNE], {(JUNE, "digital-take-up"): 42.0})
    assert [r["_timestamp"][:7] for r in plan.records] == ["2025-04", "2025-05", "2025-06"]
    assert set(plan.values) == {(JUNE, "digital-take-up")}, "the store rows the plan writes: its months only"


def test_a_changed_or_withdrawn_value_is_a_revision_with_its_run():
    snapshot = _snapshot({(MAY, "digital-take-up"): 33.3, (MAY, "user-satisfaction-percent"): 84})
    plan = _plan(snapshot, [MAY], {(MAY, "digital-take-up"): 66.7})
    revised = {(r.data_type, r.previous_count, r.new_count) for r in plan.revisions}
    assert revised == {("digital-take-up", 33.3, 66.7), ("user-satisfaction-percent", 84, None)}
    lines = plan.file("revisions.csv").content.decode().splitlines()
    assert "2025-05,digital-take-up,33.3,66.7,2025-07-02T06:00:00+00:00,run-1" in lines


def test_dropped_pairs_are_what_is_public_and_the_plan_loses_without_a_revision():
    snapshot = _snapshot({(MAY, "digital-take-up"): 33.3, (MAY, "user-satisfaction-percent"): 84})
    plan = _plan(snapshot, [MAY], {(MAY, "digital-take-up"): 66.7})
    public = [
        {"_timestamp": "2025-04-01T00:00:00+00:00", "dataType": "digital-take-up"},
        {"_timestamp": "2025-05-01T00:00:00+00:00", "dataType": "digital-take-up"},
        {"_timestamp": "2025-05-01T00:00:00+00:00", "dataType": "user-satisfaction-percent"},
    ]
    assert dropped_pairs(plan, public) == [(APRIL, "digital-take-up")]


@pytest.mark.parametrize(
    "content", [b'[{"_timestamp": "2025-05-01T00:00:00+00', b'{"a": 1}', b"\xff\xfe", b"[1]"]
)
def test_an_unreadable_data_json_is_refused_never_taken_for_empty(content):
    with pytest.raises(PlanRefused, match=r"data\.json in the s3 target cannot be read as published records"):
        read_public_records(content, "the s3 target")


def test_values_outside_the_months_are_refused():
    with pytest.raises(PlanRefused, match="values for 2025-06 in a publication of 2025-05"):
        _plan(_snapshot(), [MAY], {(JUNE, "digital-take-up"): 1.0})


def test_the_whole_plan_is_checked_against_the_published_format():
    plan = _plan(_snapshot(), [JUNE], {(JUNE, "digital-take-up"): 150.0})
    assert plan_problems(plan, last_closed=MAY), "June has not closed in this world"
    assert not plan_problems(_plan(_snapshot(), [MAY], {(MAY, "digital-take-up"): 41.0}), last_closed=MAY)


def test_ckan_links_to_the_csv_dated_by_the_newest_published_month():
    snapshot = _snapshot({(JUNE, "digital-take-up"): 40.0})
    plan = _plan(snapshot, [MAY], {(MAY, "digital-take-up"): 41.0}, csv_url="https://example.test/data.csv")
    assert plan.ckan is not None and plan.ckan.datafile_date == "2025-06-01"


def test_methods_are_noted_only_for_published_months():
    methods = {MAY: "weighted-gds", JUNE: "top-two-box"}
    plan = _plan(_snapshot(methods=methods), [MAY], {(MAY, "user-satisfaction-percent"): 84})
    notes = plan.file("notes.md").content.decode()
    assert "weighted GDS" in notes and "top-two-box" not in notes
