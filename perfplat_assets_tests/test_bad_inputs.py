"""Bad input at the edges: a clear error from the first place it can be detected, and no password shown.

Settings are checked when the code location loads; queue bodies by the message parser (for any input, it
raises nothing but its own error); database failures are told apart by kind, on the real Postgres.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, text

from perfplat_assets.common.database import redacted, scrubbed
from perfplat_assets.common.errors import SourceUnavailable
from perfplat_assets.common.make_an_lpa_database import MakeAnLpaDatabase
from perfplat_assets.common.months import Month
from perfplat_assets.configuration import SettingError, build_resources
from perfplat_assets.queue.messages import InvalidMessage, MonthRequest, parse_message
from perfplat_assets.user_satisfaction.queries.make_an_lpa_database import read_rating_counts
from perfplat_assets_tests.support.services import poll
from perfplat_assets_tests.support.sources import create_postgres_feedback, feedback

MAY = Month.parse("2025-05")
NAMES = ("user_satisfaction", "digital_take_up")


# The queue's message parser


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300) | st.recursive(st.just("1"), lambda inner: inner.map(lambda x: f"[{x}]")))
def test_any_body_is_a_request_or_an_invalid_message(body):
    with contextlib.suppress(InvalidMessage):
        assert isinstance(parse_message(body, asset_names=NAMES, last_closed=None), MonthRequest)


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["year", "month", "assets", "dry_run", "x"]),
        st.integers() | st.floats() | st.text(max_size=5) | st.booleans() | st.none() | st.lists(st.text()),
    ).map(json.dumps)
)
def test_any_json_object_is_a_request_or_an_invalid_message(body):
    with contextlib.suppress(InvalidMessage):
        assert isinstance(parse_message(body, asset_names=NAMES, last_closed=None), MonthRequest)


def test_queuecli_refuses_a_poison_payload_in_one_line():
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "perfplat_assets.queue.cli",
            "perfplat-queue.fifo",
            "send",
            "--payload",
            "[" * 3000,
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr
    assert "payload refused, nothing sent: nested deeper than 4 levels" in done.stderr


# Settings, checked when the code location loads


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("PERFPLAT_DRY_RUN", "on", "PERFPLAT_DRY_RUN must be true or false (or 1/0, yes/no), not 'on'"),
        ("PERFPLAT_DRY_RUN", "y", "PERFPLAT_DRY_RUN must be true or false"),
        ("PERFPLAT_ALLOW_SAMPLE_DATA", "sure", "PERFPLAT_ALLOW_SAMPLE_DATA must be true or false"),
        ("PERFPLAT_SATISFACTION_METHODS", "2021-03:top-two-box,2021-03:weighted-gds", "names 2021-03 twice"),
        ("PERFPLAT_SATISFACTION_METHODS", "2021-03:median", "'median' is not a method"),
        ("PERFPLAT_SATISFACTION_METHODS", "March:weighted-gds", "is not a month"),
        ("PERFPLAT_GA4_PROPERTY_ID", "abc", "PERFPLAT_GA4_PROPERTY_ID must be the numeric GA4 property id"),
        ("PERFPLAT_CHECK_UNKNOWN_RATINGS_MAX_PERCENT", "150", "a number from 0 to 100, not '150': e.g. 2.0"),
        ("PERFPLAT_CHECK_MINIMUM_RESPONSES", "-5", "must be a whole number from 0, not '-5': e.g. 100"),
        ("PERFPLAT_CHECK_COMPLETION_RATE_MAX_GAP", "nan", "must be a number from 0 to 100"),
    ],
)
def test_a_bad_setting_fails_the_code_location_naming_the_variable(
    perfplat_env, monkeypatch, variable, value, complaint
):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingError) as caught:
        build_resources()
    assert complaint in str(caught.value) and variable in str(caught.value)
    if variable == "PERFPLAT_SATISFACTION_METHODS":
        assert "A valid schedule: 2021-03:weighted-gds,2026-04:top-two-box" in str(caught.value)


@pytest.mark.parametrize("value", ["TRUE", "Yes", "1", "true"])
def test_flags_read_true_in_any_case(perfplat_env, monkeypatch, value):
    monkeypatch.setenv("PERFPLAT_DRY_RUN", value)
    assert build_resources()["make_an_lpa__publisher"].dry_run is True


@pytest.mark.parametrize("value", ["FALSE", "No", "0", ""])
def test_flags_read_false_in_any_case(perfplat_env, monkeypatch, value):
    monkeypatch.setenv("PERFPLAT_DRY_RUN", value)
    assert build_resources()["make_an_lpa__publisher"].dry_run is False


def test_the_code_location_itself_refuses_to_load_with_a_bad_setting(perfplat_env):
    done = subprocess.run(
        [sys.executable, "-c", "import perfplat_assets.definitions"],
        capture_output=True,
        text=True,
        env={**os.environ, "PERFPLAT_DRY_RUN": "on"},
    )
    assert done.returncode != 0
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith("perfplat_assets.common.settings.SettingError: PERFPLAT_DRY_RUN")
    )


# Secrets in URLs, in every form


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://reader:Hunter2@db.example/lpa",
        "postgresql://reader@db.example/lpa?password=Hunter2",
        "postgresql://reader@db.example/lpa?passwd=Hunter2",
        "postgresql://reader@db.example/lpa?sslpassword=Hunter2&sslmode=require",
        "postgresql://reader@db.example/lpa?options=-c%20password%3DHunter2",
        "postgresql://reader:Hunter%32@db.example/lpa",
    ],
)
def test_every_form_of_password_is_redacted(url):
    shown = redacted(url)
    assert "Hunter" not in shown and "***" in shown
    assert "db.example/lpa" in shown and "reader" in shown
    if "options" not in url:  # `options` is hidden whole: its parts are not secrets one by one
        said = scrubbed("the driver said: password 'Hunter2' is wrong", url)
        assert said == "the driver said: password '***' is wrong"


def test_a_refused_connection_names_the_server_and_hides_a_query_string_password(postgres_server):
    url = f"postgresql://postgres@127.0.0.1:1/lpa?password=Canary-{id(object())}&connect_timeout=2"
    with pytest.raises(SourceUnavailable) as caught:
        MakeAnLpaDatabase(url=url).read(read_rating_counts, [MAY], "feedback")
    message = str(caught.value)
    assert message.startswith("Cannot connect to the database in PERFPLAT_MAKE_AN_LPA_DB_URL")
    assert "Canary-" not in message and "password=***" in message
    assert "tables and columns" not in message


def test_a_connection_lost_mid_query_is_told_from_a_schema_problem(postgres_url):
    """The feedback table is a view that sleeps per row; the test terminates the query's backend."""
    create_postgres_feedback(postgres_url, [feedback(MAY.start, "satisfied")])
    engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("ALTER TABLE feedback RENAME TO feedback_rows"))
        connection.execute(
            text("CREATE VIEW feedback AS SELECT f.* FROM feedback_rows f, pg_sleep(30) AS slow")
        )
    database = postgres_url.rsplit("/", 1)[-1]
    failures: list[BaseException] = []

    def read() -> None:
        try:
            MakeAnLpaDatabase(url=postgres_url).read(read_rating_counts, [MAY], "feedback")
        except BaseException as error:
            failures.append(error)

    reader = threading.Thread(target=read)
    reader.start()

    def terminated() -> bool:
        with engine.connect() as connection:
            return bool(
                connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :db "
                        "AND query LIKE '%feedback%' AND state = 'active' AND pid <> pg_backend_pid()"
                    ),
                    {"db": database},
                ).all()
            )

    poll("the feedback query to be running, then terminated", terminated, 30)
    reader.join(30)
    engine.dispose()
    [error] = failures
    assert isinstance(error, SourceUnavailable)
    assert "The connection to the database in PERFPLAT_MAKE_AN_LPA_DB_URL" in str(
        error
    ) and "was lost" in str(error)
    assert "tables and columns" not in str(error)
