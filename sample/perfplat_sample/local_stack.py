"""The local stack: a Docker-free AWS endpoint (moto's server) with perfplat's queues, optionally with
`dagster dev` wired to it. `make localstack` runs the endpoint alone; `make dev` runs both.

Ctrl-C stops everything it started.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from perfplat_assets.common.sqs import LOCAL_CREDENTIALS, LOCAL_PORT, LOCAL_REGION, sqs_client

QUEUE_NAME = "perfplat-queue.fifo"
DEAD_LETTER_QUEUE_NAME = "perfplat-queue-dlq.fifo"
ALERT_TOPIC_NAME = "perfplat-alerts"  # an SNS topic to point PERFPLAT_ALERT_SNS_TOPIC_ARN at, to try alerts
# After this many receives without a delete, SQS itself dead-letters a message: the last guard against a
# message that can never be handled jamming its FIFO group, well above the few receives a valid message
# sees (a tick, a preview, a redelivery).
MAX_RECEIVES = 20


def start_endpoint(host: str, port: int) -> Any:
    """moto's server on a thread of this process; `.stop()` ends it."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # not a line per request
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    return server


def create_queues(endpoint: str, visibility_timeout: int = 90) -> tuple[str, str]:
    """The queue as the original component's local stack made it, plus its dead-letter queue."""
    sqs = sqs_client(endpoint_url=endpoint, region_name=LOCAL_REGION, **LOCAL_CREDENTIALS)
    fifo = {"FifoQueue": "true", "ContentBasedDeduplication": "true"}
    dlq_url = sqs.create_queue(QueueName=DEAD_LETTER_QUEUE_NAME, Attributes=fifo)["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)})
    queue_url = sqs.create_queue(
        QueueName=QUEUE_NAME,
        Attributes={**fifo, "VisibilityTimeout": str(visibility_timeout), "RedrivePolicy": redrive},
    )["QueueUrl"]
    return queue_url, dlq_url


def create_alert_topic(endpoint: str) -> str:
    """The SNS topic alerts can be sent to on the local stack (alerts stay off until it is configured)."""
    import boto3

    sns = boto3.client("sns", endpoint_url=endpoint, region_name=LOCAL_REGION, **LOCAL_CREDENTIALS)
    return str(sns.create_topic(Name=ALERT_TOPIC_NAME)["TopicArn"])


def stack_environment(endpoint: str, queue_url: str, dlq_url: str) -> dict[str, str]:
    """What the code location and queuecli need to use the local stack."""
    return {
        "AWS_ENDPOINT_URL_SQS": endpoint,
        "AWS_ENDPOINT_URL_SNS": endpoint,
        "AWS_REGION": LOCAL_REGION,
        "AWS_DEFAULT_REGION": LOCAL_REGION,
        "AWS_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID", LOCAL_CREDENTIALS["aws_access_key_id"]),
        "AWS_SECRET_ACCESS_KEY": os.environ.get(
            "AWS_SECRET_ACCESS_KEY", LOCAL_CREDENTIALS["aws_secret_access_key"]
        ),
        "PERFPLAT_SQS_QUEUE_URL": queue_url,
        "PERFPLAT_SQS_DLQ_URL": dlq_url,
        "NO_PROXY": "127.0.0.1,localhost",
    }


def group_alive(pgid: int) -> bool:
    """Whether any process of the group is still running."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _stop(process: subprocess.Popen[bytes], grace_seconds: float = 60.0) -> None:
    """SIGINT to the whole process group (dagster dev, its webserver, daemon and code server), then
    SIGKILL to whatever is left after a deadline; returns once none of them is running."""
    if group_alive(process.pid):
        os.killpg(process.pid, signal.SIGINT)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline:
        process.poll()  # reap dagster dev itself, so that the group can empty
        if not group_alive(process.pid):
            return
        time.sleep(0.2)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--port", type=int, default=LOCAL_PORT, help=f"AWS endpoint port (default {LOCAL_PORT})"
    )
    parser.add_argument(
        "--with-dagster", action="store_true", help="also run `dagster dev` wired to the stack"
    )
    parser.add_argument("--dagster-port", type=int, default=3000, help="Dagster UI port (default 3000)")
    parser.add_argument(
        "--create-queues-at", metavar="URL", help="only create the queues at this running endpoint, then exit"
    )
    options = parser.parse_args(argv)
    if options.create_queues_at:  # docker-compose: the endpoint runs in its own container
        queue_url, dlq_url = create_queues(options.create_queues_at)
        print(f"created {queue_url} and {dlq_url}", flush=True)
        return 0

    server = start_endpoint(options.host, options.port)
    endpoint = f"http://{options.host}:{options.port}"
    queue_url, dlq_url = create_queues(endpoint)
    topic_arn = create_alert_topic(endpoint)
    environment = stack_environment(endpoint, queue_url, dlq_url)
    print(f"local AWS endpoint on {endpoint}: {QUEUE_NAME} and {DEAD_LETTER_QUEUE_NAME} ready", flush=True)
    print("environment for the code location and queuecli:", flush=True)
    for name, value in environment.items():
        print(f"  export {name}={value}", flush=True)
    print(f"to try alerts on SNS, set PERFPLAT_ALERT_SNS_TOPIC_ARN={topic_arn} before starting", flush=True)

    dagster: subprocess.Popen[bytes] | None = None
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        if options.with_dagster:
            workspace = Path.cwd() / "workspace.yaml"
            dagster_cli = str(Path(sys.executable).parent / "dagster")
            command = [dagster_cli, "dev", "-w", str(workspace), "-p", str(options.dagster_port)]
            dagster = subprocess.Popen(command, env={**os.environ, **environment}, start_new_session=True)
            print(f"dagster dev on http://127.0.0.1:{options.dagster_port} (pid {dagster.pid})", flush=True)
        print("Ctrl-C stops everything.", flush=True)
        while not stopping and (dagster is None or dagster.poll() is None):
            time.sleep(0.5)
    finally:
        if dagster is not None:
            _stop(dagster)
        server.stop()
        print("local stack stopped", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
