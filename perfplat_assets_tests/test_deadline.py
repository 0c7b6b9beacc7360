"""`published_by_deadline` tells the truth: a month passes only when a run first published it at or before
its deadline, a month published late says how late and stays failed, and an imported month never counts. The
times are what the metrics store's journal records (SQLite and Postgres, real), written with the journal's
own functions at the times a scenario needs; the sensor is evaluated as Dagster evaluates it. Also: the
first publication after an import is the normal path, told at INFO, not a recovery.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dagster import DagsterInstance, SensorResult, build_sensor_context
from sqlalchemy import insert, update

from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.metrics_store.tables import publication_record
from perfplat_assets.publication.committing.journal import UNDONE, finish, first_published, journal_entry
from perfplat_assets.publication.committing.publish import PublicationRequest, publish
from perfplat_assets.publication.deadline import DeadlineStatus, lateness
from perfplat_assets.publication.freshness import PublicationDeadline, build_deadline_sensor
from perfplat_assets.publication.history.importing import import_published_file
from perfplat_assets.publication.targets.directory import PublicationDirectory
from perfplat_assets.services.registry import service_called
from perfplat_assets.store_schema import STORED_TABLES
from perfplat_assets_tests.support.published import published_record

assert STORED_TABLES  # every service's tables, made before a store creates its schema
MAKE, USE, DEPUTY = (service_called(name) for name in ("make_an_lpa", "use_an_lpa", "deputy_reporting"))
OCTOBER, NOVEMBER = Month.parse("2026-10"), Month.parse("2026-11")
DEADLINE = datetime(2026, 12, 1, 11, tzinfo=UTC)  # November's, by the default cron "0 11 1 * *"
PASSWORD = "canary-pw-77c1"  # in the URL of a store that cannot be reached: no log line may hold it


class _Log:
    """What publish() logs, by level."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str) -> None:
        self.lines.append(f"INFO {message}")

    def warning(self, message: str) -> None:
        self.lines.append(f"WARNING {message}")


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> MetricsStore:
    """The metrics store, embedded (which keeps no time zone) and in production."""
    if request.param == "sqlite":
        return MetricsStore(data_dir=str(tmp_path / "data"))
    return MetricsStore(url=request.getfixturevalue("postgres_url"))


def _journalled(
    store: MetricsStore,
    service: Service,
    months: list[Month],
    run_id: str,
    finished: datetime,
    state: str = "applied",
) -> None:
    """A publication of `months` the journal records as a run left it: started a minute before `finished`,
    then applied at `finished` (or undone then)."""
    entry = journal_entry([m.key for m in months], "d" * 64, run_id, finished - timedelta(minutes=1), {})
    publications = publication_record(service.name).publications
    with store.transaction() as connection:
        number = connection.execute(insert(publications).values(entry)).inserted_primary_key[0]
        if state == UNDONE:
            connection.execute(
                update(publications)
                .where(publications.c.id == number)
                .values(state=UNDONE, finished_at=finished)
            )
    if state != UNDONE:
        finish(store, service, [number], ["directory"], finished)


# What the check says, worked out by hand


@pytest.mark.parametrize(
    ("late", "said"),
    [
        (timedelta(seconds=20), "less than a minute"),
        (timedelta(minutes=1), "1 minute"),
        (timedelta(minutes=40), "40 minutes"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=23), "23 hours"),
        (timedelta(hours=23, minutes=40), "1 day"),  # nearer a day than 23 hours
        (timedelta(days=4, hours=22, minutes=14), "5 days"),
        (timedelta(days=31), "31 days"),
    ],
)
def test_how_late_is_said_as_a_person_says_it(late: timedelta, said: str):
    assert lateness(late) == said


def test_a_month_passes_only_when_published_at_or_before_its_deadline():
    on_time = DeadlineStatus(NOVEMBER, DEADLINE, datetime(2026, 12, 1, 7, 2, tzinfo=UTC))
    assert on_time.published
    assert (
        on_time.description
        == "2026-11 was published 2026-12-01 07:02 UTC, by its deadline (2026-12-01 11:00 UTC)."
    )
    assert DeadlineStatus(NOVEMBER, DEADLINE, DEADLINE).published  # at the deadline is in time
    late = DeadlineStatus(NOVEMBER, DEADLINE, datetime(2026, 12, 6, 9, 14, tzinfo=UTC))
    assert not late.published
    assert late.description == (
        "2026-11 was published 2026-12-06 09:14 UTC, 5 days after the deadline (2026-12-01 11:00 UTC); its "
        "first publication by a run is what counts, so publishing it again does not change this."
    )
    missing = DeadlineStatus(NOVEMBER, DEADLINE, None)
    assert not missing.published
    assert missing.description.startswith(
        "2026-11 was not published by a run by 2026-12-01 11:00 UTC (an imported month does not count). "
    )
    unknown = DeadlineStatus(NOVEMBER, DEADLINE, DEADLINE, unknown="the store said no.")
    assert not unknown.published  # what cannot be told is not a pass
    assert unknown.description == (
        "Whether 2026-11 was published by a run by 2026-12-01 11:00 UTC cannot be told: the store said no."
    )


# The journal's record


def test_a_month_published_late_stays_late_and_an_import_or_an_undone_run_never_counts(store: MetricsStore):
    """The finding of issue 30: 2026-11 first published on 6 December passed as "published by a run"."""
    deadline = PublicationDeadline(service="make_an_lpa", cron="0 11 1 * *")
    at_deadline = deadline.status(store, now=DEADLINE)
    assert (at_deadline.month, at_deadline.published_at, at_deadline.published) == (NOVEMBER, None, False)
    # Before the deadline, November was imported and written to every target (OPG published it), and a run
    # published it but was undone (no target kept it); October went out in time.
    _journalled(store, MAKE, [NOVEMBER], "import-ab12cd34ef56", datetime(2026, 11, 20, 9, tzinfo=UTC))
    _journalled(store, MAKE, [NOVEMBER], "run-undone", datetime(2026, 12, 1, 7, tzinfo=UTC), state=UNDONE)
    _journalled(store, MAKE, [OCTOBER], "run-october", datetime(2026, 11, 1, 7, 5, tzinfo=UTC))
    assert not deadline.status(store, now=DEADLINE).published
    # A run first publishes it on 6 December, with October again; later runs publish it again.
    first = datetime(2026, 12, 6, 9, 14, tzinfo=UTC)
    _journalled(store, MAKE, [OCTOBER, NOVEMBER], "run-late", first)
    _journalled(store, MAKE, [NOVEMBER], "run-again", datetime(2026, 12, 8, 7, tzinfo=UTC))
    assert first_published(store, MAKE, NOVEMBER) == first
    assert first_published(store, MAKE, OCTOBER) == datetime(2026, 11, 1, 7, 5, tzinfo=UTC)
    for now in (first + timedelta(minutes=1), datetime(2026, 12, 20, tzinfo=UTC)):
        late = deadline.status(store, now=now)
        assert (late.month, late.published_at, late.published) == (NOVEMBER, first, False)
        assert "2026-11 was published 2026-12-06 09:14 UTC, 5 days after the deadline" in late.description
    # October's own deadline was met, and still is.
    assert deadline.status(store, now=datetime(2026, 11, 30, tzinfo=UTC)).published
    # Another service's journal is its own.
    assert first_published(store, USE, NOVEMBER) is None


def _tick(sensor, instance: DagsterInstance, cursor: str | None) -> SensorResult:
    with build_sensor_context(instance=instance, cursor=cursor) as context:
        return sensor(context)


def test_the_sensor_reports_each_services_own_deadline(postgres_url: str, capfd: pytest.CaptureFixture[str]):
    """Every service's check at its own deadline (today's, by the clock): Make an LPA's month published
    late, Use an LPA's in time, the deputy report's not at all. A store that cannot be read is tried again
    next tick, never reported as a missed month."""
    store = MetricsStore(url=postgres_url)
    deadlines = {
        MAKE.name: PublicationDeadline(service=MAKE.name, cron="0 11 1 * *"),
        USE.name: PublicationDeadline(service=USE.name, cron="30 9 2 * *"),
        DEPUTY.name: PublicationDeadline(service=DEPUTY.name, cron="0 11 1 * *"),
    }
    make_deadline, use_deadline = deadlines[MAKE.name].last(), deadlines[USE.name].last()
    make_month, use_month = (Month.of(d.year, d.month).previous() for d in (make_deadline, use_deadline))
    _journalled(store, MAKE, [make_month], "run-make", make_deadline + timedelta(hours=26))
    _journalled(store, USE, [use_month], "run-use", use_deadline - timedelta(hours=2))
    instance = DagsterInstance.ephemeral()

    unreadable = MetricsStore(url=f"postgresql://perfplat:{PASSWORD}@127.0.0.1:9/metrics")  # refused
    capfd.readouterr()
    refused = _tick(build_deadline_sensor(deadlines, unreadable), instance, None)
    assert not refused.asset_events and "could not be read" in refused.skip_reason.skip_message
    said = capfd.readouterr().err  # the sensor's log
    assert said.count("cannot be told") == 3 and "PERFPLAT_METRICS_DB_URL" in said and PASSWORD not in said
    assert MAKE.name not in json.loads(refused.cursor)  # not reported: the next tick tries again

    sensor = build_deadline_sensor(deadlines, store)
    result = _tick(sensor, instance, refused.cursor)
    by_service = {event.asset_key.path[0]: event for event in result.asset_events}
    assert set(by_service) == {MAKE.name, USE.name, DEPUTY.name}
    make, use, deputy = (by_service[s.name] for s in (MAKE, USE, DEPUTY))
    assert not make.passed and "1 day after the deadline" in make.description  # 26 hours
    assert make.metadata["month"].value == str(make_month)
    assert make.metadata["published_at"].value == (make_deadline + timedelta(hours=26)).isoformat()
    assert use.passed and use.metadata["month"].value == str(use_month)
    assert not deputy.passed and "was not published by a run" in deputy.description
    assert "published_at" not in deputy.metadata
    again = _tick(sensor, instance, result.cursor)
    assert not again.asset_events and "already reported" in again.skip_reason.skip_message


# The first publication after an import


def test_the_first_publication_after_an_import_is_not_a_recovery(postgres_url: str, tmp_path: Path):
    store = MetricsStore(url=postgres_url)
    april, may, june = Month.parse("2026-04"), Month.parse("2026-05"), Month.parse("2026-06")
    series = tmp_path / "data.json"
    series.write_text(
        json.dumps(
            [published_record(april, "uptime-percent", 99.9), published_record(may, "uptime-percent", 100)]
        )
    )
    import_published_file(series, store)
    directory = PublicationDirectory(path=str(tmp_path / "publish"), store=store, service=MAKE.name)
    history = (
        f"Make an LPA's imported history (2026-04 to 2026-05, 2 months; journal entry #1, imported from "
        f"{series.resolve()})"
    )

    def request(dry_run: bool) -> PublicationRequest:
        return PublicationRequest(
            MAKE, [june], {(june, "uptime-percent"): 99.5}, "run-june", None, june, dry_run
        )

    planned, log = publish(store, [directory], request(dry_run=True), _Log()), _Log()
    assert planned.recovered is None
    assert planned.imported_history == f"{history} is not at every target yet: a real run publishes it first"
    before = datetime.now(UTC)
    published = publish(store, [directory], request(dry_run=False), log)
    assert published.recovered is None and set(published.imported) == {april, may}
    told = f"{history} is published for the first time: every target now holds it"
    assert published.imported_history == told
    assert log.lines == [f"INFO {told}"]  # once, and no WARNING
    # For the deadline, the run's month counts from now; the imported ones never do.
    assert before <= first_published(store, MAKE, june) <= datetime.now(UTC)
    assert first_published(store, MAKE, april) is None and first_published(store, MAKE, may) is None
    # The next publication finds nothing left to do.
    again = _Log()
    assert publish(store, [directory], request(dry_run=False), again).imported_history is None
    assert again.lines == []
