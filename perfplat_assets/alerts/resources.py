"""The alert channels perfplat is configured with, and the record of what it sent on each.

An alert is first written down (`raise_alert`: one row per channel in the metrics store's
`alert_deliveries`), then delivered by the alert sensor (`deliver_due`). The row makes each alert once-only
per channel across daemon restarts, and lets a channel that failed be tried again on later ticks, at most
`MAX_ATTEMPTS` times. Nothing here raises to its caller: alerting never fails a run or a sensor.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from dagster import ConfigurableResource
from pydantic import Field
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from perfplat_assets.alerts.channels import Channel, ChannelUnavailable, SlackChannel, SnsChannel
from perfplat_assets.alerts.messages import Alert, known_secrets, without_secrets
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.metrics_store.tables import alert_deliveries

SLACK_API_URL = "https://slack.com/api/"
MAX_ATTEMPTS = 5  # ticks on which an undelivered alert is tried; then it is logged as given up
DELIVERY_SECONDS = 40.0  # of a sensor tick's 60: what is not tried by then waits for the next tick
DUE_PER_TICK = 100
ERROR_LENGTH = 1000


class Log(Protocol):
    def info(self, msg: str) -> Any: ...
    def warning(self, msg: str) -> Any: ...
    def error(self, msg: str) -> Any: ...


class Alerting(ConfigurableResource):
    """Slack, SNS, both or neither; the Dagster UI's address for links; where deliveries are recorded."""

    slack_channel: str | None = Field(default=None, description="PERFPLAT_ALERT_SLACK_CHANNEL")
    slack_token: str | None = Field(default=None, description="PERFPLAT_ALERT_SLACK_TOKEN (an EnvVar)")
    slack_api_url: str = Field(default=SLACK_API_URL, description="PERFPLAT_ALERT_SLACK_API_URL")
    sns_topic_arn: str | None = Field(default=None, description="PERFPLAT_ALERT_SNS_TOPIC_ARN")
    ui_url: str | None = Field(default=None, description="PERFPLAT_UI_URL")
    store: MetricsStore

    def channels(self) -> list[Channel]:
        found: list[Channel] = []
        if self.slack_channel and self.slack_token:
            found.append(SlackChannel(self.slack_channel, self.slack_token, self.slack_api_url))
        if self.sns_topic_arn:
            found.append(SnsChannel(self.sns_topic_arn))
        return found

    @property
    def configured(self) -> bool:
        return bool((self.slack_channel and self.slack_token) or self.sns_topic_arn)

    def secrets(self) -> set[str]:
        """What no alert, log line or recorded error may hold: the environment's secrets and the token."""
        return known_secrets(os.environ) | ({self.slack_token} if self.slack_token else set())

    def run_url(self, run_id: str) -> str | None:
        return f"{self.ui_url.rstrip('/')}/runs/{run_id}" if self.ui_url else None

    def asset_url(self, asset: str, tab: str = "") -> str | None:
        suffix = f"?view={tab}" if tab else ""
        return f"{self.ui_url.rstrip('/')}/assets/{asset}{suffix}" if self.ui_url else None

    def raise_alert(self, alert: Alert, log: Log) -> bool:
        """Record the alert as owed on every channel, unless it already is; never raises. True when it is
        on record (now or from before, or there is no channel to owe it to); False when the store could
        not record it, so that the caller looks at it again next tick."""
        if not self.configured:
            return True
        secrets = self.secrets()
        title, body = (without_secrets(text, secrets) for text in (alert.title, alert.body))
        now = datetime.now(UTC)
        try:
            with self.store.transaction() as connection:
                owed = set(
                    connection.execute(
                        select(alert_deliveries.c.channel).where(alert_deliveries.c.alert_key == alert.key)
                    ).scalars()
                )
                rows = [
                    {
                        "alert_key": alert.key,
                        "channel": channel.name,
                        "title": title,
                        "body": body,
                        "created_at": now,
                        "attempts": 0,
                    }
                    for channel in self.channels()
                    if channel.name not in owed
                ]
                if rows:
                    connection.execute(insert(alert_deliveries), rows)
        except IntegrityError:
            return True  # another sensor recorded it first
        except Exception as error:
            log.error(
                f"could not record alert {alert.key} (looked at again next tick): {_said(error, secrets)}"
            )
            return False
        return True

    def deliver_due(self, log: Log, budget_seconds: float = DELIVERY_SECONDS) -> dict[str, int]:
        """Send every recorded alert not yet delivered on its channel and tried fewer than MAX_ATTEMPTS
        times, within `budget_seconds` (a sensor tick has 60 in all). Each attempt is claimed in the store
        before it is made, so two ticks never send one alert twice and every attempt counts; a channel that
        fails is not tried again in the same tick, and holds up no other. Never raises."""
        secrets = self.secrets()
        counts = {"sent": 0, "failed": 0}
        try:
            due = self._due()
        except Exception as error:
            log.error(f"could not read the alerts owed: {_said(error, secrets)}")
            return counts
        channels = {channel.name: channel for channel in self.channels()}
        failing: set[str] = set()
        deadline = time.monotonic() + budget_seconds
        for row in due:
            channel = channels.get(row["channel"])
            if channel is None or row["channel"] in failing or time.monotonic() > deadline:
                continue  # a channel no longer configured, one that failed this tick, or the tick is spent
            if not self._claim(row, log):
                continue  # another tick has it
            try:
                channel.send(Alert(row["alert_key"], row["title"], row["body"]))
            except Exception as error:
                counts["failed"] += 1
                failing.add(row["channel"])
                said = _said(error, secrets)
                self._note(
                    row,
                    None,
                    said if isinstance(error, ChannelUnavailable) else f"{type(error).__name__}: {said}",
                    log,
                )
            else:
                counts["sent"] += 1
                self._note(row, datetime.now(UTC), None, log)
        return counts

    def _due(self) -> Sequence[Any]:
        query = (
            select(alert_deliveries)
            .where(alert_deliveries.c.sent_at.is_(None), alert_deliveries.c.attempts < MAX_ATTEMPTS)
            .order_by(alert_deliveries.c.created_at, alert_deliveries.c.alert_key)
            .limit(DUE_PER_TICK)
        )
        with self.store.transaction() as connection:
            return list(connection.execute(query).mappings().all())

    @staticmethod
    def _row(row: Any) -> Any:
        return (alert_deliveries.c.alert_key == row["alert_key"]) & (
            alert_deliveries.c.channel == row["channel"]
        )

    def _claim(self, row: Any, log: Log) -> bool:
        """Count the attempt before making it, if no other tick has since: True when this one may send."""
        try:
            with self.store.transaction() as connection:
                claimed = connection.execute(
                    update(alert_deliveries)
                    .where(
                        self._row(row),
                        alert_deliveries.c.sent_at.is_(None),
                        alert_deliveries.c.attempts == row["attempts"],
                    )
                    .values(attempts=row["attempts"] + 1)
                ).rowcount
        except Exception as error:
            log.error(
                f"could not claim alert {row['alert_key']} for {row['channel']}: {type(error).__name__}"
            )
            return False
        return claimed == 1

    def _note(self, row: Any, sent_at: datetime | None, error: str | None, log: Log) -> None:
        attempts = row["attempts"] + 1  # as claimed
        try:
            with self.store.transaction() as connection:
                connection.execute(
                    update(alert_deliveries)
                    .where(self._row(row))
                    .values(sent_at=sent_at, last_error=(error or "")[:ERROR_LENGTH] or None)
                )
        except Exception as failure:
            log.error(f"could not record the delivery of {row['alert_key']}: {type(failure).__name__}")
        if sent_at is not None:
            log.info(f"alert {row['alert_key']} sent to {row['channel']}")
        elif attempts >= MAX_ATTEMPTS:
            log.error(
                f"alert {row['alert_key']} NOT sent to {row['channel']} after {attempts} attempts, given up: "
                f"{error}"
            )
        else:
            log.warning(
                f"alert {row['alert_key']} not sent to {row['channel']} (attempt {attempts} of "
                f"{MAX_ATTEMPTS}, tried again next tick): {error}"
            )


def _said(error: BaseException, secrets: set[str]) -> str:
    return without_secrets(str(error), secrets)[:ERROR_LENGTH]
