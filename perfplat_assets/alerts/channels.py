"""Where alerts go: Slack's Web API through slack_sdk, and an SNS topic through boto3.

A channel either delivers an alert or raises `ChannelUnavailable` with a reason a person can act on, which
never holds the token; the caller logs it and tries again on a later tick. Clients fail fast: a sensor tick
has 60 seconds for everything it does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from perfplat_assets.alerts.messages import Alert
from perfplat_assets.common.network import unreachable_cause

TIMEOUT_SECONDS = 10
# SNS takes a subject of fewer than 100 characters, printable ASCII, on one line.
SUBJECT_LENGTH = 99


class ChannelUnavailable(Exception):
    """The channel did not take the alert; the message says why and which setting to check."""


class Channel(Protocol):
    name: str

    def send(self, alert: Alert) -> None: ...


def slack_text(text: str) -> str:
    """Text as Slack shows it literally: `&`, `<` and `>` escaped, so nothing in an alert can mention
    @channel or make a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass(frozen=True)
class SlackChannel:
    """A bot posting to a channel (`chat.postMessage`) with a bot token."""

    channel: str
    token: str = field(repr=False)
    api_url: str
    name: str = "slack"

    def send(self, alert: Alert) -> None:
        from slack_sdk import WebClient
        from slack_sdk.errors import SlackApiError, SlackClientError

        client = WebClient(token=self.token, base_url=self.api_url, timeout=TIMEOUT_SECONDS)
        try:
            client.chat_postMessage(channel=self.channel, text=slack_text(alert.text), unfurl_links=False)
        except SlackApiError as error:
            status = error.response.status_code
            said = error.response.get("error") if isinstance(error.response.data, dict) else None
            raise ChannelUnavailable(
                f"Slack answered {status}"
                + (f" with error {said!r}" if said else "")
                + f" for channel {self.channel}. Check PERFPLAT_ALERT_SLACK_TOKEN (the bot's token, with "
                "chat:write) and PERFPLAT_ALERT_SLACK_CHANNEL (the bot must be in the channel)."
            ) from None
        except (SlackClientError, OSError) as error:
            cause = unreachable_cause(error) or type(error).__name__
            raise ChannelUnavailable(
                f"Slack could not be reached at {self.api_url} ({cause}). Check PERFPLAT_ALERT_SLACK_API_URL "
                "and the network or proxy."
            ) from None


@dataclass(frozen=True)
class SnsChannel:
    """An SNS topic: the standard AWS credential chain, `AWS_ENDPOINT_URL_SNS` honoured (boto3 reads it)."""

    topic_arn: str
    region_name: str | None = None
    name: str = "sns"

    def client(self) -> Any:
        import boto3

        config = Config(
            connect_timeout=5, read_timeout=TIMEOUT_SECONDS, retries={"max_attempts": 2, "mode": "standard"}
        )
        region = self.region_name or _region_of(self.topic_arn)
        return boto3.session.Session().client("sns", region_name=region, config=config)

    def send(self, alert: Alert) -> None:
        subject = "".join(c if " " <= c <= "~" else " " for c in alert.title)[:SUBJECT_LENGTH].strip()
        try:
            self.client().publish(TopicArn=self.topic_arn, Subject=subject, Message=alert.text)
        except ClientError as error:
            raise ChannelUnavailable(
                f"SNS refused the alert for {self.topic_arn}: {error.response['Error'].get('Code')}: "
                f"{error.response['Error'].get('Message')}. Check PERFPLAT_ALERT_SNS_TOPIC_ARN and that "
                "the role may sns:Publish to it."
            ) from None
        except BotoCoreError as error:
            cause = unreachable_cause(error) or error
            raise ChannelUnavailable(
                f"SNS could not be reached for {self.topic_arn} ({cause}). Check AWS_ENDPOINT_URL_SNS, "
                "the region and the network or proxy."
            ) from None


def _region_of(arn: str) -> str | None:
    """The region an ARN names (`arn:aws:sns:eu-west-1:...`)."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else None
