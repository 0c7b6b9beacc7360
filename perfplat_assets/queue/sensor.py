"""The sensor that turns queue messages into runs, without losing, repeating or jamming any of them.

- Each tick receives as many messages as its time budget allows (PERFPLAT's queue resource,
  `tick_budget_seconds`, within Dagster's 60-second sensor deadline).
- A valid message becomes a run request for its month (or one run over its range of months), tagged with
  its MessageId; messages for the same request in one tick share one run, and a message for a request
  whose run exists but has not started (queued) is attached to that run instead of starting another.
- It is deleted only on a later tick, once a run carrying its MessageId exists in the instance; a message
  seen again (redelivered after its visibility timeout, or after a preview tick that launched nothing) is
  looked up the same way and never starts a second run.
- An invalid message is logged with the reason and moved to the dead-letter queue (or deleted when there is
  none), so it can never block its FIFO message group. Its alert says why in perfplat's own words only
  (`InvalidMessage.said`): what a message holds never reaches a person. The alert is recorded in the
  metrics store at the end of the tick; one the store could not take stays in the cursor and is recorded on
  a later tick, and a tick that saw the store fail calls it no more (each call can wait up to
  `MetricsStore.call_seconds`).
- A queue that cannot be reached (DNS, a refused connection, TLS, a proxy) skips the tick saying so and which
  setting to check; an error SQS answered with is said as SQS's answer. Either way nothing is deleted.
"""

import hashlib
import json
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from dagster import (
    AssetKey,
    AssetSelection,
    DagsterInstance,
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from perfplat_assets.alerts.messages import Alert, message_dead_lettered
from perfplat_assets.alerts.resources import Alerting
from perfplat_assets.asset_names import DATA_GOV_UK_PUBLICATION, PERFORMANCE_DATASET
from perfplat_assets.common.months import last_closed_month
from perfplat_assets.common.network import unreachable_cause
from perfplat_assets.common.service import Service
from perfplat_assets.measures import run_tags, service_measures
from perfplat_assets.partitions import asset_key
from perfplat_assets.queue.messages import InvalidMessage, MonthRequest, parse_message
from perfplat_assets.queue.resources import SqsQueue
from perfplat_assets.services.registry import services

SENSOR_NAME = "sqs_month_requests"
MESSAGE_TAG_PREFIX = "perfplat/sqs-message-"
# A pending acknowledgement older than this is dropped: by then the message has become visible again and
# will be handled (and acknowledged) as a redelivery.
PENDING_LIFETIME = timedelta(minutes=15)
# Of Dagster's 60-second deadline: a store call that could take the tick past this waits for the next tick.
TICK_SECONDS = 50.0
# Alerts of refused messages the cursor keeps while the store does not answer; past this the oldest go (the
# messages themselves are in the dead-letter queue and the sensor's log).
MAX_OWED_ALERTS = 200


REQUEST_TAG = "perfplat/request"  # what a run was requested for: months, assets, dry run
RANGE_START_TAG, RANGE_END_TAG = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
NOT_STARTED = [DagsterRunStatus.NOT_STARTED, DagsterRunStatus.QUEUED]


def pipeline_keys(service: Service) -> list[AssetKey]:
    """Every asset of the service's pipeline: its measures, its dataset and its publication."""
    names = [*(m.name for m in service_measures(service)), PERFORMANCE_DATASET, DATA_GOV_UK_PUBLICATION]
    return [asset_key(service, name) for name in names]


def message_tag(message_id: str) -> str:
    return f"{MESSAGE_TAG_PREFIX}{message_id}"


def run_exists_for(instance: DagsterInstance, message_id: str) -> bool:
    return bool(instance.get_run_records(RunsFilter(tags={message_tag(message_id): "received"}), limit=1))


def _run_config(request: MonthRequest, selected: Sequence[AssetKey]) -> dict[str, Any]:
    """A dry run's config, on each publication the run materialises (its op is `<service>__<asset>`)."""
    if not request.dry_run:
        return {}
    publications = [key for key in selected if key.path[-1] == DATA_GOV_UK_PUBLICATION]
    return {"ops": {"__".join(key.path): {"config": {"dry_run": True}} for key in publications}}


def request_key(request: MonthRequest) -> str:
    """The request's identity as a tag value: the same months, service, assets and dry run make the same
    key."""
    selection = ",".join(request.assets) if request.assets else (request.service or "*")
    return f"{request.label}|{selection}" + ("|dry-run" if request.dry_run else "")


def _run_key(request: MonthRequest, message_ids: Sequence[str]) -> str:
    digest = hashlib.sha256(request_key(request).encode()).hexdigest()[:8]
    return f"sqs:{request.month.key}:{digest}:{'+'.join(message_ids)}"


def _months(request: MonthRequest) -> dict[str, Any]:
    """One month is a partition; a range is one run over its months, as a single-run backfill makes."""
    if request.last is None or request.last == request.month:
        return {"partition_key": request.month.key}
    return {"tags": {RANGE_START_TAG: request.month.key, RANGE_END_TAG: request.last.key}}


class _Tick:
    """One evaluation: the queue client, the instance and the acknowledgements still owed."""

    def __init__(
        self,
        context: SensorEvaluationContext,
        queue: SqsQueue,
        pipelines: Mapping[str, Sequence[AssetKey]],
        alerting: Alerting,
    ):
        self.context, self.queue, self.pipelines, self.alerting = context, queue, pipelines, alerting
        self.asset_names = [key.to_user_string() for keys in pipelines.values() for key in keys]
        self.services = {service.service: service.name for service in services() if service.name in pipelines}
        self.started = time.monotonic()
        self.client = queue.client()
        self.pending, self.owed = _read_cursor(context.cursor)
        self.now = datetime.now(UTC)
        self.last_closed = last_closed_month()
        self.waiting: dict[MonthRequest, str | None] = {}
        self.url = ""

    def delete(self, receipt_handle: str) -> None:
        self.client.delete_message(QueueUrl=self.url, ReceiptHandle=receipt_handle)

    def acknowledge_pending(self) -> int:
        acknowledged = 0
        for message_id, entry in list(self.pending.items()):
            if run_exists_for(self.context.instance, message_id):
                try:
                    self.delete(entry["receipt"])
                    acknowledged += 1
                except ClientError as error:  # the receipt expired: the redelivery will be acknowledged
                    self.context.log.info(f"message {message_id}: receipt no longer valid ({error})")
                del self.pending[message_id]
            elif self.now - datetime.fromisoformat(entry["since"]) > PENDING_LIFETIME:
                del self.pending[message_id]
        return acknowledged

    def receive(self) -> list[dict[str, Any]]:
        """One batch. A FIFO group with messages in flight hands over no more until they are deleted."""
        return self.client.receive_message(
            QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0, AttributeNames=["All"]
        ).get("Messages", [])

    def waiting_run(self, request: MonthRequest) -> str | None:
        """A run for the same request that has not started yet, which a new message can join (looked up
        once per request in a tick)."""
        if request not in self.waiting:
            records = self.context.instance.get_run_records(
                RunsFilter(tags={REQUEST_TAG: request_key(request)}, statuses=NOT_STARTED), limit=1
            )
            self.waiting[request] = records[0].dagster_run.run_id if records else None
        return self.waiting[request]

    def attach(self, attachments: dict[str, list[dict[str, Any]]]) -> None:
        """Messages recorded on the waiting runs they join, then acknowledged: their run exists. One tag
        update per run and one batched delete per receive keep a tick of a thousand messages short."""
        receipts = []
        for run_id, members in attachments.items():
            self.context.instance.add_run_tags(
                run_id, {message_tag(m["MessageId"]): "received" for m in members}
            )
            receipts += [(m["MessageId"], m["ReceiptHandle"]) for m in members]
        for start in range(0, len(receipts), 10):
            entries = [
                {"Id": str(n), "ReceiptHandle": r} for n, (_, r) in enumerate(receipts[start : start + 10])
            ]
            self.client.delete_message_batch(QueueUrl=self.url, Entries=entries)

    def dead_letter(self, message: dict[str, Any], reason: InvalidMessage) -> None:
        """Move the message to the dead-letter queue (or delete it), log it whole, and owe its alert, which
        says only perfplat's own words: the message's text stays in the dead-letter queue and the log."""
        message_id = message["MessageId"]
        target = self.queue.dead_letter_queue_url
        if target:
            params: dict[str, Any] = {
                "QueueUrl": target,
                "MessageBody": message["Body"] or "(empty)",
                "MessageAttributes": {
                    "perfplat-error": {"DataType": "String", "StringValue": str(reason)[:1000]},
                    "source-message-id": {"DataType": "String", "StringValue": message_id},
                },
            }
            if target.endswith(".fifo"):
                params |= {"MessageGroupId": "perfplat", "MessageDeduplicationId": message_id}
            body = ""
            try:
                self.client.send_message(**params)
                outcome = alerted = "moved to the dead-letter queue"
            except (BotoCoreError, ClientError) as error:
                # A broken dead-letter queue must not jam the FIFO group: the message is logged whole
                # instead (in the log only, never in an alert), then deleted.
                outcome = f"NOT dead-lettered ({unreachable_cause(error) or error}) but deleted"
                alerted = (
                    "NOT dead-lettered (the dead-letter queue refused it or could not be reached) but deleted"
                )
                body = f"; its body was {message['Body'][:2000]!r}"
        else:
            outcome = alerted = "deleted (no PERFPLAT_SQS_DLQ_URL)"
            body = ""
        self.delete(message["ReceiptHandle"])
        self.context.log.warning(f"invalid message {message_id}: {reason}; {outcome}{body}")
        self.owed.append(
            message_dead_lettered(message_id, reason.said, alerted, self.queue.describe(self.client))
        )

    def record_alerts(self) -> None:
        """Record the alerts owed to refused messages, oldest first, while the store takes them and the tick
        has time for another call; what is left stays in the cursor for a later tick. Never raises."""
        if not self.alerting.configured:
            self.owed.clear()  # no channel: nothing is owed
            return
        call = self.alerting.store.call_seconds
        while self.owed:
            if self.alerting.store_failed_since(self.started):
                break
            if time.monotonic() - self.started + call > TICK_SECONDS:
                self.context.log.info(f"{len(self.owed)} alert(s) of refused messages recorded next tick")
                break
            then = "it stays in the sensor's cursor and is recorded on a later tick"
            if not self.alerting.raise_alert(self.owed[0], self.context.log, then=then):
                break
            self.owed.pop(0)
        if len(self.owed) > MAX_OWED_ALERTS:
            dropped, self.owed = self.owed[:-MAX_OWED_ALERTS], self.owed[-MAX_OWED_ALERTS:]
            self.context.log.error(
                f"{len(dropped)} alert(s) of refused messages dropped, the metrics store not taking them: "
                f"{', '.join(alert.key for alert in dropped)}; the messages are in the dead-letter queue and "
                "this log"
            )

    def cursor(self) -> str:
        """The acknowledgements still owed, and the alerts not yet recorded."""
        alerts = [{"key": a.key, "title": a.title, "body": a.body} for a in self.owed]
        return json.dumps({"pending": self.pending, "alerts": alerts}, sort_keys=True)

    def handle(
        self,
        message: dict[str, Any],
        new_runs: dict[MonthRequest, list[dict[str, Any]]],
        attachments: dict[str, list[dict[str, Any]]],
    ) -> str:
        """What becomes of one message: acknowledged as a redelivery, dead-lettered, attached to a run that
        has not started (and so acknowledged at once), or held for a new run (acknowledged next tick)."""
        message_id = message["MessageId"]
        if run_exists_for(self.context.instance, message_id):
            self.delete(message["ReceiptHandle"])
            self.context.log.info(f"message {message_id} was seen before and its run exists: acknowledged")
            return "redelivered"
        try:
            request = parse_message(
                message["Body"],
                asset_names=self.asset_names,
                last_closed=self.last_closed,
                services=self.services,
            )
        except InvalidMessage as reason:
            self.dead_letter(message, reason)
            return "invalid"
        if request not in new_runs and (waiting := self.waiting_run(request)):
            attachments.setdefault(waiting, []).append(message)
            return "attached"
        new_runs.setdefault(request, []).append(message)
        return "requested"

    def run_request(self, request: MonthRequest, members: list[dict[str, Any]]) -> RunRequest:
        """The run for one request, tagged with every message it answers; they are acknowledged once it
        exists."""
        message_ids = sorted(m["MessageId"] for m in members)
        for member in members:
            self.pending[member["MessageId"]] = {
                "receipt": member["ReceiptHandle"],
                "since": self.now.isoformat(),
            }
        months = _months(request)
        selected = self.selection(request)
        every = [key for keys in self.pipelines.values() for key in keys]
        return RunRequest(
            run_key=_run_key(request, message_ids),
            partition_key=months.get("partition_key"),
            asset_selection=selected,
            run_config=_run_config(request, selected or every),
            tags={message_tag(i): "received" for i in message_ids}
            | {REQUEST_TAG: request_key(request)}
            | months.get("tags", {})
            | ({"perfplat/dry_run": "true"} if request.dry_run else {})
            | run_tags(None if selected is None else [key.path[-1] for key in selected]),
        )

    def selection(self, request: MonthRequest) -> list[AssetKey] | None:
        """The assets the request names; else every asset of the service it names; else None: every asset
        of every service."""
        if request.assets is not None:
            return [AssetKey.from_user_string(name) for name in request.assets]
        if request.service is not None:
            return list(self.pipelines[request.service])
        return None

    def evaluate(self) -> SensorResult:
        """Acknowledge what earlier ticks started, then take messages until the queue has none to hand
        over or the tick's budget is spent: a message that joins a waiting run is deleted at once, which
        frees its FIFO group for the next receive."""
        self.record_alerts()  # those an earlier tick could not record
        self.url = self.queue.resolve_url(self.client)
        acknowledged = self.acknowledge_pending()
        new_runs: dict[MonthRequest, list[dict[str, Any]]] = {}
        outcomes: Counter[str] = Counter()
        deadline = self.started + self.queue.tick_budget_seconds
        while time.monotonic() < deadline and (batch := self.receive()):
            attachments: dict[str, list[dict[str, Any]]] = {}
            outcomes.update(self.handle(message, new_runs, attachments) for message in batch)
            self.attach(attachments)
        self.record_alerts()
        run_requests = [self.run_request(request, members) for request, members in new_runs.items()]
        summary = (
            f"{len(run_requests)} run(s) requested, {outcomes['attached']} message(s) attached to waiting "
            f"runs, {acknowledged} message(s) acknowledged, {outcomes['redelivered']} redelivered, "
            f"{outcomes['invalid']} invalid"
        )
        return SensorResult(
            run_requests=run_requests,
            cursor=self.cursor(),
            skip_reason=None if run_requests else SkipReason(summary),
        )


def _read_cursor(text: str | None) -> tuple[dict[str, dict[str, str]], list[Alert]]:
    """The acknowledgements and alerts a cursor holds; a cursor of an earlier perfplat holds only the
    acknowledgements, by MessageId. One that cannot be read holds nothing: the messages it acknowledged are
    redelivered and acknowledged then."""
    try:
        loaded = json.loads(text) if text else {}
        if not isinstance(loaded, dict):
            return {}, []
        if "pending" not in loaded and "alerts" not in loaded:
            return loaded, []
        alerts = [Alert(a["key"], a["title"], a["body"]) for a in loaded.get("alerts") or []]
        return dict(loaded.get("pending") or {}), alerts
    except (ValueError, TypeError, KeyError):
        return {}, []


def _failure(queue: str, error: BotoCoreError | ClientError) -> str:
    """The tick's failure told truly: the queue never reached (a setting or the network to check), or
    SQS's own answer (which the next tick may not meet again)."""
    cause = unreachable_cause(error)
    if cause is not None:
        return (
            f"Cannot reach {queue}: {cause}. Check the network, proxy or endpoint setting "
            "AWS_ENDPOINT_URL_SQS (and PERFPLAT_SQS_QUEUE_URL or PERFPLAT_SQS_QUEUE_NAME)."
        )
    said = str(error).rstrip(". ")
    if isinstance(error, ClientError):
        return f"SQS answered for {queue} with an error: {said}."
    return f"SQS failed for {queue}: {said}."


def build_queue_sensor(
    published: Sequence[Service], *, running: bool, interval_seconds: int
) -> SensorDefinition:
    """The sensor for the pipelines of these services; RUNNING by default when a queue is configured."""
    pipelines = {service.name: pipeline_keys(service) for service in published}

    @sensor(
        name=SENSOR_NAME,
        asset_selection=AssetSelection.assets(*(key for keys in pipelines.values() for key in keys)),
        minimum_interval_seconds=interval_seconds,
        default_status=DefaultSensorStatus.RUNNING if running else DefaultSensorStatus.STOPPED,
        description="Materialises the month named by each message on the SQS FIFO queue.",
    )
    def sqs_month_requests(
        context: SensorEvaluationContext, sqs_queue: SqsQueue, alerting: Alerting
    ) -> SensorResult | SkipReason:
        if not sqs_queue.configured:
            return SkipReason(
                "No queue is configured: set PERFPLAT_SQS_QUEUE_URL or PERFPLAT_SQS_QUEUE_NAME."
            )
        tick = _Tick(context, sqs_queue, pipelines, alerting)
        try:
            return tick.evaluate()
        except (BotoCoreError, ClientError) as error:
            return SensorResult(
                skip_reason=SkipReason(
                    f"{_failure(sqs_queue.describe(tick.client), error)} No message without a run was "
                    "deleted; they stay on the queue for the next tick."
                ),
                cursor=tick.cursor(),
            )

    return sqs_month_requests
