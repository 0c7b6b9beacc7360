"""When months run on their own, London time.

- `monthly`, on the 1st at 07:00 (PERFPLAT_MONTHLY_CRON): every asset for the month that just closed, so its
  month file is in the bucket before OPG's automation copies it at 12:00 UTC.
- `settled`, on the 4th at 06:00: the measures that settle (`Measure.settles`: GA4's completion rate) again
  for that month; a changed value is recorded as a revision and republished.
- `revisions`, on the 4th at 09:00: the measures revised later (`Measure.revised_months`: digital take-up,
  three months) for the months before.
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

from perfplat_assets.asset_names import DATA_GOV_UK_PUBLICATION, PERFORMANCE_DATASET
from perfplat_assets.common.months import LONDON, Month
from perfplat_assets.measures import measures, run_tags

if TYPE_CHECKING:
    from dagster._core.definitions.target import ExecutableDefinition

PUBLISHED = (PERFORMANCE_DATASET, DATA_GOV_UK_PUBLICATION)  # what a re-collected measure is republished by
# The schedules that publish the month that just closed: the alert sensor summarises what they published.
PUBLISHING_SCHEDULES = ("monthly", "settled")


def settled_assets() -> tuple[str, ...]:
    return (*(m.name for m in measures() if m.settles), *PUBLISHED)


def revised_assets() -> tuple[str, ...]:
    return (*(m.name for m in measures() if m.revised_months), *PUBLISHED)


def revised_months() -> int:
    """How many months before the one that just closed the `revisions` schedule re-collects."""
    return max((m.revised_months for m in measures()), default=0)


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
        tags=run_tags(None),
        description="Every measure of a month, combined, checked and published.",
    )
    settled_figures = define_asset_job(
        "settled_figures",
        selection=AssetSelection.assets(*(AssetKey(name) for name in settled_assets())),
        tags=run_tags(settled_assets()),
        description="The measures whose sources settle after a month closes, again, and republished.",
    )
    revised_figures = define_asset_job(
        "revised_figures",
        selection=AssetSelection.assets(*(AssetKey(name) for name in revised_assets())),
        tags=run_tags(revised_assets()),
        description="The measures revised after publication, re-collected for months already published.",
    )

    # The month that just closed, published before OPG's automation copies it.
    monthly = closed_month_schedule(PUBLISHING_SCHEDULES[0], everything, monthly_cron)
    # The month that closed on the 1st, with its sources' settled figures.
    settled = closed_month_schedule(PUBLISHING_SCHEDULES[1], settled_figures, "0 6 4 * *")

    @schedule(
        name="revisions",
        job=revised_figures,
        cron_schedule="0 9 4 * *",
        execution_timezone=LONDON.key,
        default_status=DefaultScheduleStatus.RUNNING,
    )
    def revisions(context: ScheduleEvaluationContext) -> list[RunRequest]:
        """The revised measures for the months before the month that just closed."""
        closed = closed_month_at(context)
        month, requests = closed, []
        for _ in range(revised_months()):
            month = month.previous()
            # A month is revised on three successive ticks: the key names the tick as well as the month.
            key = f"revisions:{closed.key}:{month.key}"
            requests.insert(0, RunRequest(run_key=key, partition_key=month.key))
        return requests

    return [monthly, settled, revisions]
