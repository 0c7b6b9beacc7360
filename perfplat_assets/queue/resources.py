"""The queue, through boto3 configured the dagster-aws way (region, endpoint, standard credentials)."""

from typing import Any

import boto3
from dagster_aws.utils import ResourceWithBoto3Configuration
from pydantic import Field

from perfplat_assets.common.sqs import sqs_client


class SqsQueue(ResourceWithBoto3Configuration):
    """`perfplat-queue.fifo` or whichever queue is configured, by URL or by name."""

    queue_url: str | None = Field(default=None, description="Queue URL (PERFPLAT_SQS_QUEUE_URL).")
    queue_name: str | None = Field(
        default=None, description="Queue name, looked up (PERFPLAT_SQS_QUEUE_NAME)."
    )
    dead_letter_queue_url: str | None = Field(
        default=None, description="Where invalid messages go (PERFPLAT_SQS_DLQ_URL); unset: they are deleted."
    )
    tick_budget_seconds: float = Field(
        default=40.0,
        description="How long a sensor tick keeps receiving, within Dagster's 60-second sensor deadline.",
    )

    @property
    def configured(self) -> bool:
        return bool(self.queue_url or self.queue_name)

    def client(self) -> Any:
        """A client that fails fast: a sensor tick has 60 seconds in all."""
        return sqs_client(
            boto3.session.Session(profile_name=self.profile_name),
            region_name=self.region_name,
            endpoint_url=self.endpoint_url,
            use_ssl=self.use_ssl,
            verify=self.verify,
            aws_access_key_id=self.aws_access_key_id,
            aws_secret_access_key=self.aws_secret_access_key,
            aws_session_token=self.aws_session_token,
        )

    def resolve_url(self, client: Any) -> str:
        if self.queue_url:
            return self.queue_url
        return client.get_queue_url(QueueName=self.queue_name)["QueueUrl"]

    def describe(self, client: Any) -> str:
        """For messages: the queue and the endpoint, never a credential."""
        return f"queue {self.queue_url or self.queue_name} at {client.meta.endpoint_url}"
