"""Processes for end-to-end tests and benchmarks: the checkout and the venv's executables, free ports,
polling with a deadline, process groups, and the real Dagster webserver and daemon from workspace.yaml."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path
from typing import TypeVar

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]  # the checkout
BIN = Path(sys.executable).parent  # the venv's executables
DAGSTER = str(BIN / "dagster")  # Dagster's own CLI
# `dagster asset materialize` of the code location, every asset, as an engineer types it (then a partition).
MATERIALIZE_EVERY_ASSET = ["asset", "materialize", "-m", "perfplat_assets.definitions", "--select", "*"]

T = TypeVar("T")
POLL_INTERVAL = 0.5  # seconds between two looks at a condition
_between_looks = threading.Event()


def poll(
    what: str,
    condition: Callable[[], T],
    deadline_seconds: float,
    logs: Sequence[Path] = (),
    processes: Sequence[subprocess.Popen] = (),
) -> T:
    """Wait for a condition with a deadline, failing early (with the logs) if a process it needs has died."""
    deadline = time.monotonic() + deadline_seconds
    while time.monotonic() < deadline:
        dead = [p.args[0] for p in processes if p.poll() is not None]
        if dead:
            pytest.fail(f"{dead} exited while waiting for {what}\n{log_tails(logs)}")
        value = condition()
        if value:
            return value
        _between_looks.wait(POLL_INTERVAL)  # never set: the look's interval, inside the deadline
    pytest.fail(f"timed out after {deadline_seconds:.0f} s waiting for {what}\n{log_tails(logs)}")


def stop_group(process: subprocess.Popen, deadline_seconds: float = 60.0) -> None:
    """SIGTERM to the whole process group (a webserver's code server, anything `ckan run` started), then
    SIGKILL if it has not ended by the deadline; a group that is already gone is left alone."""
    for signal_number in (signal.SIGTERM, signal.SIGKILL):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal_number)
        try:
            process.wait(timeout=deadline_seconds)
            return
        except subprocess.TimeoutExpired:
            continue


def stop_with_ctrl_c(process: subprocess.Popen, log: Path, dagster_pid: int | None, what: str) -> None:
    """Ctrl-C to the group of `make dev` (or the local stack), as a person stops it, and its end awaited;
    past two minutes it and the `dagster dev` it started are killed and the test fails with the log."""
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        if dagster_pid:
            os.killpg(dagster_pid, signal.SIGKILL)
        pytest.fail(f"{what} did not stop on Ctrl-C:\n{log.read_text()[-4000:]}")


def dagster_dev_pid(log: Path) -> int:
    """The pid `dagster dev` prints as it starts ("(pid 1234)"), read from the log of what started it."""
    return int(poll("dagster dev", lambda: re.findall(r"\(pid (\d+)\)", log.read_text()), 60, [log])[0])


def make(target: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`make TARGET` in the checkout with the tests' own environment, installed already: make is told not
    to install it again."""
    venv = Path(sys.prefix)
    return subprocess.run(
        ["make", "--no-print-directory", target, f"VENV={venv}", "-o", f"{venv}/.installed-test"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


def free_port() -> int:
    """A port the kernel just handed out on loopback, for a server that takes a number, not a socket."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def dagster_environment(work: Path, **extra: str) -> dict[str, str]:
    """The environment of a `dagster` command run as an engineer runs it: no PERFPLAT_ variable from outside,
    a DAGSTER_HOME in `work` with telemetry off, the data under `work/data`, Make an LPA alone published (as
    the tests publish it, unless `extra` says otherwise), then `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PERFPLAT_")}
    home = work / "dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    env.update(
        DAGSTER_HOME=str(home), PERFPLAT_DATA_DIR=str(work / "data"), PERFPLAT_SERVICES="make_an_lpa", **extra
    )
    return env


def log_tails(logs: list[Path]) -> str:
    """The end of each service log, for a failure message that says why."""
    return "\n".join(
        f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}" for log in logs if log.exists()
    )


def answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).ok
    except requests.RequestException:
        return False


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
        return poll(what, condition, deadline_seconds, self.logs, self.processes)

    def serving(self) -> bool:
        try:
            return bool(self.graphql("{ assetNodes { assetKey { path } } }")["assetNodes"])
        except (requests.RequestException, KeyError, TypeError, ValueError):
            return False


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
            stack.callback(stop_group, process)
            processes.append(process)
        services = DagsterServices(port, logs, processes)
        services.poll("the webserver to serve the code location", services.serving, ready_seconds)
        yield services
