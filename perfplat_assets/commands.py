"""What perfplat's terminal commands (`perfplat materialize`, `perfplat-demo`) share: a range of months run in
this process on the local instance, its outcome said in a few lines, the last of them the reason a run
failed, said once and without a traceback (that stays in the run's event log), and Ctrl-C said as what it
left published."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from dagster import DagsterInstance, DagsterRunStatus, JobDefinition
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from perfplat_assets.common.months import Month, last_closed_month
from perfplat_assets.console import failure_reasons
from perfplat_assets.console import interrupted as was_interrupted
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.publication.committing.journal import StoreFailed, latest_entries, published_since
from perfplat_assets.services.registry import first_month, service_called, services

INTERRUPTED = 128 + signal.SIGINT  # a shell's code for a command ended by Ctrl-C


class NotAPartition(ValueError):
    """A month that is not one perfplat publishes: the message names the newest closed month and the first."""


def partition_month(text: str) -> Month:
    """`2026-05` or `2026-05-01` as a month perfplat publishes: closed, and from the earliest first month."""
    newest, first = last_closed_month(), first_month()
    bounds = f"the newest closed month is {newest} ({newest.key}) and the first is {first} ({first.key})"
    given = text.strip()
    try:
        month = Month.parse(given)  # Month's own check refuses a day other than the 1st
    except ValueError:
        raise NotAPartition(f"{given!r} is not a month (YYYY-MM or YYYY-MM-01): {bounds}") from None
    if month > newest:
        raise NotAPartition(f"{month} has not closed, so it is not published yet: {bounds}")
    if month < first:
        raise NotAPartition(f"{month} is before any service's series begins: {bounds}")
    return month


@dataclass
class Outcome:
    """What a command's run did: whether it succeeded, why not (perfplat's reasons, each once), and what it
    published, by service."""

    succeeded: bool
    reasons: list[str] = field(default_factory=list)
    published: dict[str, list[Month]] = field(default_factory=dict)
    run_id: str | None = None


def run_months(
    job: JobDefinition, months: Sequence[Month], instance: DagsterInstance, store: MetricsStore
) -> Outcome:
    """Every asset of `job` (the code location's asset job) for `months`, in one run in this process, with
    Dagster's console at WARNING and perfplat's failures left to the command to say (the `console` logger's
    `quiet`). Ctrl-C during it is said by `interrupted` and ends the command."""
    since = latest_entries(store, services())
    tags = {ASSET_PARTITION_RANGE_START_TAG: months[0].key, ASSET_PARTITION_RANGE_END_TAG: months[-1].key}
    config = {"loggers": {"console": {"config": {"log_level": "WARNING", "quiet": True}}}}
    try:
        result = job.execute_in_process(run_config=config, instance=instance, tags=tags, raise_on_error=False)
    except KeyboardInterrupt:
        interrupted(store, since)
    run = instance.get_run_by_id(result.run_id)
    if (run is not None and run.status == DagsterRunStatus.CANCELED) or any(
        was_interrupted(event) for event in result.all_events
    ):
        interrupted(store, since)
    return Outcome(
        succeeded=result.success,
        reasons=failure_reasons(result.all_events),
        published=published_since(store, services(), since),
        run_id=result.run_id,
    )


def sample_sources(resources: Mapping[str, Any]) -> list[str]:
    """The settings whose sources serve the embedded sample, every published service's, once each."""
    found = [s for name, r in resources.items() if name.endswith("__publisher") for s in r.sample_sources]
    return list(dict.fromkeys(found))


def published_lines(published: dict[str, list[Month]]) -> list[str]:
    """`published Make an LPA 2026-05 to 2026-06`, a line a service."""
    return [
        f"published {service_called(name).short_title} {_span(months)}" for name, months in published.items()
    ]


def _span(months: Sequence[Month]) -> str:
    return str(months[0]) if len(months) == 1 else f"{months[0]} to {months[-1]}"


def interrupted(
    store: MetricsStore, since: dict[str, int], say: Callable[[str], None] | None = None
) -> NoReturn:
    """Ctrl-C: say what was published before it (the journal knows), then end at once with 130, before
    Python's shutdown meets the threads of the sources' clients."""
    try:
        published = published_since(store, services(), since)
    except StoreFailed:
        line = "interrupted; the metrics store could not be read to say what was published"
    else:
        done = "; ".join(published_lines(published))
        line = f"interrupted; {done}" if done else "interrupted; nothing was published"
        line += ". A publication under way is completed or undone by the next run"
    (say or (lambda text: print(text, file=sys.stderr)))(line)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(INTERRUPTED)
