"""The alert sensor: what needs a person reaches one, on Slack and SNS, without anyone watching the UI.

Each tick it writes down what is new, then delivers what is owed (resources.py):
- a failed perfplat run, however it was launched: read from the instance's run-status events, so a
  `dg launch` or `dagster asset materialize` run (in process, with no code location behind it) is seen
  as well as a schedule's, the queue's, a backfill's or the UI's;
- `published_by_deadline` failed: a service's month that closed last is not published by a run in time;
- a run of the `monthly` or `settled` schedule that published: its figures, warnings and revisions
  (unless `PERFPLAT_ALERT_ON_SUCCESS=false`).
The queue sensor writes down the messages it refuses itself. Nothing here fails the tick: a fault in one
part is logged and the others go on. The tick keeps inside Dagster's 60-second deadline: looking at runs
stops after `LOOK_SECONDS` (the cursor stays before what was not looked at), delivering gets what is left of
`TICK_SECONDS`, and once the metrics store fails a call the tick calls it no more (each call can wait up to
`MetricsStore.call_seconds`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from dagster import (
    AssetCheckEvaluation,
    AssetCheckKey,
    AssetKey,
    DagsterEventType,
    DagsterInstance,
    DagsterRun,
    DefaultSensorStatus,
    RunStatusChangeRecordsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    sensor,
)
from dagster._core.storage.event_log.base import EventLogCursor
from dagster._core.storage.tags import (
    ASSET_PARTITION_RANGE_END_TAG,
    ASSET_PARTITION_RANGE_START_TAG,
    BACKFILL_ID_TAG,
    PARTITION_NAME_TAG,
    SCHEDULE_NAME_TAG,
    SENSOR_NAME_TAG,
)
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from perfplat_assets.alerts import messages
from perfplat_assets.alerts.messages import known_secrets, without_secrets
from perfplat_assets.alerts.resources import DELIVERY_SECONDS, Alerting, Delivery
from perfplat_assets.common.errors import SourceUnavailable
from perfplat_assets.common.months import Month, months_between
from perfplat_assets.common.service import Service
from perfplat_assets.measures import service_measures
from perfplat_assets.metrics_store.tables import publication_record, service_table
from perfplat_assets.publication.deadline import AUTOMATION, CHECK_NAME
from perfplat_assets.publication.freshness import publication_key
from perfplat_assets.publication.published_format.records import DATA_TYPES, count_value
from perfplat_assets.services.registry import services

SENSOR_NAME = "perfplat_alerts"
INTERVAL_SECONDS = 30  # between two ticks, unless PERFPLAT_ALERT_INTERVAL_SECONDS says otherwise
LOOK_BACK_SECONDS = 3600  # on its first tick, the sensor looks this far back for runs that ended
BATCH = 50  # run-status events read a tick, of each kind
TICK_SECONDS = 45.0  # of Dagster's 60: the rest is for Dagster's own work and an attempt ending late
LOOK_SECONDS = 20.0  # looking at runs and deadlines stops after this; delivering has the rest


def build_alert_sensor(
    published: Sequence[Service],
    asset_keys: Sequence[AssetKey],
    job_names: Sequence[str],
    scheduled: Sequence[str],
    *,
    on_success: bool,
    interval_seconds: int,
) -> SensorDefinition:
    """The sensor for runs of these assets or jobs (whatever code location, or none, launched them) and the
    deadlines of the `published` services; `scheduled` names the schedules whose successes are summarised.
    RUNNING by default: it is only built when a channel is configured."""
    watched = Watched(frozenset(asset_keys), frozenset(job_names), frozenset(scheduled))

    @sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=interval_seconds,
        default_status=DefaultSensorStatus.RUNNING,
        description="Alerts on Slack and SNS: a failed perfplat run, a service's month not published by its "
        "deadline, a refused queue message, and each scheduled publication.",
    )
    def perfplat_alerts(context: SensorEvaluationContext, alerting: Alerting) -> SkipReason:
        started = time.monotonic()
        cursor = _Cursor.read(context.cursor)
        look_until = started + LOOK_SECONDS
        steps: list[tuple[str, Callable[[], None]]] = [
            ("failed runs", lambda: _failed_runs(context, alerting, watched, cursor, look_until)),
            *(
                (
                    f"{service}'s publication deadline",
                    lambda service=service: _late_month(context, alerting, service),
                )
                for service in published
            ),
            (
                "scheduled publications",
                lambda: _published(context, alerting, watched, cursor, on_success, look_until),
            ),
        ]
        for what, step in steps:
            if alerting.store_failed_since(started) or time.monotonic() > look_until:
                context.log.warning(f"alerts: {what} looked at next tick: {_why_not(alerting, started)}")
                continue
            try:
                step()
            except (SourceUnavailable, DBAPIError) as error:  # the metrics store's: called no more this tick
                said = alerting.store_failed(error, f"looking at {what}")
                context.log.error(f"alerts: could not look at {what}: {said}")
            except Exception as error:  # the cursor stays before what was not looked at
                said = without_secrets(str(error), alerting.secrets())
                context.log.error(f"alerts: could not look at {what}: {type(error).__name__}: {said}")
        budget = min(DELIVERY_SECONDS, TICK_SECONDS - (time.monotonic() - started))
        if alerting.store_failed_since(started):
            delivery = Delivery(held=cursor.held)
            context.log.warning(f"alerts: nothing delivered this tick: {_why_not(alerting, started)}")
        else:
            delivery = alerting.deliver_due(context.log, budget, held=cursor.held)
        cursor.held = delivery.held
        context.update_cursor(cursor.write())
        return SkipReason(delivery.said())

    return perfplat_alerts


class Watched:
    """Which runs are perfplat's: a run of its jobs, or one that was to materialise any of its assets
    (as Dagster planned them: a run launched in process names no code location, and a Python
    `materialize` no asset selection)."""

    def __init__(self, asset_keys: frozenset[AssetKey], jobs: frozenset[str], scheduled: frozenset[str]):
        self.asset_keys, self.jobs, self.scheduled = asset_keys, jobs, scheduled

    def includes(self, instance: DagsterInstance, run: DagsterRun) -> bool:
        if run.job_name in self.jobs or set(run.asset_selection or ()) & self.asset_keys:
            return True
        planned = instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_MATERIALIZATION_PLANNED)
        return any(
            entry.dagster_event and entry.dagster_event.asset_key in self.asset_keys for entry in planned
        )


def _why_not(alerting: Alerting, started: float) -> str:
    if alerting.store_failed_since(started):
        return "the metrics store failed this tick (see above)"
    return f"this tick spent its {LOOK_SECONDS:.0f} s of looking"


class _Cursor:
    """Where the sensor has read up to in the instance's run-status events, by kind; and the channels a
    rate-limiting service asked to wait, until when (`held`)."""

    HELD = "held"

    def __init__(self, positions: dict[str, str], held: dict[str, datetime]) -> None:
        self.positions, self.held = positions, held

    @classmethod
    def read(cls, text: str | None) -> _Cursor:
        try:
            loaded = json.loads(text or "{}")
        except ValueError:
            loaded = {}
        loaded = loaded if isinstance(loaded, dict) else {}
        positions = {k: v for k, v in loaded.items() if isinstance(v, str)}
        held_text = loaded.get(cls.HELD) if isinstance(loaded.get(cls.HELD), dict) else {}
        held = {}
        for name, until in held_text.items():
            try:
                when = datetime.fromisoformat(until)
            except (TypeError, ValueError):
                continue  # a hold that cannot be read is none: the channel is tried
            if when.tzinfo is not None:
                held[name] = when
        return cls(positions, held)

    def write(self) -> str:
        held = {name: until.isoformat() for name, until in self.held.items()}
        return json.dumps({**self.positions, **({self.HELD: held} if held else {})}, sort_keys=True)


def _each_ended_run(
    context: SensorEvaluationContext,
    event: DagsterEventType,
    cursor: _Cursor,
    watched: Watched,
    alert_for: Callable[[DagsterRun], bool],
    look_until: float,
) -> None:
    """`alert_for` each of perfplat's runs that reached `event` since the cursor (the last hour, while the
    sensor has seen none), until `look_until` (time.monotonic()). The cursor moves past a run only once its
    alert is recorded (`alert_for` says so), so a run whose alert could not be recorded, or that was not
    looked at in time, is looked at again next tick."""
    instance, log = context.instance, context.log
    position = cursor.positions.get(event.value)
    since = None if position else datetime.now(UTC).timestamp() - LOOK_BACK_SECONDS
    result = instance.fetch_run_status_changes(
        RunStatusChangeRecordsFilter(event_type=event, after_timestamp=since),
        limit=BATCH,
        cursor=position,
        ascending=True,
    )
    for record in result.records:
        if time.monotonic() > look_until:
            return  # this tick's time for looking is spent: the rest next tick
        run = instance.get_run_by_id(record.run_id)
        try:
            if run is not None and watched.includes(instance, run) and not alert_for(run):
                return  # the store could not record it: this run again next tick
        except (SourceUnavailable, DBAPIError):
            raise  # the metrics store failed, not the run: this run again next tick
        except Exception as error:  # a run perfplat cannot describe must not hold up every later one
            said = without_secrets(str(error), known_secrets(os.environ))
            log.error(f"alerts: run {record.run_id} not alerted: {type(error).__name__}: {said}")
        cursor.positions[event.value] = EventLogCursor.from_storage_id(record.storage_id).to_string()


def run_months(run: DagsterRun) -> list[Month]:
    """The months a run was for, from Dagster's partition tags."""
    tags = run.tags
    if PARTITION_NAME_TAG in tags:
        return [Month.parse(tags[PARTITION_NAME_TAG])]
    start, end = tags.get(ASSET_PARTITION_RANGE_START_TAG), tags.get(ASSET_PARTITION_RANGE_END_TAG)
    return months_between(Month.parse(start), Month.parse(end)) if start and end else []


def launched_by(run: DagsterRun) -> str:
    """What launched a run, from Dagster's tags."""
    tags = run.tags
    if SCHEDULE_NAME_TAG in tags:
        return f"the {tags[SCHEDULE_NAME_TAG]} schedule"
    if BACKFILL_ID_TAG in tags:
        return f"backfill {tags[BACKFILL_ID_TAG]}"
    if SENSOR_NAME_TAG in tags:
        return f"the {tags[SENSOR_NAME_TAG]} sensor"
    return "hand (the UI, dg launch or dagster asset materialize)"


def failure_message(instance: DagsterInstance, run: DagsterRun) -> str:
    """perfplat's own words for why the run failed, naming the service whose step failed: the first failed
    step's message (its `Failure`'s description when it raised one), else what Dagster said of the run."""
    for entry in instance.all_logs(run.run_id, of_type=DagsterEventType.STEP_FAILURE):
        data = entry.dagster_event.step_failure_data if entry.dagster_event else None
        if data is None:
            continue
        whose = _service_of_step(entry.step_key)
        if data.user_failure_data and data.user_failure_data.description:
            return whose + data.user_failure_data.description
        if data.error:
            error = data.error
            while error.cause is not None:  # Dagster's "Error occurred while executing op" wraps perfplat's
                error = error.cause
            return whose + (error.message.split(": ", 1)[-1] if error.cls_name else error.message)
    for entry in instance.all_logs(run.run_id, of_type=DagsterEventType.RUN_FAILURE):
        return entry.dagster_event.message if entry.dagster_event and entry.dagster_event.message else ""
    return ""


def _service_of_step(step_key: str | None) -> str:
    """ "Use an LPA: " for a step of one of its assets (`use_an_lpa__user_satisfaction`); else nothing."""
    name = (step_key or "").partition("__")[0]
    found = next((service for service in services() if service.name == name), None)
    return f"{found}: " if found else ""


def _failed_runs(
    context: SensorEvaluationContext,
    alerting: Alerting,
    watched: Watched,
    cursor: _Cursor,
    look_until: float,
) -> None:
    def alert_for(run: DagsterRun) -> bool:
        alert = messages.run_failed(
            run.run_id,
            run.job_name,
            run_months(run),
            failure_message(context.instance, run),
            alerting.run_url(run.run_id),
            launched_by(run),
        )
        return alerting.raise_alert(alert, context.log)

    _each_ended_run(context, DagsterEventType.RUN_FAILURE, cursor, watched, alert_for, look_until)


def _late_month(context: SensorEvaluationContext, alerting: Alerting, service: Service) -> None:
    """Alert on the latest evaluation of the service's `published_by_deadline`, when it failed because no run
    has published the month: the alert asks a person to publish it, which a month published late needs no
    more."""
    check = AssetCheckKey(publication_key(service.name), CHECK_NAME)
    # The newest execution that holds an evaluation: a run planned since has a row with none yet.
    history = context.instance.event_log_storage.get_asset_check_execution_history(check, limit=20)
    evaluation = next((found for record in history if (found := _evaluation(record)) is not None), None)
    if evaluation is None or evaluation.passed or "published_at" in evaluation.metadata:
        return  # in time, or published late: the month is out; the check keeps the failure in the UI
    metadata = evaluation.metadata
    month = Month.parse(str(metadata["month"].value))
    deadline = datetime.fromisoformat(str(metadata["deadline"].value))
    url = alerting.asset_url(check.asset_key.to_user_string(), "checks")
    why = _not_published_because(alerting, service, month)
    alerting.raise_alert(messages.month_late(service, month, deadline, AUTOMATION, url, why), context.log)


def _not_published_because(alerting: Alerting, service: Service, month: Month) -> list[str]:
    """What the store says of the service's measures in `month`: why a figure is not available (an export
    that does not cover the month yet, naming the days and the setting) or why a check withheld it."""
    said = []
    with alerting.store.transaction(commit=False) as connection:
        for measure in service_measures(service):
            table = service_table(service.name, measure.table)
            row = connection.execute(select(table).where(table.c.month == month.key)).mappings().first()
            reason = row and (row["not_available_reason"] or row["blocked_by"])
            if reason:
                said.append(f"{measure.title.lower()}: {reason}")
    return said


def _evaluation(record: Any) -> AssetCheckEvaluation | None:
    """The evaluation a check execution record holds, when it is one this check reported (with its month)."""
    event = record.event.dagster_event if record is not None and record.event is not None else None
    data = event.event_specific_data if event is not None else None
    return data if isinstance(data, AssetCheckEvaluation) and "month" in data.metadata else None


def _published(
    context: SensorEvaluationContext,
    alerting: Alerting,
    watched: Watched,
    cursor: _Cursor,
    on_success: bool,
    look_until: float,
) -> None:
    """Summaries of scheduled publications; with summaries off, the cursor still moves, so that turning
    them on later does not summarise the months in between."""

    def alert_for(run: DagsterRun) -> bool:
        if not on_success or run.tags.get(SCHEDULE_NAME_TAG) not in watched.scheduled:
            return True
        months = run_months(run)
        alert = messages.month_published(
            run.run_id,
            months,
            _figures(alerting, months),
            _warnings(context.instance, run),
            _revisions(alerting, run.run_id),
            alerting.run_url(run.run_id),
        )
        return alerting.raise_alert(alert, context.log)

    _each_ended_run(context, DagsterEventType.RUN_SUCCESS, cursor, watched, alert_for, look_until)


def _figures(alerting: Alerting, months: Sequence[Month]) -> dict[Month, list[messages.Figure]]:
    """The months' published values of every service, as its records hold them, each named by its
    service."""
    found: dict[Month, list[messages.Figure]] = {}
    with alerting.store.transaction(commit=False) as connection:
        for service in services():
            published = publication_record(service.name).published_records
            query = select(published).where(published.c.month.in_([m.key for m in months]))
            for row in connection.execute(query.order_by(published.c.month, published.c.data_type)):
                data_type = DATA_TYPES.get(row.data_type)
                unit = f" {data_type.unit}" if data_type is not None else ""
                shown = f"{count_value(row.data_type, row.count) if data_type else row.count}{unit}"
                figure = messages.Figure(f"{service} {row.data_type}", shown)
                found.setdefault(Month.parse(row.month), []).append(figure)
    return found


def _warnings(instance: DagsterInstance, run: DagsterRun) -> list[str]:
    """The run's checks that did not pass, by name and asset."""
    said = []
    for entry in instance.all_logs(run.run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION):
        data = entry.dagster_event.event_specific_data if entry.dagster_event else None
        if data is not None and not data.passed:
            said.append(f"{data.check_name} on {data.asset_key.to_user_string()}")
    return said


def _revisions(alerting: Alerting, run_id: str) -> list[str]:
    """The run's revisions of every service, each named by its service."""
    said = []
    with alerting.store.transaction(commit=False) as connection:
        for service in services():
            revisions = publication_record(service.name).revisions
            query = select(revisions).where(revisions.c.run_id == run_id).order_by(revisions.c.id)
            said += [
                f"{service} {row.month[:7]} {row.data_type} {row.previous_count} -> {row.new_count}"
                for row in connection.execute(query)
            ]
    return said
