"""When months run on their own, London time.

- `monthly`, on the 1st at 07:00 (PERFPLAT_MONTHLY_CRON): every asset for the month that just closed, so its
  month file is in the bucket before OPG's automation copies it at 12:00 UTC.
- `settled`, on the 4th at 06:00: GA4 again for that month, once its figures have settled; a changed value
  is recorded as a revision and republished.
- `revisions`, on the 4th at 09:00: take-up for the three months before, since OPG's take-up figures are
  revised for up to three months.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from dagster import (
    AssetKey,
    AssetsDefinition,
    AssetSelection,
    DefaultScheduleStatus,
    RunRequest,
    ScheduleDefinition,
    ScheduleEvaluationContext,
    define_asset_job,
    schedule,
)

from perfplat_assets.asset_names import (
    COMPLETION_RATE,
    DATA_GOV_UK_PUBLICATION,
    DIGITAL_TAKE_UP,
    PERFORMANCE_DATASET,
)
from perfplat_assets.common.months import LONDON, Month
from perfplat_assets.completion_rate.ga4_report import GA4_RUN_TAG

if TYPE_CHECKING:
    from dagster._core.definitions.target import ExecutableDefinition

REVISED_ASSETS = (DIGITAL_TAKE_UP, PERFORMANCE_DATASET, DATA_GOV_UK_PUBLICATION)
SETTLED_ASSETS = (COMPLETION_RATE, PERFORMANCE_DATASET, DATA_GOV_UK_PUBLICATION)
REVISED_MONTHS = 3


def closed_month_at(context: ScheduleEvaluationContext) -> Month:
    return Month.containing(context.scheduled_execution_time).previous()


def closed_month_schedule(name: str, job: ExecutableDefinition, cron: str) -> ScheduleDefinition:
    """A schedule for the month that just closed, one run per month: its run key is `<name>:<month>`."""

    @schedule(
        name=name,
        job=job,
        cron_schedule=cron,
        execution_timezone=LONDON.key,
        default_status=DefaultScheduleStatus.RUNNING,
    )
    def closed_month(context: ScheduleEvaluationContext) -> RunRequest:
        month = closed_month_at(context)
        return RunRequest(run_key=f"{name}:{month.key}", partition_key=month.key)

    return closed_month


def build_schedules(assets: Sequence[AssetsDefinition], monthly_cron: str) -> list[ScheduleDefinition]:
    everything = define_asset_job(
        "monthly_figures",
        selection=AssetSelection.assets(*assets),
        tags={GA4_RUN_TAG: "true"},
        description="Every measure of a month, combined, checked and published.",
    )
    settled_ga4 = define_asset_job(
        "settled_completion_rate",
        selection=AssetSelection.assets(*(AssetKey(name) for name in SETTLED_ASSETS)),
        tags={GA4_RUN_TAG: "true"},
        description="The completion rate collected again once GA4 has settled, and republished.",
    )
    take_up = define_asset_job(
        "take_up_revisions",
        selection=AssetSelection.assets(*(AssetKey(name) for name in REVISED_ASSETS)),
        description="Digital take-up and what is built from it, re-collected for months already published.",
    )

    # The month that just closed, published before OPG's automation copies it.
    monthly = closed_month_schedule("monthly", everything, monthly_cron)
    # The month that closed on the 1st, with GA4's settled figures.
    settled = closed_month_schedule("settled", settled_ga4, "0 6 4 * *")

    @schedule(
        name="revisions",
        job=take_up,
        cron_schedule="0 9 4 * *",
        execution_timezone=LONDON.key,
        default_status=DefaultScheduleStatus.RUNNING,
    )
    def revisions(context: ScheduleEvaluationContext) -> list[RunRequest]:
        """Take-up for the three months before the month that just closed."""
        closed = closed_month_at(context)
        month, requests = closed, []
        for _ in range(REVISED_MONTHS):
            month = month.previous()
            # A month is revised on three successive ticks: the key names the tick as well as the month.
            key = f"revisions:{closed.key}:{month.key}"
            requests.insert(0, RunRequest(run_key=key, partition_key=month.key))
        return requests

    return [monthly, settled, revisions]
