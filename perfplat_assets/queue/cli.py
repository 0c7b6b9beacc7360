"""`queuecli <queue> {list|check|send} [--payload JSON]`: the original component's queue tool, kept as it was.

With no endpoint configured it talks to the local stack (`make localstack` / `make dev`) on
http://localhost:4566, region eu-west-1; `--endpoint-url` or `AWS_ENDPOINT_URL_SQS` point it elsewhere.
Credentials come from the standard AWS chain, with dummy ones for an endpoint on this machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import BotoCoreError, ClientError

from perfplat_assets.common.months import Month, last_closed_month
from perfplat_assets.common.network import is_loopback, server_error_status, unreachable_cause
from perfplat_assets.common.sqs import LOCAL_CREDENTIALS, LOCAL_PORT, LOCAL_REGION, sqs_client
from perfplat_assets.queue.messages import InvalidMessage, parse_message
from perfplat_assets.queue.sensor import pipeline_keys
from perfplat_assets.services.registry import services

LOCAL_ENDPOINT = f"http://localhost:{LOCAL_PORT}"


class CliError(Exception):
    """Printed as it is, with a non-zero exit."""


def _client(endpoint_url: str | None) -> tuple[Any, str]:
    """The client, and the endpoint it talks to, which every message names."""
    endpoint = (
        endpoint_url
        or os.environ.get("AWS_ENDPOINT_URL_SQS")
        or os.environ.get("AWS_ENDPOINT_URL")
        or LOCAL_ENDPOINT
    )
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or LOCAL_REGION
    credentials: dict[str, str] = {}
    if is_loopback(urlsplit(endpoint).hostname) and not os.environ.get("AWS_ACCESS_KEY_ID"):
        credentials = LOCAL_CREDENTIALS  # a local stack takes any credentials
    return sqs_client(endpoint_url=endpoint, region_name=region, **credentials), endpoint


def _queue_url(client: Any, name: str, endpoint: str) -> str:
    try:
        return client.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as error:
        if "NonExistentQueue" in str(error) or "QueueDoesNotExist" in str(error):
            raise CliError(
                f"queue {name} does not exist at {endpoint}; `queuecli {name} list` shows the queues there"
            ) from None
        raise


def default_payload() -> dict[str, int]:
    """The month that just closed: the current month is never published, so asking for it is refused."""
    month = last_closed_month()
    return {"year": month.first_day.year, "month": month.first_day.month}


def command_list(client: Any, queue: str, endpoint: str) -> None:
    urls = client.list_queues().get("QueueUrls", [])
    print(f"{len(urls)} queue(s) at {endpoint}")
    for url in urls:
        print(f"  {url.rsplit('/', 1)[-1]}\t{url}")


def command_check(client: Any, queue: str, endpoint: str) -> None:
    url = _queue_url(client, queue, endpoint)
    attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    print(f"queue {queue} exists at {url}")
    print(f"  visible messages:   {attributes.get('ApproximateNumberOfMessages', '?')}")
    print(f"  in-flight messages: {attributes.get('ApproximateNumberOfMessagesNotVisible', '?')}")
    fifo, visibility = attributes.get("FifoQueue", "false"), attributes.get("VisibilityTimeout")
    print(f"  FIFO: {fifo}, visibility timeout: {visibility}s")


def range_payload(first: str, last: str) -> dict[str, dict[str, int]]:
    """`{"from": {...}, "to": {...}}` for `--from 2021-03 --to 2026-10`: one run over the months."""
    try:
        ends = [Month.parse(first), Month.parse(last)]
    except ValueError as error:
        raise CliError(f"--from and --to are months such as 2021-03: {error}") from None
    return {
        end: {"year": month.first_day.year, "month": month.first_day.month}
        for end, month in zip(("from", "to"), ends, strict=True)
    }


def command_send(
    client: Any, queue: str, endpoint: str, payload: str | None, group_id: str | None = None
) -> None:
    """Each month goes in its own message group (order matters only within a month), unless told."""
    body = payload if payload is not None else json.dumps(default_payload())
    try:
        request = parse_message(
            body,
            asset_names=[key.to_user_string() for service in services() for key in pipeline_keys(service)],
            last_closed=last_closed_month(),
            services={service.service: service.name for service in services()},
        )
    except InvalidMessage as reason:
        raise CliError(f"payload refused, nothing sent: {reason}") from None
    url = _queue_url(client, queue, endpoint)
    params: dict[str, Any] = {"QueueUrl": url, "MessageBody": body}
    if url.endswith(".fifo"):
        params["MessageGroupId"] = group_id or request.label
        attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=["ContentBasedDeduplication"])
        if attributes["Attributes"].get("ContentBasedDeduplication") != "true":
            params["MessageDeduplicationId"] = hashlib.sha256(body.encode()).hexdigest()
    response = client.send_message(**params)
    print(f"sent {body} for {request.label} to {queue}: MessageId {response['MessageId']}")


def _parser() -> argparse.ArgumentParser:
    """The command line, kept apart from what it does."""
    parser = argparse.ArgumentParser(
        prog="queuecli", description="Look at perfplat's queue and send it months."
    )
    parser.add_argument("queue", help="queue name, e.g. perfplat-queue.fifo")
    parser.add_argument("command", choices=("list", "check", "send"))
    parser.add_argument(
        "--payload", help='JSON body, e.g. \'{"year": 2024, "month": 1}\' (default: last month)'
    )
    parser.add_argument("--from", dest="first", help="first month of a range, e.g. 2021-03 (with --to)")
    parser.add_argument("--to", dest="last", help="last month of a range, e.g. 2026-10 (with --from)")
    parser.add_argument("--group-id", help="FIFO message group (default: the month, e.g. 2024-01)")
    parser.add_argument(
        "--endpoint-url", help=f"SQS endpoint (default: AWS_ENDPOINT_URL_SQS, else {LOCAL_ENDPOINT})"
    )
    return parser


def _run(client: Any, endpoint: str, options: argparse.Namespace) -> None:
    """The chosen command; its failures are left to `main`, which says them the same way for all three."""
    if options.command == "list":
        command_list(client, options.queue, endpoint)
    elif options.command == "check":
        command_check(client, options.queue, endpoint)
    else:
        payload = options.payload
        if options.first:
            payload = json.dumps(range_payload(options.first, options.last))
        command_send(client, options.queue, endpoint, payload, options.group_id)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    options = parser.parse_args(argv)
    if (options.first is None) != (options.last is None) or (options.first and options.payload):
        parser.error("--from and --to go together, instead of --payload")
    client, endpoint = _client(options.endpoint_url)
    try:
        _run(client, endpoint, options)
    except CliError as error:
        print(f"queuecli: {error}", file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as error:
        print(f"queuecli: {_failure(endpoint, error)}", file=sys.stderr)
        return 2
    return 0


def _failure(endpoint: str, error: BotoCoreError | ClientError) -> str:
    """SQS never reached (and what to check: the local stack, when the endpoint is this machine), or SQS's
    own answer."""
    cause = unreachable_cause(error)
    if cause is not None:
        local = (
            "is the local stack running (make localstack)? Otherwise check"
            if is_loopback(urlsplit(endpoint).hostname)
            else "check"
        )
        return (
            f"cannot reach SQS at {endpoint}: {cause}; {local} the network, proxy or endpoint setting "
            "(--endpoint-url or AWS_ENDPOINT_URL_SQS)"
        )
    if server_error_status(error):
        return f"SQS at {endpoint} answered with a server error: {error}; try again later"
    if isinstance(error, ClientError):
        return f"SQS at {endpoint} refused: {error}"
    return f"SQS at {endpoint} failed: {error}"


if __name__ == "__main__":
    raise SystemExit(main())
