"""Alerts reach a person on Slack and SNS, once each, and never make anything worse.

Slack is a loopback stand-in receiving the real slack_sdk client's requests; SNS is moto's, read back through
an SQS queue subscribed to the topic. Runs are real (in process, on an instance of their own), and the sensors
are evaluated as Dagster evaluates them; the daemon's own path is test_alerts_daemon.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dagster import (
    DagsterInstance,
    SensorResult,
    build_sensor_context,
    materialize,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, insert

from perfplat_assets.alerts import messages
from perfplat_assets.alerts.resources import MAX_ATTEMPTS, Alerting, Delivery
from perfplat_assets.alerts.sensors import build_alert_sensor
from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service
from perfplat_assets.configuration import SettingError, build_resources
from perfplat_assets.definitions import defs
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.metrics_store.tables import alert_deliveries
from perfplat_assets.publication.committing.journal import finish, journal_entry
from perfplat_assets.publication.deadline import due_month
from perfplat_assets.publication.freshness import (
    PublicationDeadline,
    build_deadline_sensor,
    evaluation,
)
from perfplat_assets.queue.messages import REASONS, InvalidMessage, parse_message
from perfplat_assets.services.make_an_lpa.service import MAKE_AN_LPA
from perfplat_assets.services.use_an_lpa.service import USE_AN_LPA
from perfplat_assets.user_satisfaction.queries.feedback_exports import HEADER
from perfplat_assets_tests.support.alerts import SLACK_CHANNEL, SLACK_TOKEN, SlackStandIn, SnsInbox, TcpHop
from perfplat_assets_tests.support.run_results import published_assets
from perfplat_assets_tests.support.services import ROOT
from perfplat_assets_tests.support.store import publications

PASSWORD = "canary-pw-5e1d"  # in a database URL: no alert may hold it, in any form
SIRIUS_URL = f"postgresql://perfplat:{PASSWORD}@127.0.0.1:9/sirius"  # port 9 (discard): refused
FEEDBACK_EXPORT_HEADER = ",".join(HEADER)  # GOV.UK's export, with no row
UI = "http://127.0.0.1:3000"
NOVEMBER = Month.parse("2026-11")
DUE = due_month(
    PublicationDeadline(service="make_an_lpa").last()
)  # the month the last deadline is for, by today's clock


class Said:
    """A sensor's log, as lines."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, msg: str) -> None:
        self.lines.append(f"INFO {msg}")

    def warning(self, msg: str) -> None:
        self.lines.append(f"WARNING {msg}")

    def error(self, msg: str) -> None:
        self.lines.append(f"ERROR {msg}")

    def __str__(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def inbox(aws_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> SnsInbox:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SNS", aws_endpoint)
    return SnsInbox(aws_endpoint)


def _alerting(
    tmp_path: Path, slack: SlackStandIn | None, inbox: SnsInbox | None, **settings: Any
) -> Alerting:
    """Both channels (or those given), recorded in a store of the test's own."""
    channels: dict[str, Any] = {}
    if slack is not None:
        channels |= {
            "slack_channel": SLACK_CHANNEL,
            "slack_token": SLACK_TOKEN,
            "slack_api_url": slack.api_url,
        }
    if inbox is not None:
        channels["sns_topic_arn"] = inbox.topic_arn
    store = MetricsStore(data_dir=str(tmp_path / "alerts-store"))
    return Alerting(**{**channels, "ui_url": UI, "store": store, **settings})


def _alert(key: str = "run-failed:1") -> messages.Alert:
    return messages.Alert(key, "perfplat: monthly_figures failed for 2026-11", "the first line\nRun: x")


def _counts(delivery: Delivery) -> tuple[int, int]:
    """Alerts sent, attempts failed."""
    return delivery.sent, delivery.failed


# What an alert says


def test_a_failure_alert_gives_the_job_months_first_line_link_and_runbook():
    failure = (
        f"Could not read PERFPLAT_SIRIUS_DB_URL ({SIRIUS_URL}): the server could not be reached\n"
        "Traceback and more detail"
    )
    alert = messages.run_failed(
        "abc123", "monthly_figures", [NOVEMBER], failure, f"{UI}/runs/abc123", "the monthly schedule"
    )
    assert alert.title == "perfplat: monthly_figures failed for 2026-11"
    assert alert.body.splitlines()[0].startswith("Could not read PERFPLAT_SIRIUS_DB_URL")
    assert "Traceback" not in alert.body
    assert f"Run: {UI}/runs/abc123" in alert.body and "Launched by the monthly schedule." in alert.body
    assert "docs/runbook.md#a-source-or-target-cannot-be-reached" in alert.body
    ranged = messages.run_failed(
        "r",
        "__ASSET_JOB",
        [NOVEMBER.previous(), NOVEMBER],
        "Published 2026-10; withheld 2026-11 user-satisfaction: rating_counts_add_up",
        None,
        "hand",
    )
    assert ranged.title == "perfplat: a run failed for 2026-10 to 2026-11"  # Dagster's implicit job unnamed
    assert "docs/runbook.md#a-check-withheld-a-measure" in ranged.body
    assert "set PERFPLAT_UI_URL" in ranged.body


def test_the_late_alert_says_when_the_automation_runs_and_how_to_publish_by_hand():
    deadline = datetime(2026, 12, 1, 11, tzinfo=UTC)
    why = ["user satisfaction: not available yet: the exports do not cover 2026-11-30"]
    alert = messages.month_late(
        USE_AN_LPA, NOVEMBER, deadline, "OPG's automation runs at 12:00 UTC.", None, why
    )
    assert alert.key == "late:use_an_lpa:2026-11"
    assert alert.title.startswith("perfplat: Use an LPA's 2026-11 is not published")
    assert "Why: user satisfaction: not available yet: the exports do not cover 2026-11-30" in alert.body
    assert "11:00 UTC on 1 December" in alert.title
    assert "12:00 UTC" in alert.body and "queuecli perfplat-queue.fifo send" in alert.body


def test_no_secret_survives_in_any_form():
    environ = {
        "PERFPLAT_SIRIUS_DB_URL": SIRIUS_URL,
        "PERFPLAT_CKAN_API_TOKEN": "ckan/token+with=odd chars",
        "PERFPLAT_ALERT_SLACK_TOKEN": SLACK_TOKEN,
        "HOME": "/root",
    }
    secrets = messages.known_secrets(environ)
    text = (
        f"{SIRIUS_URL} {PASSWORD} canary-pw-5e1d ckan/token+with=odd chars ckan%2Ftoken%2Bwith%3Dodd%20chars "
        f"ckan%2Ftoken%2Bwith%3Dodd+chars {SLACK_TOKEN} mysql://other:hunter2x@db/x /root"
    )
    cleaned = messages.without_secrets(text, secrets)
    for secret in (PASSWORD, "ckan/token", "ckan%2Ftoken", SLACK_TOKEN, "hunter2x"):
        assert secret not in cleaned
    assert "postgresql://perfplat:***@127.0.0.1:9/sirius" in cleaned and "/root" in cleaned


# Delivery over the real clients


def test_each_alert_reaches_slack_and_sns_once(tmp_path, slack, inbox):
    alerting, said = _alerting(tmp_path, slack, inbox), Said()
    assert alerting.raise_alert(_alert(), said)
    assert alerting.raise_alert(_alert(), said)  # the same alert again: on record already, owed once
    assert _counts(alerting.deliver_due(said)) == (2, 0)
    assert _counts(alerting.deliver_due(said)) == (0, 0)
    [posted] = slack.posted
    assert (posted.channel, posted.token) == (SLACK_CHANNEL, SLACK_TOKEN)
    assert posted.text == "perfplat: monthly_figures failed for 2026-11\nthe first line\nRun: x"
    [notification] = inbox.read()
    assert notification["subject"] == "perfplat: monthly_figures failed for 2026-11"
    assert notification["message"] == posted.text
    # A new Alerting on the same store (a daemon restarted) owes nothing.
    again = _alerting(tmp_path, slack, inbox)
    assert again.raise_alert(_alert(), said)
    assert _counts(again.deliver_due(said)) == (0, 0)
    assert len(slack.posted) == 1 and len(inbox.read()) == 1


@pytest.mark.parametrize(
    ("status", "error", "said_of_it", "setting"),
    [
        (500, None, "Slack failed with its own error (HTTP 500, error 'internal_error')", None),
        (
            200,
            "channel_not_found",
            "Slack cannot post to #opg-perfplat-alerts",
            "PERFPLAT_ALERT_SLACK_CHANNEL",
        ),
        (200, "token_revoked", "Slack refused the bot token", "PERFPLAT_ALERT_SLACK_TOKEN"),
    ],
)
def test_a_failing_slack_is_said_as_what_it_is_retried_next_tick_and_holds_up_no_other(
    tmp_path, slack, inbox, status, error, said_of_it, setting
):
    alerting, said = _alerting(tmp_path, slack, inbox), Said()
    slack.fail_next(1, status, error)
    alerting.raise_alert(_alert(), said)
    assert _counts(alerting.deliver_due(said)) == (1, 1)
    assert len(inbox.read()) == 1 and slack.posted == []
    assert said_of_it in str(said) and "attempt 1 of 5" in str(said)
    named = {"PERFPLAT_ALERT_SLACK_CHANNEL", "PERFPLAT_ALERT_SLACK_TOKEN"} & set(
        re.findall(r"PERFPLAT_\w+", str(said))
    )
    assert named == ({setting} if setting else set()), "only the setting that can be the cause is named"
    assert _counts(alerting.deliver_due(said)) == (1, 0)
    assert len(slack.posted) == 1 and len(inbox.read()) == 1
    assert SLACK_TOKEN not in str(said) and ".." not in str(said)


def test_a_channel_that_keeps_failing_is_given_up_after_a_bounded_number_of_ticks(tmp_path, slack, inbox):
    alerting, said = _alerting(tmp_path, slack, inbox, sns_topic_arn=inbox.topic_arn + "-gone"), Said()
    alerting.raise_alert(_alert(), said)
    for _ in range(MAX_ATTEMPTS + 2):
        alerting.deliver_due(said)
    assert len(slack.posted) == 1
    refusals = [line for line in said.lines if "not sent to sns" in line.lower() or "NOT sent to sns" in line]
    assert len(refusals) == MAX_ATTEMPTS
    assert "SNS refused the alert" in refusals[0] and "PERFPLAT_ALERT_SNS_TOPIC_ARN" in refusals[0]
    assert refusals[-1].startswith("ERROR") and "given up" in refusals[-1]


def test_an_unreachable_slack_is_logged_and_never_raises(tmp_path, inbox):
    closed = SlackStandIn()
    with closed:
        api_url = closed.api_url  # the port is closed again once the stand-in stops
    alerting, said = (
        _alerting(
            tmp_path, None, inbox, slack_channel=SLACK_CHANNEL, slack_token=SLACK_TOKEN, slack_api_url=api_url
        ),
        Said(),
    )
    alerting.raise_alert(_alert(), said)
    assert _counts(alerting.deliver_due(said)) == (1, 1)
    assert "Slack could not be reached" in str(said) and "PERFPLAT_ALERT_SLACK_API_URL" in str(said)


# Settings, checked when the code location loads


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"PERFPLAT_ALERT_SLACK_CHANNEL": SLACK_CHANNEL}, "set PERFPLAT_ALERT_SLACK_TOKEN"),
        ({"PERFPLAT_ALERT_SLACK_TOKEN": SLACK_TOKEN}, "set PERFPLAT_ALERT_SLACK_CHANNEL"),
        (
            {"PERFPLAT_ALERT_SNS_TOPIC_ARN": "perfplat-alerts"},
            "PERFPLAT_ALERT_SNS_TOPIC_ARN must be a standard",
        ),
        (
            {"PERFPLAT_ALERT_SNS_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:perfplat-alerts.fifo"},
            "not FIFO",
        ),
        (
            {"PERFPLAT_UI_URL": f"https://perfplat:{PASSWORD}@ui.example/"},
            "PERFPLAT_UI_URL must be an http(s) URL",
        ),
        (
            {
                "PERFPLAT_ALERT_SNS_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:x",
                "PERFPLAT_UI_URL": "ftp://ui",
            },
            "PERFPLAT_UI_URL must be an http(s) URL",
        ),
        (
            {"PERFPLAT_ALERT_SLACK_API_URL": "http://slack.example/api/"},
            "PERFPLAT_ALERT_SLACK_API_URL must use https",
        ),
        (
            {"PERFPLAT_PUBLICATION_DEADLINE": "11:00 on the 1st"},
            "PERFPLAT_PUBLICATION_DEADLINE must be a cron",
        ),
        ({"PERFPLAT_ALERT_ON_SUCCESS": "sometimes"}, "PERFPLAT_ALERT_ON_SUCCESS must be true or false"),
    ],
)
def test_a_bad_alert_setting_is_refused_naming_it(perfplat_env, monkeypatch, settings, named):
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingError) as refused:
        build_resources()
    assert named in str(refused.value)
    assert SLACK_TOKEN not in str(refused.value) and PASSWORD not in str(refused.value)


def test_the_alert_sensor_is_absent_without_a_channel_and_running_with_one(perfplat_env):
    assert "perfplat_alerts" not in {sensor.name for sensor in defs.sensors}  # this process: none set
    env = {**os.environ, "PERFPLAT_ALERT_SNS_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:perfplat-alerts"}
    script = (
        "from perfplat_assets.definitions import defs\n"
        "print({s.name: s.default_status.value for s in defs.sensors})\n"
    )
    printed = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "'perfplat_alerts': 'RUNNING'" in printed and "'publication_deadline': 'RUNNING'" in printed


# The sensors over real runs


def _tick(
    sensor: Any, instance: DagsterInstance, cursor: str | None, **resources: Any
) -> tuple[Any, str | None]:
    with build_sensor_context(instance=instance, cursor=cursor, resources=resources) as context:
        result = sensor(context)
        return result, context.cursor if not isinstance(result, SensorResult) else result.cursor


def _materialize(instance: DagsterInstance, month: Month, **options: Any) -> Any:
    """Every asset for the month, on `instance`, resources from the environment now; failures returned."""
    return materialize(
        published_assets(),
        partition_key=month.key,
        resources=build_resources(),
        instance=instance,
        raise_on_error=False,
        **options,
    )


def _alert_sensor(on_success: bool = True, published: Sequence[Service] = (MAKE_AN_LPA,)) -> Any:
    jobs = ["monthly_figures", "settled_figures", "revised_figures", "import_published_series"]
    return build_alert_sensor(
        published,
        [a.key for a in published_assets()],
        jobs,
        ("monthly", "settled"),
        on_success=on_success,
        interval_seconds=30,
    )


def test_a_failed_in_process_run_is_alerted_once_with_perfplats_own_words(
    perfplat_env, tmp_path, monkeypatch, slack, inbox
):
    monkeypatch.setenv("PERFPLAT_SIRIUS_DB_URL", SIRIUS_URL)
    instance = DagsterInstance.ephemeral()
    failed = _materialize(instance, DUE)  # in process, as `dagster asset materialize`: no code location
    assert not failed.success
    alerting, sensor = _alerting(tmp_path, slack, inbox), _alert_sensor()
    _, cursor = _tick(sensor, instance, None, alerting=alerting)
    _tick(sensor, instance, cursor, alerting=alerting)
    [posted] = slack.posted
    [notification] = inbox.read()
    assert notification["message"] == posted.text
    assert posted.text.startswith(f"perfplat: a run failed for {DUE}\n")
    assert "Launched by hand" in posted.text
    assert "PERFPLAT_SIRIUS_DB_URL" in posted.text and f"{UI}/runs/{failed.run_id}" in posted.text
    assert PASSWORD not in posted.text and SLACK_TOKEN not in posted.text


def test_a_scheduled_publication_is_summarised_unless_turned_off(perfplat_env, tmp_path, slack):
    instance = DagsterInstance.ephemeral()
    published = _materialize(instance, DUE, tags={"dagster/schedule_name": "monthly"})
    assert published.success
    alerting = _alerting(tmp_path, slack, None, store=build_resources()["metrics_store"])
    _tick(_alert_sensor(on_success=False), instance, None, alerting=alerting)
    assert slack.posted == []
    _tick(_alert_sensor(), instance, None, alerting=alerting)
    [posted] = slack.posted
    lines = posted.text.splitlines()
    assert lines[0] == f"perfplat: published {DUE}"
    assert lines[1].startswith(f"{DUE}: ") and "completion-rate" in lines[1] and "per cent" in lines[1]
    assert "Warnings: " in posted.text and "Revisions: none" in posted.text


def test_the_deadline_check_fails_at_the_deadline_and_an_imported_month_does_not_count(
    perfplat_env, tmp_path, slack
):
    deadline = PublicationDeadline(service="make_an_lpa", cron="0 11 1 * *")
    instance, store = DagsterInstance.ephemeral(), build_resources()["metrics_store"]
    before = deadline.status(store, now=datetime(2026, 12, 1, 10, 59, tzinfo=UTC))
    assert (before.month, before.deadline) == (Month.parse("2026-10"), datetime(2026, 11, 1, 11, tzinfo=UTC))
    # November imported and written to every target before the deadline: OPG published it, not a run.
    imported_at = datetime(2026, 11, 20, 9, tzinfo=UTC)
    with store.transaction() as connection:
        entry = journal_entry([NOVEMBER.key], "ab12" * 16, "import-ab12ab12ab12", imported_at, {})
        number = connection.execute(insert(publications).values(entry)).inserted_primary_key[0]
    finish(store, MAKE_AN_LPA, [number], ["directory"], imported_at)
    at = deadline.status(store, now=datetime(2026, 12, 1, 11, 0, tzinfo=UTC))
    assert (at.month, at.published) == (NOVEMBER, False)
    assert "was not published by a run by 2026-12-01 11:00 UTC" in at.description
    # The sensor reports it once a deadline; the alert sensor alerts on the failed check, once.
    sensor = build_deadline_sensor({"make_an_lpa": deadline}, store)
    result, cursor = _tick(sensor, instance, None)
    [reported] = result.asset_events
    assert reported.check_name == "published_by_deadline"
    assert not reported.passed and reported.metadata["month"].value == str(due_month(deadline.last()))
    again, _ = _tick(sensor, instance, cursor)
    assert not again.asset_events and "already reported" in again.skip_reason.skip_message
    instance.report_runless_asset_event(evaluation("make_an_lpa", at))
    alerting = _alerting(tmp_path, slack, None)
    _tick(_alert_sensor(), instance, None, alerting=alerting)
    _tick(_alert_sensor(), instance, None, alerting=alerting)
    [posted] = slack.posted
    assert posted.text.startswith(
        "perfplat: Make an LPA's 2026-11 is not published (11:00 UTC on 1 December has passed)"
    )
    assert f"{UI}/assets/make_an_lpa/data_gov_uk_publication?view=checks" in posted.text


def test_a_month_published_with_a_measure_withheld_is_a_failure_alert_and_counts_as_published(
    perfplat_env, tmp_path, monkeypatch, slack
):
    due = DUE
    figures = tmp_path / "take-up.csv"
    figures.write_text(
        f"month,digital_applications,total_applications,note\n{due},120,100,typo\n", encoding="utf-8"
    )
    monkeypatch.setenv("PERFPLAT_TAKEUP_FIGURES_FILE", str(figures))
    instance = DagsterInstance.ephemeral()
    run = _materialize(instance, due)
    assert not run.success
    [deadline_check] = [
        e.event_specific_data
        for e in run.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.event_specific_data.check_name == "published_by_deadline"
    ]
    # Published, for its other measures: it counts, though after its deadline (this run came after it), and
    # the month being out, the alert sensor does not ask for it to be published.
    assert not deadline_check.passed and deadline_check.description.startswith(f"{due} was published ")
    assert "after the deadline" in deadline_check.description
    assert PublicationDeadline(service="make_an_lpa").status(build_resources()["metrics_store"]).published_at
    _tick(_alert_sensor(), instance, None, alerting=_alerting(tmp_path, slack, None))
    [posted] = slack.posted
    lines = posted.text.splitlines()
    assert lines[1].startswith(
        f"Make an LPA: Published {due}; withheld {due} digital-take-up: digital_within_total"
    )
    assert "docs/runbook.md#a-check-withheld-a-measure" in posted.text


def test_every_runbook_entry_an_alert_names_is_a_section_of_the_runbook():
    """The anchors MkDocs gives docs/runbook.md's sections (lower case, punctuation dropped, blanks to
    hyphens), which the strict docs build checks every link against."""
    runbook = (ROOT / "docs" / "runbook.md").read_text(encoding="utf-8")
    anchors = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in runbook.splitlines()
        if line.startswith("## ")
    }
    entries = [value for value in vars(messages).values() if isinstance(value, messages.RunbookEntry)]
    assert len(entries) == 8
    assert {entry.anchor for entry in entries} <= anchors
    assert all(entry.link == f"docs/runbook.md#{entry.anchor}" for entry in entries)


def test_slacks_api_url_gains_its_slash_and_an_alert_cannot_mention_the_channel(
    perfplat_env, monkeypatch, slack
):
    monkeypatch.setenv("PERFPLAT_ALERT_SLACK_CHANNEL", SLACK_CHANNEL)
    monkeypatch.setenv("PERFPLAT_ALERT_SLACK_TOKEN", SLACK_TOKEN)
    monkeypatch.setenv(
        "PERFPLAT_ALERT_SLACK_API_URL", slack.api_url.rstrip("/")
    )  # slack_sdk would drop "api"
    api_url = build_resources()["alerting"].slack_api_url
    assert api_url == slack.api_url
    alerting, said = _alerting(perfplat_env, slack, None, slack_api_url=api_url), Said()
    alerting.raise_alert(messages.Alert("x", "perfplat: <!channel> & <https://evil.example|run>", "b"), said)
    assert _counts(alerting.deliver_due(said)) == (1, 0), str(said)
    [posted] = slack.posted
    assert posted.text.startswith("perfplat: &lt;!channel&gt; &amp; &lt;https://evil.example|run&gt;")


def test_a_refused_message_is_alerted_without_what_it_held():
    with pytest.raises(InvalidMessage) as refused:
        parse_message("Jane Doe, 12 High St", asset_names=[], last_closed=None)
    alert = messages.message_dead_lettered(
        "m-1", refused.value.said, "moved to the dead-letter queue", "queue q"
    )
    assert "Reason: not JSON\n" in alert.body and "Jane" not in alert.text


def test_use_an_lpas_late_month_names_the_days_its_exports_do_not_cover(
    every_service, tmp_path, monkeypatch, slack
):
    """At the deadline, a month whose exports stop short alerts with the days missing and the setting."""
    exports = tmp_path / "exports"
    exports.mkdir()
    export = exports / "feedex_2026-07-01_2026-07-29_done_use-lasting-power-of-attorney.csv"
    export.write_text(FEEDBACK_EXPORT_HEADER + "\n", encoding="utf-8")
    written = datetime(2026, 7, 30, 6, tzinfo=UTC).timestamp()  # after 29 July ended
    os.utime(export, (written, written))
    monkeypatch.setenv("PERFPLAT_USE_AN_LPA_FEEDBACK_EXPORTS", str(exports))
    instance = DagsterInstance.ephemeral()
    july = Month.of(2026, 7)
    counted = materialize(
        published_assets(),
        selection=["use_an_lpa/user_satisfaction"],
        partition_key=july.key,
        resources=build_resources(),
        instance=instance,
        raise_on_error=False,
    )
    assert counted.success
    deadline = PublicationDeadline(service="use_an_lpa", cron="0 11 1 * *")
    status = deadline.status(build_resources()["metrics_store"], now=datetime(2026, 8, 1, 11, tzinfo=UTC))
    assert (status.month, status.published) == (july, False)
    instance.report_runless_asset_event(evaluation("use_an_lpa", status))
    alerting = _alerting(tmp_path, slack, None, store=build_resources()["metrics_store"])
    _tick(_alert_sensor(published=[USE_AN_LPA]), instance, None, alerting=alerting)
    [posted] = slack.posted
    assert posted.text.startswith("perfplat: Use an LPA's 2026-07 is not published")
    why = next(line for line in posted.text.splitlines() if line.startswith("Why: "))
    assert why.startswith("Why: user satisfaction: not available yet")
    assert "2026-07-30 to 2026-07-31" in why and "PERFPLAT_USE_AN_LPA_FEEDBACK_EXPORTS" in why


# Alerts that arrive: a channel of its own each, the newest first, within the tick


def test_one_channel_down_never_delays_the_other_and_a_new_alert_goes_first(tmp_path, slack, inbox):
    """SNS refusing (no such topic) and 60 alerts owed (more than a page of each channel's queue, and than
    the 100 rows a tick once read for both channels): Slack takes all of them in one tick, while SNS is
    probed with one, the newest; an alert raised after them is the first each channel tries next tick."""
    alerting, said = _alerting(tmp_path, slack, inbox, sns_topic_arn=inbox.topic_arn + "-gone"), Said()
    for n in range(60):
        assert alerting.raise_alert(_alert(f"run-failed:{n:02}"), said)
    assert _counts(alerting.deliver_due(said)) == (60, 1)
    assert len(slack.posted) == 60
    sns = {row["alert_key"]: row for row in alerting.store.rows(alert_deliveries) if row["channel"] == "sns"}
    assert [key for key, row in sns.items() if row["attempts"]] == ["run-failed:59"]
    assert "SNS refused the alert: there is no topic" in sns["run-failed:59"]["last_error"]
    alerting.raise_alert(_alert("run-failed:new"), said)
    assert _counts(alerting.deliver_due(said)) == (1, 1)
    assert len(slack.posted) == 61
    rows = alerting.store.rows(alert_deliveries)
    assert all(row["sent_at"] for row in rows if row["channel"] == "slack")
    tried_on_sns = sorted(row["alert_key"] for row in rows if row["channel"] == "sns" and row["attempts"])
    assert tried_on_sns == ["run-failed:59", "run-failed:new"]


def test_a_rate_limit_is_honoured_across_ticks_and_said_as_one(tmp_path, slack, inbox):
    """Slack's 429 with Retry-After 300: not counted as a failed attempt, and Slack is not asked again for
    300 s, across ticks (the sensor's cursor), while SNS delivers at once."""
    alerting = _alerting(tmp_path, slack, inbox)
    alerting.raise_alert(_alert(), Said())
    slack.fail_next(1, 429, "ratelimited", {"Retry-After": "300"})
    instance, sensor = DagsterInstance.ephemeral(), _alert_sensor()
    asked_at = datetime.now(UTC)
    first, cursor = _tick(sensor, instance, None, alerting=alerting)
    assert slack.asked == 1 and len(inbox.read()) == 1
    assert "slack held until" in first.skip_message
    _, cursor = _tick(sensor, instance, cursor, alerting=alerting)
    assert slack.asked == 1, "Slack is not asked again before its Retry-After"
    [row] = [row for row in alerting.store.rows(alert_deliveries) if row["channel"] == "slack"]
    assert row["attempts"] == 0 and row["sent_at"] is None
    assert (
        row["last_error"]
        == "Slack is rate-limiting perfplat's posts (HTTP 429, error 'ratelimited', Retry-After 300 s)."
    )
    held = json.loads(cursor)["held"]["slack"]
    assert timedelta(seconds=299) < datetime.fromisoformat(held) - asked_at < timedelta(seconds=302)
    said = Said()
    later = alerting.deliver_due(
        said, held={"slack": datetime.fromisoformat(held)}, now=asked_at + timedelta(seconds=302)
    )
    assert _counts(later) == (1, 0) and len(slack.posted) == 1 and later.held == {}


def test_no_attempt_outlasts_what_is_left_of_the_tick(tmp_path, monkeypatch):
    """Slack and SNS endpoints that accept connections and never answer: with 3 s of budget left, each
    channel's attempt gives up within it (the clients' own timeouts, no retry), in parallel."""
    with TcpHop() as silent:
        monkeypatch.setenv("AWS_ENDPOINT_URL_SNS", f"http://127.0.0.1:{silent.port}")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
        alerting = _alerting(
            tmp_path,
            None,
            None,
            slack_channel=SLACK_CHANNEL,
            slack_token=SLACK_TOKEN,
            slack_api_url=f"http://127.0.0.1:{silent.port}/api/",
            sns_topic_arn="arn:aws:sns:eu-west-1:123456789012:perfplat-alerts",
        )
        said = Said()
        alerting.raise_alert(_alert(), said)
        started = time.monotonic()
        delivery = alerting.deliver_due(said, budget_seconds=3)
        took = time.monotonic() - started
    assert took < 3, f"{took:.1f} s"
    assert _counts(delivery) == (0, 2)
    errors = {row["channel"]: row["last_error"] for row in alerting.store.rows(alert_deliveries)}
    assert errors["slack"].startswith("Slack did not answer at http://127.0.0.1:")
    assert errors["sns"].startswith(
        "SNS did not answer for arn:aws:sns:eu-west-1:123456789012:perfplat-alerts"
    )


# The metrics store that holds the alerts: every call bounded, its failures said as what they are


def test_a_store_that_does_not_answer_in_time_fails_the_alert_in_seconds_and_is_called_no_more_that_tick(
    tmp_path,
):
    """The store's alert_deliveries locked by another writer: recording an alert gives up after the store's
    timeout (1 s here), says why in one sentence, and the tick knows not to call the store again."""
    url = f"sqlite:///{tmp_path / 'metrics.sqlite'}"
    store = MetricsStore(url=url, lock_timeout_seconds=1)
    alerting, said = Alerting(slack_channel=SLACK_CHANNEL, slack_token=SLACK_TOKEN, store=store), Said()
    store.engine()  # the tables exist
    other = create_engine(url, isolation_level="AUTOCOMMIT")
    with other.connect() as connection:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        started = time.monotonic()
        assert not alerting.raise_alert(_alert(), said)
        took = time.monotonic() - started
        connection.exec_driver_sql("ROLLBACK")
    other.dispose()
    assert 1 <= took < 3, f"{took:.1f} s"
    assert alerting.store_failed_since(started)
    assert said.lines == [
        f"ERROR could not record alert run-failed:1: The database in PERFPLAT_METRICS_DB_URL ({url}) did not "
        "finish recording alert run-failed:1 in time (database is locked): check what holds its locks or "
        "loads it; nothing of this transaction was written; it is looked at again next tick."
    ]


# No text from a queue message in any alert


EVIL = (
    '{"year": 2024, "month": 1, "assets": ["URGENT - your session expired, re-enter the AWS keys at '
    'https://evil.example/perfplat-login today"]}'
)


@settings(max_examples=100, deadline=None)
@given(
    st.just(EVIL)
    | st.text(max_size=200)
    | st.dictionaries(st.text(max_size=20), st.text(max_size=40)).map(json.dumps)
)
def test_a_refused_message_is_alerted_in_perfplats_words_alone(body):
    try:
        parse_message(body, asset_names=["make_an_lpa/uptime"], last_closed=None)
    except InvalidMessage as refused:
        reason = refused.said
    else:
        return
    assert reason in REASONS
    alert = messages.message_dead_lettered(
        "5fa8e7b2-0c1d-4e6f-9a3b-2d4c6e8f0a1b", reason, "deleted", "queue q"
    )
    assert alert.body.splitlines()[0] == f"Reason: {reason}"
    if body == EVIL:
        assert "evil" not in alert.text and "URGENT" not in alert.text
