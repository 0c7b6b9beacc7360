"""Where alerts go: Slack's Web API through slack_sdk, and an SNS topic through boto3.

A channel either delivers an alert or raises `ChannelUnavailable` saying what the failure is (`Kind`: the
service rate-limiting perfplat, its own error, a credential refused, a setting that names no channel, this
alert refused, the service never reached) and what to fix, in a sentence that never holds the token. The
caller records it and tries again on a later tick. Each attempt is bounded by the `timeout` its sender is
made with: one try, no retry inside the client, connecting and reading each within half of it, so that an
attempt never outlasts what is left of a sensor tick.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any, Protocol

from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from perfplat_assets.alerts.messages import Alert
from perfplat_assets.common.network import unreachable_cause

# SNS takes a subject of fewer than 100 characters, printable ASCII, on one line.
SUBJECT_LENGTH = 99
SAID_LENGTH = 60  # of a service's error code or message, repeated in perfplat's own sentence


class Kind(Enum):
    """What a failed delivery was: each but `ALERT_REFUSED` is the channel's, not the alert's, and stops the
    channel for the rest of the tick."""

    RATE_LIMITED = "rate-limited"  # the service asked perfplat to wait: not an attempt that failed
    SERVICE_ERROR = "the service's own error"  # a 5xx, Slack's internal_error, no answer in time
    CREDENTIAL = "credential refused"  # the token, the AWS credentials or the role's rights
    REFUSED = "refused as configured"  # no such Slack channel or SNS topic, the bot not in the channel
    UNREACHABLE = "not reached"  # DNS, a refused connection, TLS, a proxy
    ALERT_REFUSED = "this alert refused"  # too long, say: the channel takes the others


class ChannelUnavailable(Exception):
    """The channel did not take the alert: the message says why and what to fix; `kind` what it was;
    `retry_after` the seconds a rate-limiting service asked for (None: it did not say)."""

    def __init__(self, message: str, kind: Kind, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after


Sender = Callable[[Alert], None]


class Channel(Protocol):
    name: str

    def sender(self, timeout: float) -> Sender:
        """A function that delivers one alert within `timeout` seconds or raises `ChannelUnavailable`."""
        ...


def slack_text(text: str) -> str:
    """Text as Slack shows it literally: `&`, `<` and `>` escaped, so nothing in an alert can mention
    @channel or make a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def retry_after(headers: Mapping[str, Any], now: datetime | None = None) -> float | None:
    """The seconds a `Retry-After` header asks for: a number of seconds, or an HTTP date; None when there
    is none or it says neither."""
    value = next((str(v) for k, v in headers.items() if k.lower() == "retry-after"), "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds) if seconds == seconds else None  # NaN says nothing


def _said(value: object) -> str:
    """A service's own word, short and quoted: it goes into perfplat's sentence, not the other way round."""
    return repr(" ".join(str(value).split())[:SAID_LENGTH])


# Slack's `error` values (chat.postMessage), by what they mean for perfplat.
_SLACK_CREDENTIAL = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "no_permission",
    "missing_scope",
    "not_allowed_token_type",
    "ekm_access_denied",
}
_SLACK_CHANNEL = {
    "channel_not_found",
    "not_in_channel",
    "is_archived",
    "restricted_action",
    "restricted_action_read_only_channel",
    "restricted_action_thread_only_channel",
    "restricted_action_non_threadable_channel",
    "team_access_not_granted",
}
_SLACK_ALERT = {"msg_too_long", "no_text", "too_many_attachments", "invalid_blocks", "invalid_arguments"}


@dataclass(frozen=True)
class SlackChannel:
    """A bot posting to a channel (`chat.postMessage`) with a bot token."""

    channel: str
    token: str = field(repr=False)
    api_url: str
    name: str = "slack"

    def sender(self, timeout: float) -> Sender:
        from slack_sdk import WebClient

        # No retry handler: a failed post is tried again on a later tick, within that tick's budget.
        client = WebClient(token=self.token, base_url=self.api_url, timeout=timeout / 2, retry_handlers=[])
        return lambda alert: self._post(client, alert, timeout)

    def _post(self, client: Any, alert: Alert, timeout: float) -> None:
        from slack_sdk.errors import SlackApiError, SlackClientError

        try:
            client.chat_postMessage(channel=self.channel, text=slack_text(alert.text), unfurl_links=False)
        except SlackApiError as error:
            raise self._answered(error.response) from None
        except (SlackClientError, OSError) as error:
            cause = unreachable_cause(error)
            raise _unreached(
                "Slack",
                f"at {self.api_url}",
                None if cause is None and isinstance(error, TimeoutError) else cause or type(error).__name__,
                timeout,
                "PERFPLAT_ALERT_SLACK_API_URL and the network or proxy",
            ) from None

    def _answered(self, response: Any) -> ChannelUnavailable:
        """Slack's answer to a post it did not take, as what it is."""
        status = response.status_code
        error = response.data.get("error") if isinstance(response.data, dict) else None
        answer = f"HTTP {status}" + (f", error {_said(error)}" if error else "")
        if status == 429 or error == "ratelimited":
            wait = retry_after(response.headers or {})
            asked = f"Retry-After {wait:.0f} s" if wait is not None else "no Retry-After"
            return ChannelUnavailable(
                f"Slack is rate-limiting perfplat's posts ({answer}, {asked}).", Kind.RATE_LIMITED, wait
            )
        if error in _SLACK_CREDENTIAL:
            return ChannelUnavailable(
                f"Slack refused the bot token ({answer}): renew PERFPLAT_ALERT_SLACK_TOKEN (a bot token "
                "with chat:write).",
                Kind.CREDENTIAL,
            )
        if error in _SLACK_CHANNEL:
            return ChannelUnavailable(
                f"Slack cannot post to {self.channel} ({answer}): check PERFPLAT_ALERT_SLACK_CHANNEL and "
                "that the bot is in the channel.",
                Kind.REFUSED,
            )
        if error in _SLACK_ALERT:
            return ChannelUnavailable(
                f"Slack refused this alert ({answer}); the channel takes the others.", Kind.ALERT_REFUSED
            )
        return ChannelUnavailable(
            f"Slack failed with its own error ({answer}): nothing in perfplat's settings causes this.",
            Kind.SERVICE_ERROR,
        )


_SNS_THROTTLED = {"Throttling", "ThrottlingException", "ThrottledException", "RequestLimitExceeded"}
_SNS_CREDENTIAL = {
    "AuthorizationError",
    "AccessDenied",
    "AccessDeniedException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "MissingAuthenticationToken",
    "ExpiredToken",
    "ExpiredTokenException",
    "KMSAccessDenied",
    "KMSDisabled",
}
_SNS_NO_TOPIC = {"NotFound", "NotFoundException"}
_SNS_ALERT = {"InvalidParameter", "InvalidParameterValue", "ParameterValueInvalid"}


@dataclass(frozen=True)
class SnsChannel:
    """An SNS topic: the standard AWS credential chain, `AWS_ENDPOINT_URL_SNS` honoured (boto3 reads it)."""

    topic_arn: str
    region_name: str | None = None
    name: str = "sns"

    def client(self, timeout: float) -> Any:
        import boto3

        config = Config(
            connect_timeout=timeout / 2,
            read_timeout=timeout / 2,
            retries={"total_max_attempts": 1, "mode": "standard"},  # tried again on a later tick
        )
        region = self.region_name or _region_of(self.topic_arn)
        return boto3.session.Session().client("sns", region_name=region, config=config)

    def sender(self, timeout: float) -> Sender:
        client = self.client(timeout)
        return lambda alert: self._publish(client, alert, timeout)

    def _publish(self, client: Any, alert: Alert, timeout: float) -> None:
        subject = "".join(c if " " <= c <= "~" else " " for c in alert.title)[:SUBJECT_LENGTH].strip()
        try:
            client.publish(TopicArn=self.topic_arn, Subject=subject, Message=alert.text)
        except ClientError as error:
            raise self._answered(error) from None
        except (NoCredentialsError, PartialCredentialsError):
            raise ChannelUnavailable(
                f"No AWS credentials were found to publish to {self.topic_arn}: give the role (or the "
                "environment) credentials that may sns:Publish to it.",
                Kind.CREDENTIAL,
            ) from None
        except ParamValidationError as error:
            raise ChannelUnavailable(
                f"SNS cannot take this alert ({_said(error)}); the topic takes the others.",
                Kind.ALERT_REFUSED,
            ) from None
        except BotoCoreError as error:
            cause = unreachable_cause(error)
            raise _unreached(
                "SNS",
                f"for {self.topic_arn}",
                None if cause is None and isinstance(error, ReadTimeoutError) else cause or _said(error),
                timeout,
                "AWS_ENDPOINT_URL_SNS, the region and the network or proxy",
            ) from None

    def _answered(self, error: ClientError) -> ChannelUnavailable:
        """SNS's answer to a publish it did not take, as what it is."""
        code = str(error.response.get("Error", {}).get("Code") or "")
        message = str(error.response.get("Error", {}).get("Message") or "").rstrip(". ")
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        answer = f"HTTP {status} {code}" + (f": {_said(message)}" if message else "")
        if code in _SNS_THROTTLED or status == 429:
            return ChannelUnavailable(
                f"SNS is throttling perfplat's publishes ({answer}).", Kind.RATE_LIMITED
            )
        if code in _SNS_CREDENTIAL:
            return ChannelUnavailable(
                f"SNS refused perfplat's credentials for {self.topic_arn} ({answer}): give the role "
                "sns:Publish on the topic (and its KMS key's use, if encrypted), or renew the credentials.",
                Kind.CREDENTIAL,
            )
        if code in _SNS_NO_TOPIC or (code in _SNS_ALERT and "topic" in message.lower()):
            return ChannelUnavailable(
                f"SNS refused the alert: there is no topic {self.topic_arn} ({answer}); check "
                "PERFPLAT_ALERT_SNS_TOPIC_ARN and its region.",
                Kind.REFUSED,
            )
        if code in _SNS_ALERT:
            return ChannelUnavailable(
                f"SNS refused this alert ({answer}); the topic takes the others.", Kind.ALERT_REFUSED
            )
        if isinstance(status, int) and status >= 500:
            return ChannelUnavailable(
                f"SNS failed with its own error for {self.topic_arn} ({answer}): nothing in perfplat's "
                "settings causes this.",
                Kind.SERVICE_ERROR,
            )
        return ChannelUnavailable(
            f"SNS refused the alert for {self.topic_arn} ({answer}): check PERFPLAT_ALERT_SNS_TOPIC_ARN and "
            "that the role may sns:Publish to it.",
            Kind.REFUSED,
        )


def _region_of(arn: str) -> str | None:
    """The region an ARN names (`arn:aws:sns:eu-west-1:...`)."""
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 and parts[3] else None


def _unreached(service: str, where: str, cause: str | None, timeout: float, check: str) -> ChannelUnavailable:
    """A channel that did not answer within the attempt's read timeout (half its bound: the service is slow
    or down; `cause` None) or could not be reached (`cause`: a setting, the network or a proxy)."""
    if cause is None:
        return ChannelUnavailable(
            f"{service} did not answer {where} within {timeout / 2:.3g} s: it is slow or down, nothing in "
            "perfplat's settings causes this.",
            Kind.SERVICE_ERROR,
        )
    return ChannelUnavailable(
        f"{service} could not be reached {where} ({cause}): check {check}.", Kind.UNREACHABLE
    )
