"""Run-floor benchmark: one month of every asset, on the embedded default, under three executors side by side.

Each variant is one `dagster asset materialize` of the same month, as an engineer runs it, in a fresh data
directory and Dagster home (the checkout's dagster.yaml: its pools and run-tag limits), the variants taking
turns round by round so that the machine's state weighs on each alike:
- `default`: Dagster's default executor, a process per step (spawned, each importing Dagster and perfplat);
- `in-process`: Dagster's in-process executor, every step in the run's own process;
- `shipped`: the code location as perfplat ships it (`perfplat_assets.definitions`).

    .venv/bin/python benchmarks/run_floor.py                 # --rounds 3 --partition 2026-05-01

Prints each variant's wall times, their median, and each median over the in-process one.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import yaml
from dagster import Definitions, in_process_executor, multiprocess_executor

from perfplat_assets import definitions
from perfplat_assets_tests.support.services import DAGSTER, ROOT, dagster_environment

# The two reference code locations: perfplat's assets and resources under Dagster's stock executors.
default = Definitions(
    assets=definitions.assets,
    resources=definitions.resources,
    executor=multiprocess_executor,
)
in_process = Definitions(
    assets=definitions.assets,
    resources=definitions.resources,
    executor=in_process_executor,
)

VARIANTS = {
    "default": ["-f", __file__, "-a", "default"],
    "in-process": ["-f", __file__, "-a", "in_process"],
    "shipped": ["-m", "perfplat_assets.definitions"],
}


def _local_instance_in(home: Path) -> None:
    """The checkout's dagster.yaml (its pools, run-tag limits and coordinator) in `home`, less its storage
    paths, which name the checkout's own .perfplat/dagster_home: the benchmark's runs stay in `home`."""
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text(encoding="utf-8"))
    for key in ("storage", "local_artifact_storage", "compute_logs"):
        config.pop(key, None)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")


def _run(target: list[str], partition: str) -> float:
    with tempfile.TemporaryDirectory(prefix="perfplat-run-floor-") as work:
        env = dagster_environment(Path(work))
        _local_instance_in(Path(env["DAGSTER_HOME"]))
        command = [DAGSTER, "asset", "materialize", *target, "--select", "*", "--partition", partition]
        started = time.perf_counter()
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(target)} failed:\n{done.stderr[-3000:]}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--partition", default="2026-05-01")
    options = parser.parse_args()
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for _ in range(options.rounds):
        for name, target in VARIANTS.items():
            times[name].append(_run(target, options.partition))
    medians = {name: statistics.median(seconds) for name, seconds in times.items()}
    print(
        f"one month ({options.partition[:7]}) of every asset, {options.rounds} rounds, on {platform.node()}"
    )
    print(f"{'executor':<12}{'median s':>10}{'x in-process':>14}  runs s")
    for name, seconds in times.items():
        runs = " ".join(f"{s:.1f}" for s in seconds)
        print(f"{name:<12}{medians[name]:>10.1f}{medians[name] / medians['in-process']:>14.2f}  {runs}")


if __name__ == "__main__":
    main()
