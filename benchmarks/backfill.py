"""Backfill benchmark: N months as one range run, then as N single-month runs, on the embedded default.

Both variants run the way an engineer runs them, through `dagster asset materialize` (one invocation with
`--partition-range`, or one per month), each in a fresh data directory and Dagster home, against one GA4
emulator whose request counter tells how many GA4 requests each variant made.

    .venv/bin/python benchmarks/backfill.py --months 24

Prints wall time, peak memory (largest process of the variant) and GA4 requests for each, and their ratio.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from perfplat_assets.common.months import Month, last_closed_month
from perfplat_assets_tests.support.services import DAGSTER, ROOT, dagster_environment
from perfplat_sample.ga4_emulator import GA4Emulator


@dataclass(frozen=True)
class Measurement:
    variant: str
    runs: int
    seconds: float
    peak_rss_mib: float
    ga4_requests: int


def _materialize(partition_args: list[str], env: dict[str, str]) -> None:
    command = [DAGSTER, "asset", "materialize", "-m", "perfplat_assets.definitions", "--select", "*"]
    done = subprocess.run([*command, *partition_args], env=env, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"materialize {partition_args} failed:\n{done.stderr[-3000:]}")


def _variant(name: str, invocations: list[list[str]], emulator: GA4Emulator) -> Measurement:
    """Runs in a child process, so getrusage(RUSAGE_CHILDREN) is this variant's alone."""
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child runs the variant and reports through the pipe
        os.close(read)
        with tempfile.TemporaryDirectory(prefix=f"perfplat-bench-{name}-") as work:
            env = dagster_environment(
                Path(work),
                PERFPLAT_GA4_API_ENDPOINT=emulator.endpoint,
                PERFPLAT_GA4_PROPERTY_ID="0",
                NO_PROXY="127.0.0.1,localhost",
            )
            started = time.perf_counter()
            for partition_args in invocations:
                _materialize(partition_args, env)
            seconds = time.perf_counter() - started
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        os.write(write, f"{seconds} {peak_kib}".encode())
        os._exit(0)
    os.close(write)
    before = emulator.requests_served
    _, status = os.waitpid(child, 0)
    report = os.read(read, 200).decode().split()
    if status != 0 or len(report) != 2:
        raise SystemExit(f"the {name} variant failed")
    seconds, peak_kib = float(report[0]), int(report[1])
    return Measurement(name, len(invocations), seconds, peak_kib / 1024, emulator.requests_served - before)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument(
        "--last", default=None, help="last month, YYYY-MM (default: the month that just closed)"
    )
    options = parser.parse_args(argv)
    last = Month.parse(options.last) if options.last else last_closed_month()
    months = [last]
    while len(months) < options.months:
        months.insert(0, months[0].previous())

    with GA4Emulator() as emulator:
        single = _variant(
            "one range run", [["--partition-range", f"{months[0].key}...{months[-1].key}"]], emulator
        )
        monthly = _variant("month by month", [["--partition", m.key] for m in months], emulator)

    print(f"{options.months} months, {months[0]} to {months[-1]}, on {platform.node() or 'this machine'}")
    print(f"{'variant':<16} {'runs':>5} {'wall s':>8} {'peak MiB':>9} {'GA4 requests':>13}")
    for m in (single, monthly):
        print(f"{m.variant:<16} {m.runs:>5} {m.seconds:>8.1f} {m.peak_rss_mib:>9.0f} {m.ga4_requests:>13}")
    print(
        f"month by month / one range run: wall time x{monthly.seconds / single.seconds:.1f}, "
        f"peak memory x{monthly.peak_rss_mib / single.peak_rss_mib:.2f}, "
        f"GA4 requests x{monthly.ga4_requests / max(single.ga4_requests, 1):.0f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
