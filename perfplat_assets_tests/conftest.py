"""Shared fixtures: a real PostgreSQL database per test, and the embedded default in a temporary folder."""

from __future__ import annotations

import gc
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from perfplat_assets_tests.ckan.fixture import ckan_server, ckan_site  # noqa: F401  (a real CKAN)
from perfplat_assets_tests.support.aws import BUCKET, PREFIX, REGION
from perfplat_assets_tests.support.browser import chromium  # noqa: F401  (Debian's Chromium)
from perfplat_assets_tests.support.ci import unavailable
from perfplat_assets_tests.support.postgres import POSTGRES_URL_VARIABLE, postgres_admin_url, why_unreachable
from perfplat_assets_tests.support.services import ROOT

# Most tests are about one service's figures: the code location they import, and what they run, publish
# Make an LPA alone. The services' own tests (`every_service`, test_adding_a_service.py,
# test_publication_layout.py) publish them all, as a deployment does by default. Set before anything imports
# the code location.
ONE_SERVICE = "make_an_lpa"
os.environ["PERFPLAT_SERVICES"] = ONE_SERVICE

HOW_TO_GET_POSTGRES = (
    "PostgreSQL is not reachable at {url}: {error}. The Postgres tests need a server on 127.0.0.1:5432 "
    "that lets the user create databases. On Debian: `apt-get install postgresql` and "
    "`pg_ctlcluster --skip-systemctl-redirect 15 main start`; or set "
    f"{POSTGRES_URL_VARIABLE} to another server's URL."
)


# `make test` runs the tests on parallel workers (pytest-xdist, `--dist loadgroup`). Every test makes its own
# world (its own temporary folder, Postgres database, DAGSTER_HOME, ports from the kernel, an emptied moto
# server per worker), so any test may run beside any other. What is costly and shared stays on one worker:
# the tests that use it form a group, so it is set up once, not once per worker.
# The modules whose tests take longest, as `--durations` lists them (docs/PERFORMANCE.md), the one-worker
# groups' among them: scheduled first.
LONGEST_FIRST = frozenset(
    {
        "test_ui_backfill",
        "test_report_browser",
        "test_newcomer",
        "test_deployment",
        "test_publication_faults",
        "test_local_stack",
        "test_alerts_daemon",
        "test_local_instance",
        "test_completion_export",
    }
)
SHARED_ON_ONE_WORKER = {
    "ckan_server": "ckan",  # one real CKAN for the run (ckan_site resets its dataset per test)
    "chromium": "chromium",  # one browser at a time, and axe-core's one-time npm install into ~/.cache
    "fresh_clone": "fresh-clone",  # test_newcomer's clone and `make install`, module-scoped
    "image_venv": "image-venv",  # test_deployment's image venv, module-scoped
    "toy_months": "toy-service",  # test_adding_a_service's two months, one process, module-scoped
}


# The test process's garbage collector, collecting less often. A test process holds Dagster, botocore,
# matplotlib, moto's server and pytest's own state (over a million objects), and with Python's default
# thresholds (700, 10, 10) a full collection walking all of them came every few hundred milliseconds of a
# month's run: 4.2 s of a 13 s two-month test, most of it in full collections. Only the test processes
# (the pytest process and its xdist workers) are tuned: what the tests start (dagster, make, CKAN, pip) runs
# with Python's defaults. Cycles are still collected, only less often; nothing the tests assert depends on
# when.
GC_THRESHOLDS = (10_000, 50, 100)


def pytest_configure(config: pytest.Config) -> None:
    gc.set_threshold(*GC_THRESHOLDS)


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """`-m postgres` selects (and `-m "not postgres"` leaves out) every test that uses the real server; a
    test that uses something in SHARED_ON_ONE_WORKER joins its xdist group."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "postgres_server" in fixtures:
            item.add_marker(pytest.mark.postgres)
        groups = [group for fixture, group in SHARED_ON_ONE_WORKER.items() if fixture in fixtures]
        if groups:
            item.add_marker(pytest.mark.xdist_group(groups[0]))
    # The longest first, whole modules at a time (a module's fixtures stay shared): started last, a one-worker
    # group of a minute or two would leave the other workers idle at the end of the run.
    items.sort(key=lambda item: item.module.__name__.rpartition(".")[2] not in LONGEST_FIRST)


@pytest.fixture(autouse=True)
def _loopback_without_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy in the environment must not intercept calls to servers on loopback."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture(scope="session")
def _moto_server() -> Iterator[str]:
    from perfplat_sample.local_stack import start_endpoint

    server = start_endpoint("127.0.0.1", 0)
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_endpoint(_moto_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """moto's server on loopback, emptied for the test, with dummy credentials in the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    requests.post(f"{_moto_server}/moto-api/reset", timeout=10).raise_for_status()
    return _moto_server


@pytest.fixture
def s3_bucket(perfplat_env: Path, aws_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """S3 publication on: a bucket on moto's server, AWS_ENDPOINT_URL_S3, PERFPLAT_S3_BUCKET and
    PERFPLAT_S3_PREFIX naming it. The sample guard stays on: see `sample_data_allowed`."""
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", aws_endpoint)
    monkeypatch.setenv("PERFPLAT_S3_BUCKET", BUCKET)
    monkeypatch.setenv("PERFPLAT_S3_PREFIX", PREFIX)
    client = boto3.client("s3", endpoint_url=aws_endpoint, region_name=REGION)
    client.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    return client


@pytest.fixture
def sample_data_allowed(perfplat_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PERFPLAT_ALLOW_SAMPLE_DATA=true: the guard that keeps the embedded sample's figures from S3 and CKAN
    is off, for a test that publishes the sample there, or mixes it with imported history in one series.
    Only the tests that ask for it by name have it."""
    monkeypatch.setenv("PERFPLAT_ALLOW_SAMPLE_DATA", "true")


@pytest.fixture(scope="session")
def postgres_server() -> URL:
    url = postgres_admin_url()
    error = why_unreachable(url)
    if error is not None:
        unavailable(HOW_TO_GET_POSTGRES.format(url=url.render_as_string(), error=error))
    return url


@pytest.fixture
def postgres_url(postgres_server: URL) -> Iterator[str]:
    """A database of its own for the test, created on the real server and dropped afterwards."""
    name = f"perfplat_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def production_home(
    tmp_path: Path, postgres_url: str, perfplat_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A DAGSTER_HOME with the project's own (production) dagster.yaml, DAGSTER_PG_* naming a fresh DB."""
    url = make_url(postgres_url)
    monkeypatch.setenv("DAGSTER_PG_HOST", url.host or "127.0.0.1")
    monkeypatch.setenv("DAGSTER_PG_PORT", str(url.port or 5432))
    monkeypatch.setenv("DAGSTER_PG_USER", url.username or "postgres")
    monkeypatch.setenv("DAGSTER_PG_PASSWORD", url.password or "")
    monkeypatch.setenv("DAGSTER_PG_DB", url.database or "")
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "deploy" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@pytest.fixture
def perfplat_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The embedded default in a fresh folder: every PERFPLAT_ variable cleared, the data dir set, and Make an
    LPA alone published (`every_service` publishes them all)."""
    for name in list(os.environ):
        if name.startswith("PERFPLAT_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PERFPLAT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("PERFPLAT_SERVICES", ONE_SERVICE)
    return tmp_path / "data"


@pytest.fixture
def every_service(perfplat_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`perfplat_env` with every registered service published, as a deployment does by default."""
    monkeypatch.delenv("PERFPLAT_SERVICES")
    return perfplat_env
