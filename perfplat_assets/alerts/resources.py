"""The alert channels perfplat is configured with, and the record of what it sent on each.

An alert is first written down (`raise_alert`: one row per channel in the metrics store's
`alert_deliveries`), then delivered by the alert sensor (`deliver_due`). The row makes each alert once-only
per channel across daemon restarts, and lets a channel that failed be tried again on later ticks, until an
alert has failed `MAX_ATTEMPTS` times. Nothing here raises to its caller: alerting never fails a run or a
sensor.

Each channel is its own queue, delivered in a thread of its own within the tick's budget: a channel that is
down, slow or rate-limiting perfplat never delays the other. A queue is served least-tried first, and newest
first among alerts tried as often: a new alert (never tried) goes ahead of any backlog, and of two alerts the
newer is the one a person can still act on (a run that failed this morning, a deadline at 11:00); an alert
that failed waits behind those never tried, so one the channel refuses never holds up the rest, and a channel
that is down is probed with a different alert each tick, so none is given up while others are untried. What
the budget leaves is sent on the next tick, oldest of the least-tried last.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from dagster import ConfigurableResource
from pydantic import Field, PrivateAttr
from sqlalchemy import insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from perfplat_assets.alerts.channels import Channel, ChannelUnavailable, Kind, SlackChannel, SnsChannel
from perfplat_assets.alerts.messages import Alert, known_secrets, without_secrets
from perfplat_assets.common.database import failure
from perfplat_assets.metrics_store.resources import SETTING, MetricsStore
from perfplat_assets.metrics_store.tables import alert_deliveries

SLACK_API_URL = "https://slack.com/api/"
MAX_ATTEMPTS = 5  # failed attempts after which an alert is given up on a channel (a rate limit is none)
DELIVERY_SECONDS = 40.0  # of a sensor tick's 60: what is not tried by then waits for the next tick
ATTEMPT_SECONDS = 10.0  # one attempt's bound, or what is left of the budget if less
MIN_ATTEMPT_SECONDS = 1.0  # with less left, no attempt starts
MAX_HOLD_SECONDS = 3600.0  # the longest wait a rate-limiting service's Retry-After is granted
PAGE = 50  # due alerts read at a time, per channel
ERROR_LENGTH = 1000


class Log(Protocol):
    def info(self, msg: str) -> Any: ...
    def warning(self, msg: str) -> Any: ...
    def error(self, msg: str) -> Any: ...


@dataclass
class Delivery:
    """What one `deliver_due` did: alerts sent and attempts failed, and the channels held (until when) at a
    rate-limiting service's request, for the caller to carry to the next tick (the alert sensor's cursor)."""

    sent: int = 0
    failed: int = 0
    held: dict[str, datetime] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count(self, sent: bool) -> None:
        with self._lock:
            if sent:
                self.sent += 1
            else:
                self.failed += 1

    def said(self) -> str:
        held = "".join(
            f", {name} held until {until:%H:%M:%S} UTC" for name, until in sorted(self.held.items())
        )
        return f"alerts sent: {self.sent}, not sent (tried again later): {self.failed}{held}"


class Alerting(ConfigurableResource):
    """Slack, SNS, both or neither; the Dagster UI's address for links; where deliveries are recorded."""

    slack_channel: str | None = Field(default=None, description="PERFPLAT_ALERT_SLACK_CHANNEL")
    slack_token: str | None = Field(default=None, description="PERFPLAT_ALERT_SLACK_TOKEN (an EnvVar)")
    slack_api_url: str = Field(default=SLACK_API_URL, description="PERFPLAT_ALERT_SLACK_API_URL")
    sns_topic_arn: str | None = Field(default=None, description="PERFPLAT_ALERT_SNS_TOPIC_ARN")
    ui_url: str | None = Field(default=None, description="PERFPLAT_UI_URL")
    store: MetricsStore

    # When a call to the store last failed (time.monotonic()): a tick that saw it fail calls it no more.
    _store_failed_at: float | None = PrivateAttr(default=None)

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

    def store_failed_since(self, moment: float) -> bool:
        """Whether a call to the store failed after `moment` (a tick's start, by time.monotonic()): the tick
        then leaves the store alone rather than wait for it again, each call up to `store.call_seconds`."""
        return self._store_failed_at is not None and self._store_failed_at >= moment

    def store_failed(self, error: BaseException, doing: str) -> str:
        """A failed store call in one sentence, without secrets; remembered, so that the tick calls the store
        no more (`store_failed_since`)."""
        self._store_failed_at = time.monotonic()
        if isinstance(error, DBAPIError):
            try:
                said = failure(error, SETTING, self.store.engine().url, doing)
            except Exception:
                said = f"The metrics store ({SETTING}) failed while {doing}: {type(error).__name__}."
        else:
            said = str(error)
        return _said(said, self.secrets())

    def raise_alert(self, alert: Alert, log: Log, then: str = "it is looked at again next tick") -> bool:
        """Record the alert as owed on every channel, unless it already is; never raises. True when it is
        on record (now or from before, or there is no channel to owe it to); False when the store could
        not record it (logged, with `then`: what the caller does about it)."""
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
            said = self.store_failed(error, f"recording alert {alert.key}")
            log.error(f"could not record alert {alert.key}: {said.rstrip('.')}; {then}.")
            return False
        return True

    def deliver_due(
        self,
        log: Log,
        budget_seconds: float = DELIVERY_SECONDS,
        held: Mapping[str, datetime] | None = None,
        now: datetime | None = None,
    ) -> Delivery:
        """Send what each channel owes, each channel in its own thread, within `budget_seconds` (a sensor
        tick has 60 in all): each attempt is bounded by what is left of it, and the call returns when it is
        spent. `held` are the channels a rate-limiting service asked to wait, until when (`Delivery.held`
        of the tick before); `now` is the wall clock they are compared with. Each attempt is claimed in
        the store before it is made, so two ticks never send one alert twice. Never raises."""
        now = now or datetime.now(UTC)
        delivery = Delivery(held={name: until for name, until in (held or {}).items() if until > now})
        deadline = time.monotonic() + budget_seconds
        workers = []
        for channel in self.channels():
            if channel.name in delivery.held:
                continue  # the service asked perfplat to wait
            worker = threading.Thread(
                target=self._deliver_channel,
                args=(channel, deadline, delivery, log),
                name=f"perfplat-alerts-{channel.name}",
                daemon=True,
            )
            worker.start()
            workers.append((channel.name, worker))
        for _, worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()) + MIN_ATTEMPT_SECONDS)
        if late := [name for name, worker in workers if worker.is_alive()]:
            log.warning(
                f"alerts: {', '.join(late)} still under way when the tick's {budget_seconds:.0f} s were "
                "spent; the attempt ends within its own timeout and is recorded then"
            )
        return delivery

    def _deliver_channel(self, channel: Channel, deadline: float, delivery: Delivery, log: Log) -> None:
        """One channel's queue, until it is empty, the budget is spent or the channel fails: a failure that
        is the channel's (down, rate-limiting, refusing the credential) ends its turn; one that is the
        alert's (too long) ends that alert's attempt only."""
        passed: set[str] = set()  # alerts this turn refused or another tick claimed: not read again
        sender: Callable[[Alert], None] | None = None
        sender_timeout = 0.0
        began = time.monotonic()
        while not self.store_failed_since(began):  # the store failed this turn (either channel's): no more
            try:
                rows = self._due(channel.name, passed)
            except Exception as error:
                said = self.store_failed(error, f"reading the alerts owed on {channel.name}")
                log.error(f"could not read the alerts owed on {channel.name}: {said}")
                return
            if not rows:
                return
            for row in rows:
                # Whole seconds: a client is made again only when less than its bound is left.
                timeout = float(int(min(ATTEMPT_SECONDS, deadline - time.monotonic())))
                if timeout < MIN_ATTEMPT_SECONDS or self.store_failed_since(began):
                    return  # the tick is spent, or the store failed: the next tick goes on
                claimed = self._claim(row, log)
                if claimed is None:
                    return  # the store failed: nothing more this tick
                if not claimed:
                    passed.add(row["alert_key"])  # another tick has it
                    continue
                try:
                    if sender is None or sender_timeout > timeout:
                        sender, sender_timeout = channel.sender(timeout), timeout
                    sender(Alert(row["alert_key"], row["title"], row["body"]))
                except ChannelUnavailable as error:
                    if not self._failed(channel, row, error, delivery, log):
                        return
                    passed.add(row["alert_key"])
                except Exception as error:  # a fault of perfplat's own: the channel's turn ends
                    said = f"{type(error).__name__}: {_said(str(error), self.secrets())}"
                    delivery.count(sent=False)
                    self._note(row, None, said, log)
                    return
                else:
                    delivery.count(sent=True)
                    self._note(row, datetime.now(UTC), None, log)

    def _failed(
        self, channel: Channel, row: Any, error: ChannelUnavailable, delivery: Delivery, log: Log
    ) -> bool:
        """Record a failed attempt as what it was; True when the channel goes on with its next alert."""
        said = _said(str(error), self.secrets())
        if error.kind is Kind.RATE_LIMITED:
            wait = min(error.retry_after or 0.0, MAX_HOLD_SECONDS)
            until = datetime.now(UTC) + timedelta(seconds=wait)
            if wait > 0:
                delivery.held[channel.name] = until
            asked = f"until {until:%H:%M:%S} UTC, as asked" if wait > 0 else "until the next tick"
            self._note(row, None, said, log, refund=True)
            log.warning(
                f"alert {row['alert_key']} not sent to {channel.name}: {said.rstrip('.')}; {channel.name} "
                f"waits {asked} (not counted as an attempt)"
            )
            return False
        delivery.count(sent=False)
        self._note(row, None, said, log)
        return error.kind is Kind.ALERT_REFUSED

    def _due(self, channel: str, passed: set[str]) -> Sequence[Any]:
        """The channel's next alerts owed: least-tried first, newest first among those (see the module)."""
        query = select(alert_deliveries).where(
            alert_deliveries.c.channel == channel,
            alert_deliveries.c.sent_at.is_(None),
            alert_deliveries.c.attempts < MAX_ATTEMPTS,
        )
        if passed:
            query = query.where(alert_deliveries.c.alert_key.not_in(sorted(passed)))
        query = query.order_by(
            alert_deliveries.c.attempts,
            alert_deliveries.c.created_at.desc(),
            alert_deliveries.c.alert_key.desc(),
        ).limit(PAGE)
        with self.store.transaction() as connection:
            return list(connection.execute(query).mappings().all())

    @staticmethod
    def _row(row: Any) -> Any:
        return (alert_deliveries.c.alert_key == row["alert_key"]) & (
            alert_deliveries.c.channel == row["channel"]
        )

    def _claim(self, row: Any, log: Log) -> bool | None:
        """Count the attempt before making it, if no other tick has since: True when this one may send,
        False when another has it, None when the store failed."""
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
            said = self.store_failed(error, f"claiming alert {row['alert_key']}")
            log.error(f"could not claim alert {row['alert_key']} for {row['channel']}: {said}")
            return None
        return claimed == 1

    def _note(
        self, row: Any, sent_at: datetime | None, error: str | None, log: Log, *, refund: bool = False
    ) -> None:
        """Record how the attempt went; `refund`: it does not count (the service asked perfplat to wait)."""
        attempts = row["attempts"] + (0 if refund else 1)
        values: dict[str, Any] = {"sent_at": sent_at, "last_error": (error or "")[:ERROR_LENGTH] or None}
        if refund:
            values["attempts"] = attempts
        try:
            with self.store.transaction() as connection:
                connection.execute(update(alert_deliveries).where(self._row(row)).values(**values))
        except Exception as failed:
            said = self.store_failed(failed, f"recording the delivery of {row['alert_key']}")
            log.error(f"could not record the delivery of {row['alert_key']} on {row['channel']}: {said}")
        if refund:
            return
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


def _said(error: str, secrets: set[str]) -> str:
    return without_secrets(error, secrets)[:ERROR_LENGTH]
