"""The queue sensor and queuecli against moto's server over HTTP on loopback, on a real Dagster instance."""

import json
import logging
import time
from datetime import UTC, datetime

import boto3
import pytest
from dagster import (
    AssetKey,
    DagsterInstance,
    DagsterRunStatus,
    Definitions,
    ExecuteInProcessResult,
    SensorResult,
    SkipReason,
    build_sensor_context,
)
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.utils import make_new_run_id
from sqlalchemy.engine import make_url

from perfplat_assets.alerts.resources import Alerting
from perfplat_assets.common.months import Month, last_closed_month
from perfplat_assets.configuration import (
    build_resources,
    published_services,
    queue_configured,
    queue_sensor_interval,
)
from perfplat_assets.definitions import assets
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.queue import cli
from perfplat_assets.queue.resources import SqsQueue
from perfplat_assets.queue.sensor import build_queue_sensor, pipeline_keys
from perfplat_assets_tests.support.alerts import (
    NO_ALERT_CHANNELS,
    SLACK_CHANNEL,
    SLACK_TOKEN,
    SlackStandIn,
    TcpHop,
)
from perfplat_assets_tests.support.aws import REGION, sqs_queue
from perfplat_assets_tests.support.services import poll
from perfplat_sample.local_stack import (
    DEAD_LETTER_QUEUE_NAME,
    QUEUE_NAME,
    create_queues,
)


@pytest.fixture
def endpoint(aws_endpoint: str) -> str:
    return aws_endpoint


@pytest.fixture
def sqs(endpoint):
    return boto3.client("sqs", endpoint_url=endpoint, region_name=REGION)


@pytest.fixture
def queues(endpoint, sqs) -> tuple[str, str]:
    return create_queues(endpoint)


class Pipeline:
    """The sensor, its queue resource and a real instance; runs are launched as the daemon would."""

    def __init__(
        self, endpoint: str, queue_url: str, dlq_url: str | None, alerting: Alerting = NO_ALERT_CHANNELS
    ):
        self.instance = DagsterInstance.ephemeral()
        self.alerting = alerting
        self.queue = sqs_queue(endpoint, queue_url, dlq_url)
        self.sensor = build_queue_sensor(published_services(), running=True, interval_seconds=30)
        self.job = Definitions(
            assets=assets, resources=build_resources()
        ).resolve_implicit_global_asset_job_def()
        self.cursor: str | None = None

    def tick(self, *, keep_cursor: bool = True) -> SensorResult:
        with build_sensor_context(
            instance=self.instance,
            cursor=self.cursor,
            resources={"sqs_queue": self.queue, "alerting": self.alerting},
        ) as context:
            result = self.sensor(context)
        assert isinstance(result, SensorResult)
        if keep_cursor:
            self.cursor = result.cursor
        return result

    def launch(self, result: SensorResult) -> list[ExecuteInProcessResult]:
        """Each run request as the daemon would launch it: partition, selection, tags and run config."""
        outcomes = []
        for request in result.run_requests or []:
            outcome = self.job.execute_in_process(
                instance=self.instance,
                partition_key=request.partition_key,
                asset_selection=request.asset_selection,
                tags=request.tags,
                run_config=request.run_config,
            )
            assert outcome.success
            outcomes.append(outcome)
        return outcomes


def _send(sqs, url: str, body: str) -> str:
    return sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId="perfplat")["MessageId"]


def _counts(sqs, url: str) -> tuple[int, int]:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_a_message_becomes_a_run_and_is_deleted_once_the_run_exists(perfplat_env, endpoint, sqs, queues):
    queue_url, dlq_url = queues
    pipeline = Pipeline(endpoint, queue_url, dlq_url)
    message_id = _send(sqs, queue_url, '{"year": 2024, "month": 1}')

    first = pipeline.tick()
    [request] = first.run_requests
    assert request.partition_key == "2024-01-01"
    assert message_id in request.run_key
    assert request.asset_selection is None  # the whole pipeline
    assert _counts(sqs, queue_url) == (0, 1), "in flight, not deleted, until its run exists"

    second = pipeline.tick()  # the run was never launched: nothing is acknowledged
    assert not second.run_requests and _counts(sqs, queue_url) == (0, 1)

    pipeline.launch(first)
    third = pipeline.tick()
    assert not third.run_requests
    assert "1 message(s) acknowledged" in third.skip_reason.skip_message
    assert _counts(sqs, queue_url) == (0, 0)
    assert (perfplat_env / "publish" / "make_a_lasting_power_of_attorney_24_01.json").exists()


def test_messages_for_the_same_month_in_one_tick_make_one_run(perfplat_env, endpoint, sqs, queues):
    queue_url, dlq_url = queues
    pipeline = Pipeline(endpoint, queue_url, dlq_url)
    ids = [
        _send(sqs, queue_url, body) for body in ('{"year": 2024, "month": 2}', '{"month": 2, "year": 2024}')
    ]
    other = _send(sqs, queue_url, '{"year": 2024, "month": 3}')
    result = pipeline.tick()
    by_partition = {r.partition_key: r for r in result.run_requests}
    assert sorted(by_partition) == ["2024-02-01", "2024-03-01"]
    assert all(i in by_partition["2024-02-01"].run_key for i in ids)
    assert other in by_partition["2024-03-01"].run_key and ids[0] not in by_partition["2024-03-01"].run_key


def test_an_assets_subset_selects_exactly_those_assets(perfplat_env, endpoint, sqs, queues):
    queue_url, dlq_url = queues
    pipeline = Pipeline(endpoint, queue_url, dlq_url)
    _send(sqs, queue_url, '{"year": 2024, "month": 1, "assets": ["digital_take_up", "performance_dataset"]}')
    [request] = pipeline.tick().run_requests
    assert set(request.asset_selection) == {
        AssetKey(["make_an_lpa", "digital_take_up"]),
        AssetKey(["make_an_lpa", "performance_dataset"]),
    }


def _open_month() -> dict[str, int]:
    now = datetime.now(UTC)
    return {"year": now.year, "month": now.month}


INVALID = {
    "not JSON": ("next month please", "not JSON"),
    "not an object": ("[2024, 1]", "not a JSON object"),
    "missing month": ('{"year": 2024}', "missing 'month'"),
    "month as text": ('{"year": 2024, "month": "1"}', "'month' must be a whole number"),
    "month out of range": ('{"year": 2024, "month": 13}', "month must be 1 to 12"),
    "not closed": (json.dumps(_open_month()), "has not closed yet"),
    "before the first partition": ('{"year": 2020, "month": 1}', "before 2021-03"),
    "unknown asset": (
        '{"year": 2024, "month": 1, "assets": ["bounce_rate"]}',
        "unknown asset 'bounce_rate'",
    ),
    # Poison: each of these once raised inside the parser and failed every tick.
    "deeply nested": ("[" * 2000 + "]" * 2000, "nested deeper than 4 levels"),
    "a 5,000-digit year": ('{"year": ' + "9" * 5000 + ', "month": 1}', "too long"),
    "a 1,000-digit year": ('{"year": ' + "9" * 1000 + ', "month": 1}', "a number of 1000 characters"),
    "a repeated key": ('{"year": 2024, "month": 13, "month": 3}', "the key 'month' appears more than once"),
    "NaN": ('{"year": NaN, "month": 3}', "NaN is not a number"),
}


@pytest.mark.parametrize("kind", INVALID)
def test_an_invalid_message_goes_to_the_dead_letter_queue_and_never_fails_the_tick(
    perfplat_env, endpoint, sqs, queues, kind
):
    queue_url, dlq_url = queues
    body, reason = INVALID[kind]
    pipeline = Pipeline(endpoint, queue_url, dlq_url)
    message_id = _send(sqs, queue_url, body)
    result = pipeline.tick()
    assert not result.run_requests
    assert "1 invalid" in result.skip_reason.skip_message
    assert _counts(sqs, queue_url) == (0, 0)
    [dead] = sqs.receive_message(QueueUrl=dlq_url, MessageAttributeNames=["All"])["Messages"]
    assert dead["Body"] == body
    assert reason in dead["MessageAttributes"]["perfplat-error"]["StringValue"]
    assert dead["MessageAttributes"]["source-message-id"]["StringValue"] == message_id


def test_without_a_dead_letter_queue_an_invalid_message_is_deleted(perfplat_env, endpoint, sqs, queues):
    queue_url, _ = queues
    _send(sqs, queue_url, "garbage")
    result = Pipeline(endpoint, queue_url, None).tick()
    assert "1 invalid" in result.skip_reason.skip_message
    assert _counts(sqs, queue_url) == (0, 0)


def _wait_until_visible(sqs, url: str, deadline_seconds: float = 30.0) -> None:
    poll("the message to become visible again", lambda: _counts(sqs, url)[0] > 0, deadline_seconds)


def test_a_redelivered_message_starts_no_second_run(perfplat_env, endpoint, sqs):
    queue_url, dlq_url = create_queues(endpoint, visibility_timeout=1)
    pipeline = Pipeline(endpoint, queue_url, dlq_url)
    _send(sqs, queue_url, '{"year": 2024, "month": 1}')
    first = pipeline.tick(keep_cursor=False)  # the acknowledgement it owes is lost with the cursor
    pipeline.launch(first)
    _wait_until_visible(sqs, queue_url)  # redelivered after its visibility timeout
    again = pipeline.tick()
    assert not again.run_requests
    assert "1 redelivered" in again.skip_reason.skip_message
    assert _counts(sqs, queue_url) == (0, 0)
    assert len(pipeline.instance.get_run_records()) == 1


def test_a_preview_loses_nothing(perfplat_env, endpoint, sqs):
    queue_url, dlq_url = create_queues(endpoint, visibility_timeout=1)
    pipeline = Pipeline(endpoint, queue_url, dlq_url)
    _send(sqs, queue_url, '{"year": 2024, "month": 1}')
    preview = pipeline.tick(keep_cursor=False)  # a preview: evaluated, nothing launched, cursor dropped
    assert len(preview.run_requests) == 1
    _wait_until_visible(sqs, queue_url)
    real = pipeline.tick()
    assert [r.partition_key for r in real.run_requests] == ["2024-01-01"]


def test_an_unreachable_queue_skips_naming_the_endpoint(perfplat_env):
    dead = "http://127.0.0.1:9"
    pipeline = Pipeline(dead, f"{dead}/123456789012/{QUEUE_NAME}", None)
    result = pipeline.tick()
    assert not result.run_requests
    assert f"Cannot reach queue {dead}/123456789012/{QUEUE_NAME} at {dead}" in result.skip_reason.skip_message
    assert "No message without a run was deleted" in result.skip_reason.skip_message


def test_with_a_queue_configured_the_sensor_runs_by_default(perfplat_env, monkeypatch):
    monkeypatch.setenv("PERFPLAT_SQS_QUEUE_URL", "http://127.0.0.1:4566/123456789012/perfplat-queue.fifo")
    sensor = build_queue_sensor(
        published_services(), running=queue_configured(), interval_seconds=queue_sensor_interval()
    )
    assert sensor.default_status.value == "RUNNING"
    assert sensor.minimum_interval_seconds == 30


def test_without_a_queue_the_sensor_is_stopped_and_skips(perfplat_env):
    sensor = build_queue_sensor(
        published_services(), running=queue_configured(), interval_seconds=queue_sensor_interval()
    )
    assert sensor.default_status.value == "STOPPED"
    with build_sensor_context(
        instance=DagsterInstance.ephemeral(),
        resources={"sqs_queue": SqsQueue(), "alerting": NO_ALERT_CHANNELS},
    ) as context:
        result = sensor(context)
    assert isinstance(result, SkipReason) and "PERFPLAT_SQS_QUEUE_URL" in result.skip_message


# queuecli


def test_queuecli_list_and_check(endpoint, sqs, queues, capsys):
    assert cli.main([QUEUE_NAME, "list", "--endpoint-url", endpoint]) == 0
    out = capsys.readouterr().out
    assert QUEUE_NAME in out and DEAD_LETTER_QUEUE_NAME in out
    _send(sqs, queues[0], '{"year": 2024, "month": 5}')
    assert cli.main([QUEUE_NAME, "check", "--endpoint-url", endpoint]) == 0
    out = capsys.readouterr().out
    assert f"queue {QUEUE_NAME} exists" in out and "visible messages:   1" in out and "FIFO: true" in out


def _received(sqs, url: str) -> dict:
    [message] = sqs.receive_message(QueueUrl=url, AttributeNames=["All"])["Messages"]
    return message


def test_queuecli_send_custom_payload(endpoint, sqs, queues, capsys):
    assert (
        cli.main([QUEUE_NAME, "send", "--payload", '{"month": 1, "year": 2024}', "--endpoint-url", endpoint])
        == 0
    )
    assert "MessageId" in capsys.readouterr().out
    message = _received(sqs, queues[0])
    assert json.loads(message["Body"]) == {"month": 1, "year": 2024}
    assert message["Attributes"]["MessageGroupId"] == "2024-01", "each month in its own message group"


def test_queuecli_sends_to_another_group_when_told(endpoint, sqs, queues):
    payload = '{"month": 1, "year": 2024}'
    assert (
        cli.main([QUEUE_NAME, "send", "--payload", payload, "--group-id", "ops", "--endpoint-url", endpoint])
        == 0
    )
    assert _received(sqs, queues[0])["Attributes"]["MessageGroupId"] == "ops"


def test_queuecli_sends_a_range_of_months(endpoint, sqs, queues, capsys):
    assert (
        cli.main([QUEUE_NAME, "send", "--from", "2021-03", "--to", "2026-10", "--endpoint-url", endpoint])
        == 0
    )
    assert "for 2021-03..2026-10" in capsys.readouterr().out
    message = _received(sqs, queues[0])
    assert json.loads(message["Body"]) == {
        "from": {"year": 2021, "month": 3},
        "to": {"year": 2026, "month": 10},
    }
    assert message["Attributes"]["MessageGroupId"] == "2021-03..2026-10"


def _record_run_not_started(instance: DagsterInstance, request) -> str:
    """The run a sensor request becomes before the daemon starts it: recorded, NOT_STARTED."""
    run = DagsterRun(
        job_name="__ASSET_JOB",
        run_id=make_new_run_id(),
        tags=request.tags,
        status=DagsterRunStatus.NOT_STARTED,
    )
    instance.add_run(run)
    return run.run_id


def test_a_message_for_a_month_whose_run_has_not_started_joins_that_run(perfplat_env, endpoint, sqs, queues):
    queue_url, dlq_url = queues
    pipeline = Pipeline(endpoint, queue_url, dlq_url)
    first_id = sqs.send_message(
        QueueUrl=queue_url, MessageBody='{"year": 2024, "month": 1}', MessageGroupId="2024-01"
    )
    [request] = pipeline.tick().run_requests
    run_id = _record_run_not_started(pipeline.instance, request)
    second_id = sqs.send_message(
        QueueUrl=queue_url, MessageBody='{"month": 1, "year": 2024}', MessageGroupId="2024-01"
    )["MessageId"]
    result = pipeline.tick()  # the first is acknowledged; the second joins the waiting run
    assert not result.run_requests
    assert "1 message(s) attached to waiting runs" in result.skip_reason.skip_message
    tags = pipeline.instance.get_run_by_id(run_id).tags
    assert tags[f"perfplat/sqs-message-{second_id}"] == "received"
    assert f"perfplat/sqs-message-{first_id['MessageId']}" in tags
    assert _counts(sqs, queue_url) == (0, 0), "both acknowledged: their run exists"


def test_a_range_message_is_one_run_over_its_months(perfplat_env, endpoint, sqs, queues):
    queue_url, dlq_url = queues
    pipeline = Pipeline(endpoint, queue_url, dlq_url)
    body = '{"from": {"year": 2024, "month": 1}, "to": {"year": 2024, "month": 3}}'
    sqs.send_message(QueueUrl=queue_url, MessageBody=body, MessageGroupId="2024-01..2024-03")
    [request] = pipeline.tick().run_requests
    assert request.partition_key is None
    assert request.tags["dagster/asset_partition_range_start"] == "2024-01-01"
    assert request.tags["dagster/asset_partition_range_end"] == "2024-03-01"
    [outcome] = pipeline.launch(SensorResult(run_requests=[request]))
    assert outcome.success
    for name in ("24_01", "24_02", "24_03"):
        assert (perfplat_env / "publish" / f"make_a_lasting_power_of_attorney_{name}.json").exists()


def test_queuecli_send_default_payload_is_the_month_that_just_closed(endpoint, sqs, queues, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", endpoint)
    assert cli.main([QUEUE_NAME, "send"]) == 0
    month = last_closed_month()
    assert json.loads(_received(sqs, queues[0])["Body"]) == {
        "year": month.first_day.year,
        "month": month.first_day.month,
    }
    assert Month.of(month.first_day.year, month.first_day.month) == month


@pytest.mark.parametrize("payload", ['{"year": 2024}', "{not json", '{"year": 2024, "month": 0}'])
def test_queuecli_refuses_an_invalid_payload_before_sending(endpoint, sqs, queues, capsys, payload):
    assert cli.main([QUEUE_NAME, "send", "--payload", payload, "--endpoint-url", endpoint]) == 1
    assert "payload refused, nothing sent" in capsys.readouterr().err
    assert _counts(sqs, queues[0]) == (0, 0)


def test_queuecli_says_when_the_queue_is_missing(endpoint, sqs, capsys):
    assert cli.main(["absent.fifo", "check", "--endpoint-url", endpoint]) == 1
    assert "queue absent.fifo does not exist at" in capsys.readouterr().err


def test_queuecli_says_when_nothing_answers(capsys):
    assert cli.main([QUEUE_NAME, "list", "--endpoint-url", "http://127.0.0.1:9"]) == 2
    assert "cannot reach SQS at http://127.0.0.1:9" in capsys.readouterr().err


def test_a_message_may_name_one_service_by_its_service_value(every_service, endpoint, sqs, queues):
    queue_url, dlq_url = queues
    pipeline = Pipeline(endpoint, queue_url, dlq_url)
    _send(sqs, queue_url, '{"year": 2024, "month": 1, "service": "use-an-lpa"}')
    _send(
        sqs, queue_url, '{"year": 2024, "month": 2, "service": "use-an-lpa", "assets": ["user_satisfaction"]}'
    )
    _send(sqs, queue_url, '{"year": 2024, "month": 3, "service": "make_an_lpa"}')  # its name, not its value
    result = pipeline.tick()
    by_month = {r.partition_key: r for r in result.run_requests}
    assert set(by_month["2024-01-01"].asset_selection) == {
        AssetKey(["use_an_lpa", "user_satisfaction"]),
        AssetKey(["use_an_lpa", "performance_dataset"]),
        AssetKey(["use_an_lpa", "data_gov_uk_publication"]),
    }
    assert by_month["2024-02-01"].asset_selection == [AssetKey(["use_an_lpa", "user_satisfaction"])]
    assert sorted(by_month) == ["2024-01-01", "2024-02-01"]
    [dead] = sqs.receive_message(QueueUrl=dlq_url, MessageAttributeNames=["All"])["Messages"]
    reason = dead["MessageAttributes"]["perfplat-error"]["StringValue"]
    assert reason.startswith("'service' must be one this deployment publishes") and "'make_an_lpa'" in reason


def test_queuecli_knows_the_pipelines_assets():
    keys = {key for service in published_services() for key in pipeline_keys(service)}
    assert keys == {a.key for a in assets}


def test_a_dry_run_message_publishes_nothing(perfplat_env, endpoint, sqs, queues):
    queue_url, dlq_url = queues
    pipeline = Pipeline(endpoint, queue_url, dlq_url)
    _send(sqs, queue_url, '{"year": 2024, "month": 1, "dry_run": true}')
    first = pipeline.tick()
    [request] = first.run_requests
    assert request.run_config == {
        "ops": {
            f"{service.name}__data_gov_uk_publication": {"config": {"dry_run": True}}
            for service in published_services()
        }
    }
    [outcome] = pipeline.launch(first)
    assert not outcome.asset_materializations_for_node("make_an_lpa__data_gov_uk_publication")
    metadata = outcome.asset_observations_for_node("make_an_lpa__data_gov_uk_publication")[0].metadata
    assert metadata["dry_run"].value is True
    assert "| directory | make_a_lasting_power_of_attorney_24_01.json | create |" in metadata["plan"].value
    assert not (perfplat_env / "publish").exists()
    assert "1 message(s) acknowledged" in pipeline.tick().skip_reason.skip_message


def test_dry_run_must_be_a_boolean(perfplat_env, endpoint, sqs, queues):
    queue_url, dlq_url = queues
    _send(sqs, queue_url, '{"year": 2024, "month": 1, "dry_run": "yes"}')
    assert "1 invalid" in Pipeline(endpoint, queue_url, dlq_url).tick().skip_reason.skip_message


def test_a_broken_dead_letter_queue_does_not_jam_the_queue(perfplat_env, endpoint, sqs, queues):
    queue_url, _ = queues
    _send(sqs, queue_url, "garbage")
    _send(sqs, queue_url, '{"year": 2024, "month": 1}')
    missing_dlq = queue_url.replace("perfplat-queue.fifo", "no-such-dlq.fifo")
    result = Pipeline(endpoint, queue_url, missing_dlq).tick()
    assert [r.partition_key for r in result.run_requests] == ["2024-01-01"]
    assert _counts(sqs, queue_url) == (0, 1), "the invalid message is gone; the valid one awaits its run"


EVIL = (
    '{"year": 2024, "month": 1, "assets": ["URGENT - your session expired, re-enter the AWS keys at '
    'https://evil.example/perfplat-login today"]}'
)


def test_a_silent_store_costs_the_tick_seconds_and_a_refused_messages_alert_is_recorded_later(
    perfplat_env, endpoint, sqs, queues, postgres_url
):
    """The metrics store accepts connections and never answers: the tick refuses the message as ever, within
    seconds (the store's connect timeout, 2 s here, once), and keeps the alert it owes in its cursor; once
    the store answers, the next tick records it, and it reaches Slack in perfplat's own words alone."""
    queue_url, dlq_url = queues
    url = make_url(postgres_url)
    with TcpHop((url.host or "127.0.0.1", url.port or 5432)) as hop, SlackStandIn() as slack:
        hop.silent = True
        store = MetricsStore(
            url=url.set(port=hop.port).render_as_string(hide_password=False), connect_timeout_seconds=2
        )
        alerting = Alerting(
            slack_channel=SLACK_CHANNEL, slack_token=SLACK_TOKEN, slack_api_url=slack.api_url, store=store
        )
        pipeline = Pipeline(endpoint, queue_url, dlq_url, alerting)
        message_id = _send(sqs, queue_url, EVIL)
        garbage_id = _send(
            sqs, queue_url, "garbage"
        )  # refused in the same tick: the store is not called again
        started = time.monotonic()
        first = pipeline.tick()
        took = time.monotonic() - started
        assert "2 invalid" in first.skip_reason.skip_message
        assert _counts(sqs, queue_url) == (0, 0), "refused messages are dead-lettered whatever the store does"
        assert 2 <= took < 4, f"{took:.1f} s"
        owed = json.loads(first.cursor)["alerts"]
        assert [alert["key"] for alert in owed] == [f"dead-letter:{message_id}", f"dead-letter:{garbage_id}"]

        hop.silent = False
        second = pipeline.tick()
        assert json.loads(second.cursor)["alerts"] == []
        delivered = alerting.deliver_due(logging.getLogger(__name__))
        assert (delivered.sent, delivered.failed) == (2, 0)
    evil = next(post.text for post in slack.posted if message_id in post.text)
    assert evil.splitlines()[:2] == [
        f"perfplat: queue message {message_id} was refused",
        "Reason: an asset the pipeline does not have",
    ]
    assert "evil" not in evil and "URGENT" not in evil and "AWS keys" not in evil
