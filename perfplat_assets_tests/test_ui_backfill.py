"""End to end through the Dagster UI: a backfill of three months launched by a person in a real browser.

The webserver and daemon run as in production (the project's dagster.yaml on Postgres, workspace.yaml) with
the embedded sources; Debian's Chromium, driven by Playwright, does what an operator would do. This is the
one place that proves the UI's own materialize dialog honours the single-run backfill policy end to end.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from dagster import DagsterInstance, DagsterRunStatus, RunsFilter
from dagster._core.execution.backfill import BulkActionStatus

from perfplat_assets_tests.support.browser import ARTIFACTS
from perfplat_assets_tests.support.services import DagsterServices, dagster_services

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# Every asset of Make an LPA's pipeline (the one service these tests publish), as the UI lists and
# materialises them: written out, since the names are what the UI shows.
ASSETS = (
    "user_satisfaction",
    "digital_take_up",
    "completion_rate",
    "uptime",
    "performance_dataset",
    "data_gov_uk_publication",
)
MONTHS = ("2025-01-01", "2025-02-01", "2025-03-01")
RANGE = f"[{MONTHS[0]}...{MONTHS[-1]}]"  # the syntax of the UI's partition inputs
UI_SECONDS = 60  # per UI expectation: the graph and partition statuses load from Postgres
BACKFILL_SECONDS = 420  # the backfill daemon's iteration, the run's launch and three months of every asset
FINISHED = {
    BulkActionStatus.COMPLETED_SUCCESS,
    BulkActionStatus.COMPLETED,
    BulkActionStatus.COMPLETED_FAILED,
    BulkActionStatus.FAILED,
    BulkActionStatus.CANCELED,
}


@pytest.fixture
def services(tmp_path: Path, production_home: Path) -> Iterator[DagsterServices]:
    """Webserver and daemon on a fresh DAGSTER_HOME with the project's dagster.yaml and a fresh database."""
    with dagster_services(tmp_path) as running:
        yield running


def _screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


def _dismiss_community_dialog(page: Page) -> None:
    """A fresh DAGSTER_HOME has no .nux/nux.yaml, so on a loopback origin the UI opens "Join the Dagster
    community" a second after the first page loads, over whatever the test is about to click."""
    from playwright.sync_api import expect

    dialog = page.get_by_role("dialog").filter(has_text="Join the Dagster community")
    skip = dialog.get_by_role("button", name="Skip", exact=True)
    expect(skip).to_be_visible(timeout=UI_SECONDS * 1000)
    skip.click()
    expect(dialog).to_be_hidden(timeout=UI_SECONDS * 1000)


def _see_the_asset_graph(page: Page, services: DagsterServices) -> None:
    from playwright.sync_api import expect

    page.goto(f"{services.url}/asset-groups/make_an_lpa")
    _dismiss_community_dialog(page)
    # The graph is an SVG (role img) whose nodes read "Latest event"; the sidebar lists the same names.
    graph = page.get_by_role("img").filter(has_text="Latest event")
    for name in ASSETS:
        expect(graph.get_by_text(name, exact=True)).to_be_visible(timeout=UI_SECONDS * 1000)
    # Each node's footer says "Loading..." until its partition counts arrive: screenshot the settled graph.
    expect(graph.get_by_text(re.compile(r"^\d+ partitions$"))).to_have_count(
        len(ASSETS), timeout=UI_SECONDS * 1000
    )
    _screenshot(page, "ui-asset-graph.png")


def _filter_performance_dataset_partitions(page: Page, services: DagsterServices, status: str) -> None:
    """The combined asset's Partitions tab, narrowed to the three months, shows them all in `status`."""
    from playwright.sync_api import expect

    page.goto(f"{services.url}/assets/make_an_lpa/performance_dataset?view=partitions")
    expect(page.get_by_role("tab", name="Partitions")).to_have_attribute("aria-selected", "true")
    # The input's accessible name is its placeholder, e.g. "ex: 2021-03-01, 2021-04-01, [2021-05-01...]".
    selection = page.get_by_role("textbox", name=re.compile(r"^ex: "))
    selection.fill(RANGE)
    selection.press("Enter")
    expect(page.get_by_text("3 Partitions Selected")).to_be_visible(timeout=UI_SECONDS * 1000)
    # The status filters are styled checkboxes (the input itself is hidden): read their labels.
    expect(page.get_by_text(f"{status} (3)", exact=True)).to_be_visible(timeout=UI_SECONDS * 1000)


def _launch_the_backfill(page: Page, services: DagsterServices) -> str:
    """Materialize all six assets from the graph: the UI's partition dialog, a typed range, one backfill."""
    from playwright.sync_api import expect

    page.goto(f"{services.url}/asset-groups/make_an_lpa")
    page.get_by_role("button", name="Materialize all").click()
    dialog = page.get_by_role("dialog").filter(has_text="Launch runs to materialize")
    expect(dialog.get_by_text(f"materialize {len(ASSETS)} assets")).to_be_visible(timeout=UI_SECONDS * 1000)
    # The dialog opens on the last 90 days only; the three months are older, so widen it to all time first.
    dialog.get_by_role("button", name="Show all partitions").click()
    expect(dialog.get_by_role("button", name="All time")).to_be_visible()
    selection = dialog.get_by_role("textbox", name=re.compile(r"^ex: "))
    selection.fill(RANGE)
    selection.press("Enter")
    expect(dialog.get_by_text("3 partitions", exact=True)).to_be_visible(timeout=UI_SECONDS * 1000)
    launch = dialog.get_by_role("button", name="Launch backfill")
    expect(launch).to_be_enabled()
    launch.click()
    created = page.get_by_text(re.compile(r"^Created backfill \w+$"))
    expect(created).to_be_visible(timeout=UI_SECONDS * 1000)
    return created.inner_text().split()[-1]


def _wait_for_the_backfill(services: DagsterServices, instance: DagsterInstance, backfill_id: str) -> None:
    """The daemon picks the backfill up, submits its run and marks it complete: poll, with a deadline."""

    def finished() -> bool:
        backfill = instance.get_backfill(backfill_id)
        return backfill is not None and backfill.status in FINISHED

    services.poll(f"backfill {backfill_id} to complete", finished, BACKFILL_SECONDS)
    assert instance.get_backfill(backfill_id).status == BulkActionStatus.COMPLETED_SUCCESS
    # Single-run backfill policy on every asset: the three months of all six assets are ONE run.
    [run] = instance.get_runs(RunsFilter(tags={"dagster/backfill": backfill_id}))
    assert run.status == DagsterRunStatus.SUCCESS
    assert run.tags["dagster/asset_partition_range_start"] == MONTHS[0]
    assert run.tags["dagster/asset_partition_range_end"] == MONTHS[-1]
    assert "dagster/partition" not in run.tags
    keys = {key.to_user_string() for key in run.asset_selection or ()}
    assert keys == {f"make_an_lpa/{a}" for a in ASSETS}


def _see_the_completed_backfill(page: Page, services: DagsterServices, backfill_id: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{services.url}/runs")
    page.get_by_role("tab", name="Backfills").click()
    page.get_by_role("link", name=backfill_id).click()
    expect(page).to_have_url(re.compile(rf"/runs/b/{backfill_id}"))
    # "Succeeded" is also a column header of the per-asset table: read the Status field's own value.
    status = page.get_by_text("Status", exact=True).locator("..")
    expect(status.get_by_text("Succeeded", exact=True)).to_be_visible(timeout=UI_SECONDS * 1000)
    expect(page.get_by_text(f"{MONTHS[0]}...{MONTHS[-1]}")).to_be_visible()
    for name in ASSETS:
        expect(page.get_by_role("link", name=name)).to_be_visible()
    expect(page.get_by_text("100% completed")).to_have_count(len(ASSETS), timeout=UI_SECONDS * 1000)
    _screenshot(page, "ui-backfill-complete.png")


def _assert_published(publish: Path) -> None:
    for month in MONTHS:
        name = f"make_a_lasting_power_of_attorney_{month[2:4]}_{month[5:7]}.json"
        records = json.loads((publish / name).read_text(encoding="utf-8"))
        assert len(records) == 9, name
        assert {record["_timestamp"] for record in records} == {f"{month}T00:00:00+00:00"}, name


def test_a_three_month_backfill_launched_from_the_ui(
    chromium: Browser, services: DagsterServices, perfplat_env: Path
) -> None:
    for stale in ("ui-asset-graph.png", "ui-backfill-complete.png", "ui-failure.png"):
        (ARTIFACTS / stale).unlink(missing_ok=True)  # only this run's pictures in the artifacts
    page = chromium.new_page(viewport={"width": 1600, "height": 1000})
    page.set_default_timeout(UI_SECONDS * 1000)
    instance = DagsterInstance.get()  # DAGSTER_HOME is the services' own: the same Postgres database
    try:
        _see_the_asset_graph(page, services)
        _filter_performance_dataset_partitions(page, services, "Missing")
        backfill_id = _launch_the_backfill(page, services)
        assert [backfill.backfill_id for backfill in instance.get_backfills()] == [backfill_id]
        _wait_for_the_backfill(services, instance, backfill_id)
        _see_the_completed_backfill(page, services, backfill_id)
        _filter_performance_dataset_partitions(page, services, "Materialized")
        _assert_published(perfplat_env / "publish")
    except BaseException:
        with contextlib.suppress(Exception):  # what the page showed when it went wrong, for the CI artifacts
            _screenshot(page, "ui-failure.png")
        raise
    finally:
        instance.dispose()
        page.close()
