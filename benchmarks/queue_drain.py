"""Queue benchmark: 1,000 month requests over 60 months on moto's SQS server, drained by the real sensor.

Messages are sent as `queuecli` sends them (each month in its own FIFO message group), each with its own
deduplication id. Each tick runs the sensor on a real (ephemeral) Dagster instance; every run it requests is
recorded there as the daemon records it (NOT_STARTED, with the request's tags), and nothing starts them, so
later messages for a month find its run waiting. The benchmark reports the ticks until the queue is empty,
the runs created, and the seconds each tick took (Dagster's sensor deadline is 60 s).

    .venv/bin/python benchmarks/queue_drain.py [--messages 1000] [--months 60]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import uuid

from dagster import DagsterInstance, DagsterRunStatus, SensorResult, build_sensor_context
from dagster._core.storage.dagster_run import DagsterRun
from dagster._core.utils import make_new_run_id

from perfplat_assets.common.months import last_closed_month
from perfplat_assets.common.sqs import LOCAL_CREDENTIALS, sqs_client
from perfplat_assets.definitions import services
from perfplat_assets.queue.sensor import build_queue_sensor
from perfplat_assets_tests.support.alerts import NO_ALERT_CHANNELS
from perfplat_assets_tests.support.aws import REGION, sqs_queue
from perfplat_sample.local_stack import create_queues, start_endpoint

MAX_TICKS = 10


def _send(sqs, url: str, messages: int, months: int) -> None:
    closed = last_closed_month()
    labels = [closed]
    while len(labels) < months:
        labels.insert(0, labels[0].previous())
    entries = []
    for number in range(messages):
        month = labels[number % months]
        entries.append(
            {
                "Id": str(number),
                "MessageBody": json.dumps({"year": month.first_day.year, "month": month.first_day.month}),
                "MessageGroupId": month.label,
                "MessageDeduplicationId": uuid.uuid4().hex,
            }
        )
    for start in range(0, len(entries), 10):
        sqs.send_message_batch(QueueUrl=url, Entries=entries[start : start + 10])


def _left(sqs, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--months", type=int, default=60)
    options = parser.parse_args(argv)
    server = start_endpoint("127.0.0.1", 0)
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        queue_url, dlq_url = create_queues(endpoint)
        sqs = sqs_client(endpoint_url=endpoint, region_name=REGION, **LOCAL_CREDENTIALS)
        _send(sqs, queue_url, options.messages, options.months)
        queue = sqs_queue(endpoint, queue_url, dlq_url)
        sensor = build_queue_sensor(services, running=True, interval_seconds=30)
        instance = DagsterInstance.ephemeral()
        cursor, runs, seconds = None, 0, []
        print(f"{options.messages} messages over {options.months} months on moto's SQS, on {platform.node()}")
        print(f"{'tick':>4} {'runs requested':>15} {'left on queue':>14} {'seconds':>8}")
        for tick in range(1, MAX_TICKS + 1):
            started = time.perf_counter()
            resources = {"sqs_queue": queue, "alerting": NO_ALERT_CHANNELS}
            with build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
                result = sensor(context)
            seconds.append(time.perf_counter() - started)
            assert isinstance(result, SensorResult)
            cursor = result.cursor
            for request in result.run_requests or []:
                instance.add_run(
                    DagsterRun(
                        job_name="__ASSET_JOB",
                        run_id=make_new_run_id(),
                        tags=request.tags,
                        status=DagsterRunStatus.NOT_STARTED,
                    )
                )
            runs += len(result.run_requests or [])
            left = _left(sqs, queue_url)
            print(f"{tick:>4} {len(result.run_requests or []):>15} {left:>14} {seconds[-1]:>8.2f}")
            if left == 0:
                break
        slowest = max(seconds)
        print(
            f"drained in {tick} ticks: {runs} runs for {options.months} months; slowest tick {slowest:.2f} s"
        )
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
