"""`perfplat-demo`: materialise every service's assets for the last closed months and print the figures.

Runs on whatever the environment configures, the embedded default when nothing is set. The run is recorded in
the instance `dg launch` would use from the same directory (DAGSTER_HOME's, else the working directory's
dagster.yaml: the checkout's keeps it in .perfplat/dagster_home), so `make dev` and `dagster dev` show it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dagster import DagsterInstance, EnvVar
from dagster._cli.utils import TMP_DAGSTER_HOME_PREFIX, get_possibly_temporary_instance_for_cli
from tabulate import tabulate

from perfplat_assets.commands import INTERRUPTED, published_lines, run_months
from perfplat_assets.common.months import Month, last_closed_month
from perfplat_assets.definitions import defs, services
from perfplat_assets.measures import service_data_types
from perfplat_assets.metrics_store.tables import publication_record
from perfplat_assets.partitions import resource_key
from perfplat_assets.publication.published_format.records import REPORT_HTML


def _months(count: int) -> list[Month]:
    months = [last_closed_month()]
    while len(months) < count:
        months.insert(0, months[0].previous())
    return months


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=6, help="how many closed months (default 6)")
    options = parser.parse_args(argv)
    # The instance Dagster's own CLI (`dg launch`, `dagster dev`) takes from here, and the .env it reads.
    try:
        with get_possibly_temporary_instance_for_cli("perfplat-demo") as instance:
            return _demo(_months(options.months), instance)
    except KeyboardInterrupt:  # before the run began (during it, `run_months` says what was published)
        print("interrupted; nothing was published", file=sys.stderr)
        return INTERRUPTED


def _demo(months: list[Month], instance: DagsterInstance) -> int:
    resources = defs.resources
    store = resources["metrics_store"].process_config_and_initialize()
    print(f"materialising {months[0]} to {months[-1]} in one run ...", flush=True)
    outcome = run_months(defs.resolve_implicit_global_asset_job_def(), months, instance, store)
    if not outcome.succeeded:
        for line in published_lines(outcome.published):
            print(line)
        said = "; ".join(outcome.reasons) or f"the run failed: its event log has why (run {outcome.run_id})"
        print(f"perfplat-demo: {said}", file=sys.stderr)
        return 1
    # Outside a run, settings given as environment variables are resolved here.
    setting = resources["run_start"].publish_dir
    publish_dir = Path(setting.get_value() if isinstance(setting, EnvVar) else setting).resolve()
    for service in services:
        columns = [data_type.name for data_type in service_data_types(service)]
        frame = store.read(
            publication_record(service.name).published_records, [month.key for month in months]
        )
        table = frame.pivot(index="month", columns="data_type", values="count").reindex(columns=columns)
        table.index = [Month.parse(key).label for key in table.index]
        print(f"\n{service.title} ({service.folder}/)\n")
        print(tabulate(table, headers=["month", *columns], tablefmt="github", floatfmt="g", missingval="n/a"))
        unset = resources[resource_key(service, "publisher")].sample_sources
        if unset:
            print(
                f"\nSynthetic: these are the embedded sample's made-up figures, not OPG's statistics "
                f"({', '.join(unset)} unset); every file published with them says so."
            )
    print(f"\npublished files: {publish_dir}")
    print(f"report:          {publish_dir / REPORT_HTML} (open it in a browser)")
    print(f"metrics store:   {store.describe()}")
    dagster_home = Path(instance.root_directory).resolve()
    if dagster_home.name.startswith(TMP_DAGSTER_HOME_PREFIX):  # Dagster's folder, removed on exit
        print("dagster runs:    not kept (DAGSTER_HOME is unset and no dagster.yaml here says where)")
    else:
        print(f"dagster runs:    {dagster_home}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
