"""`perfplat`: the operator's commands.

perfplat import-published PATH    load a published data.json (OPG's series) into the metrics store
"""

from __future__ import annotations

import argparse
import sys

from perfplat_assets.configuration import SERVICES, build_resources
from perfplat_assets.publication.committing.journal import StoreFailed
from perfplat_assets.publication.history.importing import import_published_file, report_lines, runs_methods
from perfplat_assets.publication.history.reading import HistoryRefused


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="perfplat", description="perfplat's operator commands.")
    commands = parser.add_subparsers(dest="command", required=True)
    importing = commands.add_parser(
        "import-published",
        help="load a data.json in the published format into the metrics store as published history",
        description="Load every record of a published data.json (e.g. OPG's series) into the metrics store "
        "(PERFPLAT_METRICS_DB_URL) as published history. Values the store already holds are kept; "
        "differences are reported. Importing the same file again changes nothing.",
    )
    importing.add_argument("path", help="the published data.json")
    options = parser.parse_args(argv)
    # Outside a run, settings given as environment variables are resolved here, into the resources a run is
    # given: the import judges a month by the method the runs' publication states for it, as the UI's job.
    resources = build_resources()
    store = resources["metrics_store"].process_config_and_initialize()
    try:
        history, report = import_published_file(options.path, store, runs_methods(resources, SERVICES))
    except (HistoryRefused, StoreFailed) as error:
        print(f"perfplat import-published: {error}", file=sys.stderr)
        return 2
    print("\n".join(report_lines(history, report, options.path)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
