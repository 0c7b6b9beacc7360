"""End to end with `dagster-daemon`: the sensors run as in production, against a real run that fails.

A month is requested on the queue while Sirius is unreachable (a password in its URL), a poison message is
sent, and the publication deadline of the 1st has passed with the month unpublished. Slack (a loopback
stand-in) and SNS (moto, read through an SQS subscription) each receive every alert once, with nothing
secret in it; after the daemon restarts, nothing is sent again.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from dagster import DagsterInstance

from perfplat_assets_tests.support.alerts import SLACK_CHANNEL, SLACK_TOKEN, SlackStandIn, SnsInbox
from perfplat_assets_tests.support.aws import REGION
from perfplat_assets_tests.support.services import BIN, ROOT, poll, stop_group
from perfplat_sample.local_stack import create_queues

PASSWORD = "canary-daemon-pw-93b1"
SIRIUS_URL = f"postgresql://perfplat:{PASSWORD}@127.0.0.1:9/sirius"  # port 9: refused
UI = "http://127.0.0.1:3000"
ALERT_SECONDS = 240  # the bound: within four minutes of the request


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as stand_in:
        yield stand_in


def _daemon(tmp_path: Path, name: str) -> subprocess.Popen:
    with (tmp_path / name).open("wb") as log:
        return subprocess.Popen(
            [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _alert_ticks_after(instance: DagsterInstance, moment: float) -> Callable[[], bool]:
    """The alert sensor finished a tick that started after `moment`."""

    def ticked() -> bool:
        for state in instance.all_instigator_state():
            if state.name == "perfplat_alerts":
                ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id, limit=5)
                return any(t.timestamp > moment and t.status.value != "STARTED" for t in ticks)
        return False

    return ticked


def test_the_daemon_alerts_a_failed_month_a_poison_message_and_a_late_month_once(
    production_home, aws_endpoint, slack, monkeypatch, tmp_path
):
    queue_url, dlq_url = create_queues(aws_endpoint)
    inbox = SnsInbox(aws_endpoint)
    settings = {
        "PERFPLAT_SQS_QUEUE_URL": queue_url,
        "PERFPLAT_SQS_DLQ_URL": dlq_url,
        "PERFPLAT_SQS_SENSOR_INTERVAL_SECONDS": "2",
        "AWS_ENDPOINT_URL_SQS": aws_endpoint,
        "AWS_ENDPOINT_URL_SNS": aws_endpoint,
        "PERFPLAT_SIRIUS_DB_URL": SIRIUS_URL,
        "PERFPLAT_ALERT_SLACK_CHANNEL": SLACK_CHANNEL,
        "PERFPLAT_ALERT_SLACK_TOKEN": SLACK_TOKEN,
        "PERFPLAT_ALERT_SLACK_API_URL": slack.api_url,
        "PERFPLAT_ALERT_SNS_TOPIC_ARN": inbox.topic_arn,
        "PERFPLAT_ALERT_INTERVAL_SECONDS": "5",
        "PERFPLAT_UI_URL": UI,
        "PERFPLAT_PUBLICATION_DEADLINE": "0 11 1 * *",  # the 1st has passed: its month is not published
    }
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    import boto3

    sqs = boto3.client("sqs", endpoint_url=aws_endpoint, region_name=REGION)
    daemon = _daemon(tmp_path, "daemon.log")
    instance = DagsterInstance.get()
    try:
        # Take-up alone, so that the run that fails is one step (every step is a process of its own).
        request = {"year": 2026, "month": 5, "assets": ["digital_take_up"]}
        sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps(request), MessageGroupId="m")
        poison = sqs.send_message(QueueUrl=queue_url, MessageBody='{"year": 2026}', MessageGroupId="p")[
            "MessageId"
        ]
        logs = [tmp_path / "daemon.log"]

        def arrived() -> bool:
            texts = slack.texts()
            return (
                any("failed for 2026-05" in t for t in texts)
                and any(poison in t for t in texts)
                and any("is not published" in t for t in texts)
                and len(inbox.read()) >= 3
            )

        try:
            poll("every alert on Slack and SNS", arrived, ALERT_SECONDS, logs, [daemon])
        except pytest.fail.Exception as timed_out:
            runs = [(run.run_id, run.status.value, dict(run.tags)) for run in instance.get_runs()]
            pytest.fail(f"{timed_out}\nSlack: {slack.texts()}\nSNS: {inbox.read()}\nruns: {runs}")
        stop_group(daemon)
        restarted_at = time.time()
        daemon = _daemon(tmp_path, "daemon-restarted.log")
        poll(
            "the alert sensor to tick after the restart",
            _alert_ticks_after(instance, restarted_at),
            120,
            [tmp_path / "daemon-restarted.log"],
            [daemon],
        )
    finally:
        stop_group(daemon)
        instance.dispose()

    texts, notifications = slack.texts(), inbox.read()
    assert len(texts) == len(notifications) == 3, texts  # once each, restart or not
    assert sorted(n["message"] for n in notifications) == sorted(texts)
    [failure] = [t for t in texts if "failed for 2026-05" in t]
    assert "PERFPLAT_SIRIUS_DB_URL" in failure and f"{UI}/runs/" in failure
    assert "Launched by the sqs_month_requests sensor." in failure
    [refused] = [t for t in texts if poison in t]
    assert "dead-letter queue" in refused and "month" in refused
    everything = (
        "\n".join(texts)
        + json.dumps(notifications)
        + "".join(p.read_text(errors="replace") for p in tmp_path.glob("daemon*.log"))
    )
    assert PASSWORD not in everything and SLACK_TOKEN not in everything
    assert os.environ["PERFPLAT_ALERT_SLACK_TOKEN"] == SLACK_TOKEN  # the canary was really configured
