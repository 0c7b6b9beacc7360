"""A real, unmodified CKAN 2.11.6 on loopback, as data.gov.uk runs, for tests that publish through its API.

`running_ckan()` makes a fresh PostgreSQL database, starts the in-memory Solr stand-in, writes a ckan.ini
with `ckan generate config`, runs `ckan db init`, adds a sysadmin and an API token with CKAN's own CLI,
serves CKAN with `ckan run`, and creates an organization and a dataset through the Action API. Everything
is undone on exit. CKAN runs from its own venv, made beforehand by `python -m
perfplat_assets_tests.ckan.install`; the tests themselves need no network.

Use the fixtures `ckan_server` (one CKAN for the whole pytest run) or `ckan_site` (the same, with the
dataset emptied of resources and its metadata restored before the test). Import them into the test module,
or into conftest.py to share them: either way only one CKAN is started per run.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from perfplat_assets_tests.ckan.location import (
    CKAN_VERSION,
    INSTALL_COMMAND,
    VENV_VARIABLE,
    ckan_executable,
    ckan_venv,
    marker,
)
from perfplat_assets_tests.ckan.solr import SolrStandIn
from perfplat_assets_tests.support.ci import unavailable
from perfplat_assets_tests.support.postgres import POSTGRES_URL_VARIABLE, postgres_admin_url, why_unreachable
from perfplat_assets_tests.support.services import free_port, stop_group

REDIS_URL_VARIABLE = "PERFPLAT_CKAN_REDIS_URL"
# A database number of its own, away from the default 0 that other things on the machine may use.
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"

DEFAULT_ORGANIZATION = "office-of-the-public-guardian"
DEFAULT_DATASET = "make-a-lasting-power-of-attorney-service-performance"
SYSADMIN = "perfplat-admin"
STARTUP_DEADLINE_SECONDS = 120.0
CLI_DEADLINE_SECONDS = 120.0
STOP_DEADLINE_SECONDS = 15.0
REQUEST_TIMEOUT_SECONDS = 30.0

# CKAN is on loopback: a proxy from the environment (HTTP_PROXY and the like) must not come between.
http = requests.Session()
http.trust_env = False


@dataclass(frozen=True)
class CkanSite:
    """What a test needs to talk to the running CKAN; `log` is the server's output, for diagnosis."""

    url: str
    api_token: str
    dataset: str
    organization: str
    sysadmin: str
    log: Path

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/3/action"


class CkanActionError(Exception):
    """CKAN answered `success: false` (usually with HTTP 400, 403, 404 or 409)."""

    def __init__(self, action: str, status: int, error: Mapping[str, Any]) -> None:
        super().__init__(f"{action} failed with HTTP {status}: {dict(error)}")
        self.action = action
        self.status = status
        self.error = dict(error)

    @property
    def error_type(self) -> str:
        """e.g. "Authorization Error", "Not Found Error", "Validation Error"."""
        return str(self.error.get("__type", ""))


class CkanStartError(Exception):
    """CKAN was installed and its services reachable, yet it did not come up: a real failure."""


def ckan_action(
    site: CkanSite, action: str, data: Mapping[str, Any] | None = None, token: str | None = None
) -> Any:
    """POST to the Action API as CKAN's clients (ckanapi included) do; returns `result` or raises."""
    headers = {"Authorization": site.api_token if token is None else token}
    response = http.post(
        f"{site.api_url}/{action}", json=dict(data or {}), headers=headers, timeout=REQUEST_TIMEOUT_SECONDS
    )
    try:
        body = response.json()
    except ValueError:
        body = {"success": False, "error": {"message": response.text[:2000]}}
    if not body.get("success"):
        raise CkanActionError(action, response.status_code, body.get("error") or {})
    return body["result"]


def dataset_fields(site: CkanSite) -> dict[str, Any]:
    """The dataset as the fixture creates it, and as reset_dataset restores it."""
    return {
        "name": site.dataset,
        "title": "Make a lasting power of attorney: service performance",
        "notes": "Monthly performance data for the Make a lasting power of attorney service.",
        "owner_org": site.organization,
        "private": False,
        "resources": [],
    }


def reset_dataset(site: CkanSite) -> None:
    """package_update replaces the whole dataset: its resources go and its original metadata returns."""
    ckan_action(site, "package_update", {"id": site.dataset, **dataset_fields(site)})


# --- whether CKAN can run here ------------------------------------------------------------------------


def redis_url() -> str:
    return os.environ.get(REDIS_URL_VARIABLE, DEFAULT_REDIS_URL)


def missing_prerequisite() -> str | None:
    """Why CKAN cannot be started here, or None: the install step's venv, PostgreSQL and Redis."""
    venv = ckan_venv()
    if not marker(venv).exists() or not ckan_executable(venv).exists():
        return (
            f"CKAN is not installed: run `{INSTALL_COMMAND}` (it installs CKAN {CKAN_VERSION} into {venv}; "
            f"${VENV_VARIABLE} chooses another place)"
        )
    url = postgres_admin_url()
    error = why_unreachable(url)
    if error is not None:
        return (
            f"PostgreSQL is not reachable at {url.render_as_string()}, so CKAN cannot run: "
            f"{error} (set {POSTGRES_URL_VARIABLE} for another server)"
        )
    redis = urlsplit(redis_url())
    try:
        with socket.create_connection(
            (redis.hostname or "127.0.0.1", redis.port or 6379), timeout=5
        ) as probe:
            probe.sendall(b"PING\r\n")
            reply = probe.recv(64)
    except OSError as error:
        reply = str(error).encode()
    if not reply.startswith(b"+PONG"):
        return (
            f"Redis is not answering at {redis_url()}, which CKAN needs: {reply.decode(errors='replace')!r} "
            f"(start redis-server, or set {REDIS_URL_VARIABLE})"
        )
    return None


# --- the parts of a running CKAN --------------------------------------------------------------------


def ckan_environment() -> dict[str, str]:
    """CKAN's venv, not the one running pytest; no proxy between it and the loopback servers."""
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "CKAN_INI")
    }
    environment["NO_PROXY"] = environment["no_proxy"] = "127.0.0.1,localhost"
    environment["PATH"] = f"{ckan_venv() / 'bin'}{os.pathsep}{environment.get('PATH', '')}"
    return environment


def run_ckan(*arguments: str | Path, cwd: Path) -> str:
    """Run one `ckan` CLI command to completion, returning its output or raising with it."""
    command = [str(ckan_executable(ckan_venv())), *(str(argument) for argument in arguments)]
    try:
        finished = subprocess.run(
            command,
            cwd=cwd,
            env=ckan_environment(),
            capture_output=True,
            text=True,
            timeout=CLI_DEADLINE_SECONDS,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as error:
        raise CkanStartError(f"`{' '.join(command)}` took over {CLI_DEADLINE_SECONDS:.0f} s") from error
    if finished.returncode != 0:
        raise CkanStartError(
            f"`{' '.join(command)}` exited with {finished.returncode}:\n{finished.stdout}\n{finished.stderr}"
        )
    return finished.stdout


@contextlib.contextmanager
def fresh_database(admin_url: URL) -> Iterator[str]:
    """A database of CKAN's own, dropped afterwards; CKAN reaches it with psycopg2, hence `postgresql://`."""
    name = f"perfplat_ckan_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield admin_url.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def write_config(directory: Path, settings: Mapping[str, str]) -> Path:
    """CKAN's own generator and config-tool, so the file is whatever this CKAN version expects."""
    ini = directory / "ckan.ini"
    run_ckan("generate", "config", ini, cwd=directory)
    run_ckan("config-tool", ini, *(f"{key}={value}" for key, value in settings.items()), cwd=directory)
    generated = ini.read_text()
    for needed in ("api_token.jwt.encode.secret", "api_token.jwt.decode.secret"):
        if f"\n{needed} = " not in generated:
            raise CkanStartError(f"the generated {ini} has no {needed}, which API tokens need")
    return ini


def log_tail(log: Path, characters: int = 6000) -> str:
    try:
        return log.read_text(errors="replace")[-characters:]
    except OSError as error:
        return f"(no log: {error})"


def wait_until_serving(server: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Poll status_show until it answers, the server exits, or the deadline passes; no fixed sleeps."""
    deadline = time.monotonic() + STARTUP_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        try:
            if http.get(f"{url}/api/3/action/status_show", timeout=5).json().get("success"):
                return
        except (requests.RequestException, ValueError):
            pass
        # Waiting on the process is the pause between polls, and notices at once if it died.
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=0.2)
        if server.returncode is not None:
            raise CkanStartError(f"ckan run exited with {server.returncode}:\n{log_tail(log)}")
    raise CkanStartError(f"CKAN did not answer in {STARTUP_DEADLINE_SECONDS:.0f} s:\n{log_tail(log)}")


@contextlib.contextmanager
def serving(ini: Path, port: int, log: Path) -> Iterator[str]:
    url = f"http://127.0.0.1:{port}"
    # No reloader: it would fork a watcher process and restart CKAN when files change.
    command = [ckan_executable(ckan_venv()), "-c", ini, "run", "--disable-reloader", "--threaded"]
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*command, "--host", "127.0.0.1", "--port", str(port)],
            cwd=ini.parent,
            env=ckan_environment(),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_until_serving(server, url, log)
        yield url
    finally:
        stop_group(server, STOP_DEADLINE_SECONDS)  # ckan run and anything it started


@contextlib.contextmanager
def running_ckan(
    organization: str = DEFAULT_ORGANIZATION, dataset: str = DEFAULT_DATASET
) -> Iterator[CkanSite]:
    """A CKAN with a sysadmin, its API token, an organization and a public dataset (no resources) in it.

    Skips loudly (fails under CI=true) if CKAN is not installed or PostgreSQL or Redis is unreachable;
    raises CkanStartError if CKAN itself does not come up.
    """
    missing = missing_prerequisite()
    if missing is not None:
        unavailable(missing)
    with contextlib.ExitStack() as stack:
        directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="perfplat-ckan-")))
        database = stack.enter_context(fresh_database(postgres_admin_url()))
        solr = stack.enter_context(SolrStandIn())
        port = free_port()  # ckan run takes a port number, not a socket
        ini = write_config(
            directory,
            {
                "sqlalchemy.url": database,
                "ckan.site_url": f"http://127.0.0.1:{port}",
                "solr_url": solr.url,
                "ckan.redis.url": redis_url(),
                "ckan.storage_path": str(directory / "storage"),
                # CKAN names its Redis keys and job queues after the site id: runs side by side stay apart.
                "ckan.site_id": f"perfplat-tests-{uuid.uuid4().hex[:8]}",
            },
        )
        run_ckan("-c", ini, "db", "init", cwd=directory)
        password = secrets.token_urlsafe(16)
        email = "email=ckan-admin@perfplat.invalid"
        run_ckan("-c", ini, "user", "add", SYSADMIN, email, f"password={password}", cwd=directory)
        run_ckan("-c", ini, "sysadmin", "add", SYSADMIN, cwd=directory)
        # It prints "API Token created:" and then the token, indented, on the last line.
        token = run_ckan("-c", ini, "user", "token", "add", SYSADMIN, "perfplat-tests", cwd=directory)
        token = token.strip().splitlines()[-1].strip()
        log = directory / "ckan.log"
        url = stack.enter_context(serving(ini, port, log))
        site = CkanSite(url, token, dataset, organization, SYSADMIN, log)
        title = "Office of the Public Guardian"
        ckan_action(site, "organization_create", {"name": organization, "title": title})
        ckan_action(site, "package_create", dataset_fields(site))
        yield site


# --- pytest fixtures ------------------------------------------------------------------------------

_STARTED = pytest.StashKey["CkanSite | BaseException"]()


@pytest.fixture(scope="session")
def ckan_server(request: pytest.FixtureRequest) -> CkanSite:
    """One CKAN per pytest run, even when several modules import this fixture (each import would otherwise
    be a fixture of its own); stopped when pytest finishes. A failure to start is remembered, not retried."""
    config = request.config
    if _STARTED not in config.stash:
        stack = contextlib.ExitStack()
        config.add_cleanup(stack.close)
        try:
            config.stash[_STARTED] = stack.enter_context(running_ckan())
        except (Exception, pytest.skip.Exception, pytest.fail.Exception) as problem:
            config.stash[_STARTED] = problem
    started = config.stash[_STARTED]
    if isinstance(started, BaseException):
        raise started
    return started


@pytest.fixture
def ckan_site(ckan_server: CkanSite) -> CkanSite:
    """The shared CKAN, with its dataset reset so that each test starts from the same state."""
    reset_dataset(ckan_server)
    return ckan_server
