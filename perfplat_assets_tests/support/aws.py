"""moto's AWS on loopback, as the tests and the queue benchmark use it: the region, the S3 bucket the
publication tests write to, and the SQS queue resource the sensor drains. The region and the dummy
credentials are the local stack's own (perfplat_assets.common.sqs)."""

from __future__ import annotations

from perfplat_assets.common.sqs import LOCAL_CREDENTIALS, LOCAL_REGION
from perfplat_assets.queue.resources import SqsQueue

REGION = LOCAL_REGION
BUCKET, PREFIX = "opg-performance-data", "make-an-lpa/"


def sqs_queue(endpoint: str, queue_url: str, dead_letter_queue_url: str | None) -> SqsQueue:
    """The sensor's queue resource on moto's server, with the local stack's dummy credentials."""
    return SqsQueue(
        queue_url=queue_url,
        dead_letter_queue_url=dead_letter_queue_url,
        endpoint_url=endpoint,
        region_name=REGION,
        **LOCAL_CREDENTIALS,
    )
