"""SQS clients, built one way for the queue sensor, queuecli and the local stack."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

# A sensor tick has 60 seconds in all, and queuecli has a person waiting: fail fast rather than hang. One try
# per call, at most 3 s to connect and 5 s to read (no call long-polls: WaitTimeSeconds=0), so a call that
# starts inside the queue sensor's 40 s budget ends inside Dagster's 60 s; what failed is tried next tick.
FAIL_FAST = Config(connect_timeout=3, read_timeout=5, retries={"total_max_attempts": 1, "mode": "standard"})

# The local stack (`make localstack`, moto's server), which queuecli talks to when nothing else is set.
LOCAL_REGION = "eu-west-1"
LOCAL_PORT = 4566
# moto takes any credentials: these stand in, on this machine, where none are configured.
LOCAL_CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


def sqs_client(session: boto3.session.Session | None = None, **options: Any) -> Any:
    """An SQS client that fails fast; `options` are boto3's (`region_name`, `endpoint_url`, credentials)."""
    return (session or boto3.session.Session()).client("sqs", config=FAIL_FAST, **options)
