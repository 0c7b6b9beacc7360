"""`perfplat`: the operator's commands.

perfplat materialize MONTH [--to MONTH]   every asset for a month (or a range), on the local instance
perfplat import-published PATH            load a published data.json (OPG's series) into the metrics store
perfplat --version
"""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import version

from dagster._cli.utils import get_possibly_temporary_instance_for_cli

from perfplat_assets.commands import (
    NotAPartition,
    partition_month,
    published_lines,
    run_months,
    sample_sources,
)
from perfplat_assets.common.months import months_between
from perfplat_assets.configuration import SERVICES, build_resources
from perfplat_assets.publication.committing.journal import StoreFailed
from perfplat_assets.publication.history.importing import import_published_file, report_lines, runs_methods
from perfplat_assets.publication.history.reading import HistoryRefused


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="perfplat", description="perfplat's operator commands.")
    parser.add_argument("--version", action="version", version=f"perfplat {version('perfplat')}")
    commands = parser.add_subparsers(dest="command", required=True)
    materializing = commands.add_parser(
        "materialize",
        help="every asset for a month, or a range of months in one run, on the local Dagster instance",
        description="Compute, check and publish every service's measures for MONTH (YYYY-MM or YYYY-MM-01), "
        "or for MONTH to --to in one run, in this process, on the instance `dg launch` would use. A failure "
        "is said once, on the last line; the run and its traceback are in the instance.",
    )
    materializing.add_argument("month", help="the month, e.g. 2026-05 (or its partition key, 2026-05-01)")
    materializing.add_argument("--to", help="the last month of a range, run as one run")
    importing = commands.add_parser(
        "import-published",
        help="load a data.json in the published format into the metrics store as published history",
        description="Load every record of a published data.json (e.g. OPG's series) into the metrics store "
        "(PERFPLAT_METRICS_DB_URL) as published history. Values the store already holds are kept; "
        "differences are reported. Importing the same file again changes nothing.",
    )
    importing.add_argument("path", help="the published data.json")
    options = parser.parse_args(argv)
    if options.command == "materialize":
        return _materialize(options.month, options.to)
    # Outside a run, settings given as environment variables are resolved here, into the resources a run is
    # given: the import judges a month by the method the runs' publication states for it, as the UI's job.
    resources = build_resources()
    store = resources["metrics_store"].process_config_and_initialize()
    try:
        history, report = import_published_file(
            options.path,
            store,
            runs_methods(resources, SERVICES),
            allow_synthetic=resources["run_start"].allow_sample_data,
        )
    except (HistoryRefused, StoreFailed) as error:
        print(f"perfplat import-published: {error}", file=sys.stderr)
        return 2
    print("\n".join(report_lines(history, report, options.path)))
    return 0


def _materialize(first: str, last: str | None) -> int:
    """`perfplat materialize`: the months checked before anything starts, then one run of them."""
    try:
        months = months_between(partition_month(first), partition_month(last or first))
    except NotAPartition as error:
        print(f"perfplat materialize: {error}", file=sys.stderr)
        return 2
    if not months:
        print(f"perfplat materialize: --to {last} is before {first}", file=sys.stderr)
        return 2
    from perfplat_assets.definitions import defs  # the code location, loaded once the months are known

    store = defs.resources["metrics_store"].process_config_and_initialize()
    with get_possibly_temporary_instance_for_cli("perfplat materialize") as instance:
        outcome = run_months(defs.resolve_implicit_global_asset_job_def(), months, instance, store)
    for line in published_lines(outcome.published):
        print(line)
    unset = sorted({s for s in sample_sources(defs.resources)})
    if outcome.published and unset:
        print(
            f"synthetic: the embedded sample's made-up figures ({', '.join(unset)} unset); the files say so"
        )
    if outcome.succeeded:
        return 0
    said = "; ".join(outcome.reasons) or f"the run failed: its event log has why (run {outcome.run_id})"
    print(f"perfplat materialize: {said}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    raise SystemExit(main())
