"""The BigQuery emulator through Google's real `google-cloud-bigquery` client, and the sample export.

Going through the real client is the point: its requests, paging, job polling and error mapping are what
perfplat's BigQuery code meets in production. Every expected figure is worked out by hand from the few rows
below (or from the sample's sessions, the export's input), never from the emulator's own answers.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from google.api_core import exceptions
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

from perfplat_assets.common.months import LONDON, Month
from perfplat_sample.bigquery_emulator import (
    SAMPLE_DATASET,
    SAMPLE_PROJECT,
    Answer,
    BigQueryEmulator,
    RequestInfo,
    error_body,
    sample_tables,
)
from perfplat_sample.sample_data import sample_sessions
from perfplat_sample.sample_export import SITE, export_tables, month_events

PROJECT, DATASET = "opg-analytics", "analytics_123"
EVENTS = f"`{PROJECT}.{DATASET}.events_*`"
JUNE = Month.of(2024, 6)
TEN_MB = 10 * 1024 * 1024


def _micros(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def _param(key: str, integer: int | None = None, string: str | None = None) -> dict[str, Any]:
    value = {"string_value": string, "int_value": integer, "float_value": None, "double_value": None}
    return {"key": key, "value": value}


def _event(at: datetime, name: str, user: str, session: int | None, path: str | None) -> dict[str, Any]:
    params = [] if session is None else [_param("ga_session_id", integer=session)]
    if path is not None:
        params.append(_param("page_location", string=SITE + path))
    day = at.astimezone(LONDON).strftime("%Y%m%d")
    return {
        "event_date": day,
        "event_timestamp": _micros(at),
        "event_name": name,
        "user_pseudo_id": user,
        "event_params": params,
    }


def _utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=UTC)


# Six daily tables, one intraday: 3 events on 1 June, 2 on 2 June (one at 23:30 UTC on 1 June, which is
# 00:30 on 2 June in London), one each on 31 May, 1 July and in the intraday table of 3 June.
TABLES = {
    "events_20240601": [
        _event(_utc(6, 1, 10, 0), "page_view", "u1", 100, "/lpa/type"),
        _event(_utc(6, 1, 10, 1), "page_view", "u1", 100, "/lpa/11/applicant"),
        _event(_utc(6, 1, 10, 2), "scroll", "u2", None, None),
    ],
    "events_20240602": [
        _event(_utc(6, 1, 23, 30), "page_view", "u2", 200, "/home?x=1"),
        _event(_utc(6, 2, 9, 0), "page_view", "u1", 300, "/lpa/type"),
    ],
    "events_20240531": [_event(_utc(5, 31, 12), "page_view", "u3", 400, "/home")],
    "events_20240701": [_event(_utc(7, 1, 12), "page_view", "u3", 500, "/home")],
    "events_intraday_20240603": [_event(_utc(6, 3, 8), "page_view", "u4", 600, "/home")],
}


@pytest.fixture
def emulator() -> Iterator[BigQueryEmulator]:
    emulator = BigQueryEmulator()
    emulator.create_dataset(PROJECT, DATASET, location="EU")
    for name, rows in TABLES.items():
        emulator.load_table(PROJECT, DATASET, name, rows)
    with emulator:
        yield emulator


def _client(emulator: BigQueryEmulator) -> bigquery.Client:
    return bigquery.Client(
        project=PROJECT,
        credentials=AnonymousCredentials(),
        client_options=ClientOptions(api_endpoint=emulator.endpoint),
    )


@pytest.fixture
def client(emulator: BigQueryEmulator) -> bigquery.Client:
    return _client(emulator)


def _rows(result: Any) -> list[tuple[Any, ...]]:
    return [tuple(row.values()) for row in result]


def _named(**values: tuple[str, Any]) -> bigquery.QueryJobConfig:
    return bigquery.QueryJobConfig(
        query_parameters=[
            bigquery.ScalarQueryParameter(name, kind, value) for name, (kind, value) in values.items()
        ]
    )


# --- queries ---------------------------------------------------------------------------------------------


def test_query_and_wait_and_query_result_give_the_same_hand_counted_rows(
    client: bigquery.Client, emulator: BigQueryEmulator
) -> None:
    sql = f"""SELECT event_name, COUNT(*) AS events
              FROM `{PROJECT}.{DATASET}.events_20240601` GROUP BY event_name ORDER BY event_name"""
    assert _rows(client.query_and_wait(sql)) == [("page_view", 2), ("scroll", 1)]
    assert _rows(client.query(sql).result()) == [("page_view", 2), ("scroll", 1)]
    assert [job.method for job in emulator.jobs] == ["jobs.query", "jobs.insert"]
    assert {job.location for job in emulator.jobs} == {"EU"}  # inferred from the dataset, as BigQuery does


def test_named_string_int64_and_timestamp_parameters_are_bound(
    client: bigquery.Client, emulator: BigQueryEmulator
) -> None:
    sql = f"""SELECT user_pseudo_id, event_timestamp FROM {EVENTS}
              WHERE _TABLE_SUFFIX BETWEEN @first AND @last AND user_pseudo_id = @user
                AND event_timestamp >= @after AND TIMESTAMP_MICROS(event_timestamp) < @before
              ORDER BY event_timestamp"""
    config = _named(
        first=("STRING", "20240601"),
        last=("STRING", "20240630"),
        user=("STRING", "u1"),
        after=("INT64", _micros(_utc(6, 1, 10, 0)) + 1),
        before=("TIMESTAMP", _utc(6, 2, 9, 0)),
    )
    # u1's events after 10:00 on 1 June and before 09:00 on 2 June: only the applicant page at 10:01.
    assert _rows(client.query_and_wait(sql, job_config=config)) == [("u1", _micros(_utc(6, 1, 10, 1)))]
    [job] = emulator.jobs
    assert job.parameter_values == {
        "first": "20240601",
        "last": "20240630",
        "user": "u1",
        "after": _micros(_utc(6, 1, 10, 0)) + 1,
        "before": _utc(6, 2, 9, 0),
    }
    assert "u1" not in job.query and "@user" in job.query  # bound, not spliced into the SQL
    assert "u1" not in (job.duckdb_sql or "")


def test_a_wildcard_reads_only_the_daily_tables_within_its_suffix_bounds(client: bigquery.Client) -> None:
    bounded = f"""SELECT _TABLE_SUFFIX AS suffix, COUNT(*) AS events FROM {EVENTS}
                  WHERE _TABLE_SUFFIX BETWEEN '20240601' AND '20240630' GROUP BY suffix ORDER BY suffix"""
    assert _rows(client.query_and_wait(bounded)) == [("20240601", 3), ("20240602", 2)]
    every = f"SELECT DISTINCT _TABLE_SUFFIX AS suffix FROM {EVENTS} ORDER BY suffix"
    assert [suffix for (suffix,) in _rows(client.query_and_wait(every))] == [
        "20240531",
        "20240601",
        "20240602",
        "20240701",
        "intraday_20240603",
    ]


def test_bytes_processed_are_the_columns_read_and_bytes_billed_at_least_10_mb(
    client: bigquery.Client, emulator: BigQueryEmulator
) -> None:
    # event_name on 1 June: "page_view" twice (2 + 9 bytes each) and "scroll" (2 + 6): 30 bytes.
    client.query_and_wait(f"SELECT event_name FROM `{PROJECT}.{DATASET}.events_20240601`")
    # The same column through the wildcard, bounded to 2 June: "page_view" twice, 22 bytes.
    client.query_and_wait(f"SELECT event_name FROM {EVENTS} WHERE _TABLE_SUFFIX = '20240602'")
    assert [(job.total_bytes_processed, job.total_bytes_billed) for job in emulator.jobs] == [
        (30, TEN_MB),
        (22, TEN_MB),
    ]


def test_parameters_are_extracted_with_a_correlated_unnest(client: bigquery.Client) -> None:
    sql = f"""SELECT user_pseudo_id,
                (SELECT value.int_value FROM UNNEST(event_params) WHERE key = 'ga_session_id') AS session_id,
                (SELECT value.string_value FROM UNNEST(event_params) WHERE key = 'page_location') AS page
              FROM `{PROJECT}.{DATASET}.events_20240601` ORDER BY event_timestamp"""
    assert _rows(client.query_and_wait(sql)) == [
        ("u1", 100, SITE + "/lpa/type"),
        ("u1", 100, SITE + "/lpa/11/applicant"),
        ("u2", None, None),
    ]
    aliased = f"""SELECT param.value.int_value FROM `{PROJECT}.{DATASET}.events_20240602`,
                    UNNEST(event_params) AS param WHERE param.key = 'ga_session_id' ORDER BY 1"""
    assert _rows(client.query_and_wait(aliased)) == [(200,), (300,)]


def test_countif_is_zero_when_no_condition_is_true_as_in_bigquery(client: bigquery.Client) -> None:
    table = f"`{PROJECT}.{DATASET}.events_20240601`"
    sql = f"""SELECT COUNTIF(event_name = 'page_view') AS views, COUNTIF(CAST(NULL AS BOOL)) AS nulls,
                     COUNTIF(event_name = 'purchase') AS purchases FROM {table}"""
    assert _rows(client.query_and_wait(sql)) == [(2, 0, 0)]
    assert _rows(client.query_and_wait(f"SELECT COUNTIF(TRUE) AS n FROM {table} WHERE FALSE")) == [(0,)]


def test_timestamps_are_utc_and_zones_are_applied_where_asked(client: bigquery.Client) -> None:
    sql = f"""SELECT TIMESTAMP_MICROS(event_timestamp) AS at,
                FORMAT_TIMESTAMP('%Y-%m-%d %H:%M', TIMESTAMP_MICROS(event_timestamp)) AS utc,
                FORMAT_TIMESTAMP('%Y-%m-%d %H:%M', TIMESTAMP_MICROS(event_timestamp), 'Europe/London')
                  AS london,
                DATE(TIMESTAMP_MICROS(event_timestamp), 'Europe/London') AS london_day
              FROM `{PROJECT}.{DATASET}.events_20240602` WHERE user_pseudo_id = 'u2'"""
    # 23:30 UTC on 1 June is 00:30 on 2 June in London (BST, UTC+1).
    expected = [(_utc(6, 1, 23, 30), "2024-06-01 23:30", "2024-06-02 00:30", date(2024, 6, 2))]
    assert _rows(client.query_and_wait(sql)) == expected
    assert _rows(client.query(sql).result()) == expected


def test_list_tables_pages_through_every_table(client: bigquery.Client, emulator: BigQueryEmulator) -> None:
    pages = list(client.list_tables(f"{PROJECT}.{DATASET}", page_size=2).pages)
    assert [[table.table_id for table in page] for page in pages] == [
        ["events_20240531", "events_20240601"],
        ["events_20240602", "events_20240701"],
        ["events_intraday_20240603"],
    ]
    listings = [request for request in emulator.requests if request.path.endswith("/tables")]
    assert [request.query.get("pageToken") for request in listings] == [None, "2", "4"]


# --- refusals --------------------------------------------------------------------------------------------


def test_a_query_over_maximum_bytes_billed_is_refused_as_bigquery_refuses_it(
    client: bigquery.Client, emulator: BigQueryEmulator
) -> None:
    sql = f"SELECT event_name FROM `{PROJECT}.{DATASET}.events_20240601`"
    limited = bigquery.QueryJobConfig(maximum_bytes_billed=1000)
    message = f"Query exceeded limit for bytes billed: 1000. {TEN_MB} or higher required."
    with pytest.raises(exceptions.BadRequest, match=message) as refused:
        client.query_and_wait(sql, job_config=limited)
    assert refused.value.errors[0]["reason"] == "bytesBilledLimitExceeded"
    # Through jobs.insert the job fails instead; the client maps a reason it does not know to a 500, as
    # seen with BigQuery itself ("500 Query exceeded limit for bytes billed ...").
    with pytest.raises(exceptions.InternalServerError, match=message) as failed:
        client.query(sql, job_config=limited).result()
    assert failed.value.errors[0]["reason"] == "bytesBilledLimitExceeded"
    enough = bigquery.QueryJobConfig(maximum_bytes_billed=TEN_MB)
    assert len(_rows(client.query_and_wait(sql, job_config=enough))) == 3
    assert [(job.maximum_bytes_billed, job.error_reason) for job in emulator.jobs] == [
        (1000, "bytesBilledLimitExceeded"),
        (1000, "bytesBilledLimitExceeded"),
        (TEN_MB, None),
    ]


def test_an_unknown_dataset_is_not_found(client: bigquery.Client) -> None:
    with pytest.raises(exceptions.NotFound, match=f"Dataset {PROJECT}:nowhere was not found in location EU"):
        client.query_and_wait(f"SELECT 1 FROM `{PROJECT}.nowhere.events_20240601`", location="EU")
    with pytest.raises(exceptions.NotFound, match="Dataset elsewhere:analytics_123 was not found"):
        client.query(f"SELECT 1 FROM `elsewhere.{DATASET}.events_20240601`").result()
    with pytest.raises(exceptions.NotFound, match=f"Dataset {PROJECT}:nowhere"):
        list(client.list_tables(f"{PROJECT}.nowhere"))


def test_a_dataset_is_not_found_from_another_location(client: bigquery.Client) -> None:
    sql = f"SELECT COUNT(*) AS n FROM `{PROJECT}.{DATASET}.events_20240601`"
    with pytest.raises(
        exceptions.NotFound, match=f"Dataset {PROJECT}:{DATASET} was not found in location US"
    ):
        client.query_and_wait(sql, location="US")
    with pytest.raises(exceptions.NotFound, match="was not found in location US"):
        client.query(sql, location="US").result()
    assert _rows(client.query_and_wait(sql, location="EU")) == [(3,)]


def test_sql_the_emulator_cannot_run_is_an_invalid_query(client: bigquery.Client) -> None:
    with pytest.raises(exceptions.BadRequest, match="Syntax error") as syntax:
        client.query_and_wait("SELECT FROM WHERE (")
    assert syntax.value.errors[0]["reason"] == "invalidQuery"
    with pytest.raises(exceptions.BadRequest, match="no DDL"):
        client.query_and_wait(f"DELETE FROM `{PROJECT}.{DATASET}.events_20240601` WHERE TRUE")
    with pytest.raises(exceptions.BadRequest, match="Query parameter 'missing' not found"):
        client.query_and_wait("SELECT @missing AS x")


def test_jobs_are_recorded_with_their_labels_location_and_parameters(
    client: bigquery.Client, emulator: BigQueryEmulator
) -> None:
    config = _named(first=("STRING", "20240601"))
    config.labels = {"measure": "completion-rate", "month": "2024-06"}
    sql = f"SELECT COUNT(*) AS n FROM {EVENTS} WHERE _TABLE_SUFFIX >= @first"
    # 1 June (3), 2 June (2), 1 July (1) and the intraday table ('intraday_...' sorts after '2024...').
    assert _rows(client.query(sql, job_config=config, location="EU").result()) == [(7,)]
    [job] = emulator.jobs
    assert (job.query, job.location, dict(job.labels)) == (sql, "EU", config.labels)
    assert [(param.name, param.type, param.value) for param in job.parameters] == [
        ("first", "STRING", "20240601")
    ]


def test_answer_otherwise_lets_a_subclass_answer_in_bigquery_s_place() -> None:
    class Refusing(BigQueryEmulator):
        def answer_otherwise(self, request: RequestInfo) -> Answer | None:
            if request.path.endswith("/queries"):
                return 403, error_body(403, "accessDenied", "Access Denied: Project opg-analytics")
            return None

    with Refusing() as emulator:
        emulator.create_dataset(PROJECT, DATASET)
        client = _client(emulator)
        with pytest.raises(exceptions.Forbidden, match="Access Denied"):
            client.query_and_wait("SELECT 1 AS one")
        assert [table.table_id for table in client.list_tables(f"{PROJECT}.{DATASET}")] == []
        assert emulator.jobs == []


def test_the_sample_export_counts_the_sample_s_sessions() -> None:
    """Through the emulator, June's sessions in the sample export are the sample's June sessions."""
    start, end = JUNE.start, JUNE.end
    sql = f"""SELECT COUNT(DISTINCT CONCAT(user_pseudo_id, '.', CAST(session_id AS STRING))) AS sessions
              FROM (SELECT user_pseudo_id,
                      (SELECT value.int_value FROM UNNEST(event_params) WHERE key = 'ga_session_id')
                        AS session_id
                    FROM `{SAMPLE_PROJECT}.{SAMPLE_DATASET}.events_*`
                    WHERE _TABLE_SUFFIX BETWEEN @first AND @last AND event_name = 'page_view')
              WHERE session_id >= UNIX_SECONDS(@start) AND session_id < UNIX_SECONDS(@end)"""
    config = _named(
        first=("STRING", "20240601"),
        last=("STRING", "20240701"),
        start=("TIMESTAMP", start),
        end=("TIMESTAMP", end),
    )
    with BigQueryEmulator(sample_tables([JUNE]), location="EU") as emulator:
        rows = _rows(_client(emulator).query_and_wait(sql, job_config=config))
    assert rows == [(len(sample_sessions(JUNE)),)]


# --- the sample export -----------------------------------------------------------------------------------


def _session_id(event: dict[str, Any]) -> int | None:
    params = {param["key"]: param["value"] for param in event["event_params"]}
    return params["ga_session_id"]["int_value"] if "ga_session_id" in params else None


def _location(event: dict[str, Any]) -> str | None:
    params = {param["key"]: param["value"] for param in event["event_params"]}
    return params["page_location"]["string_value"] if "page_location" in params else None


def test_the_sample_export_is_the_same_every_time() -> None:
    assert month_events.__wrapped__(JUNE) == month_events.__wrapped__(JUNE)  # type: ignore[attr-defined]


def test_daily_tables_follow_london_dates() -> None:
    tables = export_tables([JUNE])
    june = [date(2024, 6, 1) + timedelta(days=number) for number in range(30)]
    assert list(tables) == [f"events_{day:%Y%m%d}" for day in [*june, date(2024, 7, 1)]]
    late = 0
    for name, rows in tables.items():
        for row in rows:
            moment = datetime.fromtimestamp(row["event_timestamp"] / 1_000_000, UTC)
            # June is British Summer Time (UTC+1): an event at 23:xx UTC is on the next London day.
            london_day = moment.date() + timedelta(days=1) if moment.hour == 23 else moment.date()
            assert name == f"events_{london_day:%Y%m%d}" == f"events_{row['event_date']}"
            late += moment.hour == 23
    assert late > 0


def test_every_sample_session_is_its_page_views_in_order() -> None:
    views: dict[tuple[str, int], set[tuple[int, str]]] = defaultdict(set)
    for event in month_events(JUNE):
        session = _session_id(event)
        if event["event_name"] == "page_view" and session is not None:
            views[(event["user_pseudo_id"], session)].add((event["event_timestamp"], _location(event) or ""))
    exported = Counter(
        (session, tuple(urlsplit(location).path for _, location in sorted(pages)))
        for (_, session), pages in views.items()
    )
    expected = Counter(
        (int(session.started_at.timestamp()), session.page_paths) for session in sample_sessions(JUNE)
    )
    assert exported == expected
    first_views = {min(pages)[0] for pages in views.values()}
    assert first_views == {_micros(session.started_at) for session in sample_sessions(JUNE)}
    users = Counter(user for user, _ in views)
    assert max(users.values()) > 1  # some users have several sessions


def test_the_sample_export_has_the_real_export_s_noise() -> None:
    events = month_events(JUNE)
    rows = Counter(repr(event) for event in events)
    assert any(count > 1 for count in rows.values())  # exact duplicates
    assert any(_session_id(event) is None for event in events)  # events without a ga_session_id
    applicant_noise = [
        event
        for event in events
        if event["event_name"] != "page_view" and urlsplit(_location(event) or "").path.endswith("/applicant")
    ]
    assert applicant_noise  # engagement and scroll events on the applicant page
    assert any(urlsplit(_location(event) or "").query for event in events)
    assert any(urlsplit(_location(event) or "").fragment for event in events)


def test_results_come_in_pages_through_both_apis() -> None:
    sql = f"SELECT event_timestamp FROM {EVENTS} ORDER BY event_timestamp"
    with BigQueryEmulator(page_rows=2) as emulator:
        emulator.create_dataset(PROJECT, DATASET)
        for name, rows in TABLES.items():
            emulator.load_table(PROJECT, DATASET, name, rows)
        client = _client(emulator)
        expected = sorted(row["event_timestamp"] for rows in TABLES.values() for row in rows)
        assert [value for (value,) in _rows(client.query_and_wait(sql))] == expected
        assert [value for (value,) in _rows(client.query(sql).result())] == expected
        tokens = [
            request.query.get("pageToken") for request in emulator.requests if "/queries/" in request.path
        ]
    assert "2" in tokens and "4" in tokens  # the client asked for the later pages
