"""When months run on their own, London time, for every service the deployment publishes, in one run each.

- `monthly`, on the 1st at 07:00 (PERFPLAT_MONTHLY_CRON): every asset for the month that just closed, so its
  month files are in the bucket before OPG's automation copies them at 12:00 UTC.
- `settled`, on the 4th at 06:00: the measures that settle (`Measure.settles`: GA4's completion rate) again
  for that month; a changed value is recorded as a revision and republished.
- `revisions`, on the 4th at 09:00: the measures revised later (`Measure.revised_months`: digital take-up,
  three months) for the months before.

A service whose series starts after a month asked for is no failure: its assets do nothing for that month.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from dagster import (
    AssetKey,
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
from perfplat_assets.common.service import Service
from perfplat_assets.measures import measures, run_tags, service_measures
from perfplat_assets.partitions import asset_key

if TYPE_CHECKING:
    from dagster._core.definitions.target import ExecutableDefinition

    from perfplat_assets.common.measure import Measure

PUBLISHED = (PERFORMANCE_DATASET, DATA_GOV_UK_PUBLICATION)  # what a re-collected measure is republished by
# The schedules that publish the month that just closed: the alert sensor summarises what they published.
PUBLISHING_SCHEDULES = ("monthly", "settled")


def settled_assets(services: Sequence[Service]) -> list[AssetKey]:
    """Each service's measures that settle, with its dataset and publication; none for a service with none."""
    return _republished(services, lambda measure: measure.settles)


def revised_assets(services: Sequence[Service]) -> list[AssetKey]:
    """Each service's measures revised later, with its dataset and publication."""
    return _republished(services, lambda measure: bool(measure.revised_months))


def _republished(services: Sequence[Service], chosen: Callable[[Measure], bool]) -> list[AssetKey]:
    keys = []
    for service in services:
        names = [m.name for m in service_measures(service) if chosen(m)]
        keys += [asset_key(service, name) for name in (*names, *PUBLISHED)] if names else []
    return keys


def _names(keys: Sequence[AssetKey]) -> list[str]:
    return [key.path[-1] for key in keys]


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


def build_schedules(services: Sequence[Service], monthly_cron: str) -> list[ScheduleDefinition]:
    """`monthly` for every service; `settled` and `revisions` where a service has measures that settle or
    are revised later (none, for a deployment of services without)."""
    everything = define_asset_job(
        "monthly_figures",
        selection=AssetSelection.groups(*(service.name for service in services)),
        tags=run_tags(None),
        description="Every service's measures of a month, combined, checked and published.",
    )
    # The month that just closed, published before OPG's automation copies it.
    schedules = [closed_month_schedule(PUBLISHING_SCHEDULES[0], everything, monthly_cron)]
    settled, revised = settled_assets(services), revised_assets(services)
    if settled:
        settled_figures = define_asset_job(
            "settled_figures",
            selection=AssetSelection.assets(*settled),
            tags=run_tags(_names(settled)),
            description="The measures whose sources settle after a month closes, again, and republished.",
        )
        # The month that closed on the 1st, with its sources' settled figures.
        schedules.append(closed_month_schedule(PUBLISHING_SCHEDULES[1], settled_figures, "0 6 4 * *"))
    if revised:
        revised_figures = define_asset_job(
            "revised_figures",
            selection=AssetSelection.assets(*revised),
            tags=run_tags(_names(revised)),
            description="The measures revised after publication, re-collected for months already published.",
        )
        schedules.append(revisions_schedule(revised_figures))
    return schedules


def revisions_schedule(job: ExecutableDefinition) -> ScheduleDefinition:
    """On the 4th at 09:00: the revised measures for the months before the month that just closed."""

    @schedule(
        name="revisions",
        job=job,
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

    return revisions
