"""Helpers for browser tests: Debian's Chromium driven by Playwright, and the real webserver and daemon.

Playwright's own browser download does not work on these machines, so the tests use the distribution's
Chromium; a machine without it skips loudly (and CI, where a missing browser is a broken build, fails).
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import TypeVar

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "test-artifacts"

CHROMIUM = Path("/usr/bin/chromium")
# Headless Chromium as root in a container, with nothing that phones home or updates itself mid-test.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
HOW_TO_GET_A_BROWSER = (
    "the browser test drives Debian's Chromium with Python Playwright; missing: {missing}. "
    "Install Chromium with `apt-get install chromium` (it must be at {chromium}) and Playwright with "
    "`.venv/bin/pip install playwright`; `playwright install` is not needed"
)

T = TypeVar("T")


def _ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_chromium() -> None:
    """Skip loudly without Chromium or Playwright; under CI a missing browser fails the build instead."""
    missing = []
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        missing.append(f"{CHROMIUM} (Debian package chromium)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("the Python package playwright")
    if not missing:
        return
    message = HOW_TO_GET_A_BROWSER.format(chromium=CHROMIUM, missing=" and ".join(missing))
    if _ci():
        pytest.fail(f"{message} (CI is set, so this fails instead of skipping)", pytrace=False)
    pytest.skip(f"SKIPPED LOUDLY: {message}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def log_tails(logs: list[Path]) -> str:
    """The end of each service log, for a failure message that says why."""
    return "\n".join(
        f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}" for log in logs if log.exists()
    )


class DagsterServices:
    """The webserver and the daemon from workspace.yaml, each in its own process group."""

    def __init__(self, port: int, logs: list[Path], processes: list[subprocess.Popen]) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.logs = logs
        self.processes = processes

    def graphql(self, document: str, variables: dict | None = None) -> dict:
        reply = requests.post(
            f"{self.url}/graphql", json={"query": document, "variables": variables or {}}, timeout=30
        )
        reply.raise_for_status()
        return reply.json()["data"]

    def poll(self, what: str, condition: Callable[[], T], deadline_seconds: float) -> T:
        """Wait for a condition with a deadline, failing early (with the logs) if a service has died."""
        deadline = time.monotonic() + deadline_seconds
        while time.monotonic() < deadline:
            dead = [p.args[0] for p in self.processes if p.poll() is not None]
            if dead:
                pytest.fail(f"{dead} exited while waiting for {what}\n{log_tails(self.logs)}")
            value = condition()
            if value:
                return value
            time.sleep(1)
        pytest.fail(f"timed out after {deadline_seconds:.0f} s waiting for {what}\n{log_tails(self.logs)}")

    def serving(self) -> bool:
        try:
            return bool(self.graphql("{ assetNodes { assetKey { path } } }")["assetNodes"])
        except (requests.RequestException, KeyError, TypeError, ValueError):
            return False


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the whole group (the webserver's code server too), then SIGKILL after a deadline."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@contextmanager
def dagster_services(logs_dir: Path, ready_seconds: float = 180) -> Iterator[DagsterServices]:
    """Start `dagster-webserver` and `dagster-daemon run` from the checkout with the current environment
    (DAGSTER_HOME, DAGSTER_PG_*, PERFPLAT_*), wait until the code location is served, stop both after."""
    port = free_port()
    logs = [logs_dir / "webserver.log", logs_dir / "daemon.log"]
    commands = [
        [str(BIN / "dagster-webserver"), "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
        [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
    ]
    with ExitStack() as stack:
        processes = []
        for command, log in zip(commands, logs, strict=True):
            with log.open("wb") as output:
                process = subprocess.Popen(
                    command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
                )
            stack.callback(_stop, process)
            processes.append(process)
        services = DagsterServices(port, logs, processes)
        services.poll("the webserver to serve the code location", services.serving, ready_seconds)
        yield services
