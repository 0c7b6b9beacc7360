"""`python -m perfplat_assets_tests.toy_measure.run_month YYYY-MM-01`: register the toy measure and have Make
an LPA publish it, then run every asset of the code location for the month in process, on the environment's
settings; print what the run said as JSON. Registration comes first, before anything reads the registries."""

import json
import sys

from perfplat_assets.common.service import Uses
from perfplat_assets.measures import register
from perfplat_assets.services.registry import also_publishes
from perfplat_assets_tests.toy_measure.measure import AVERAGE_PROCESSING_DAYS


def main() -> None:
    register(AVERAGE_PROCESSING_DAYS)
    also_publishes("make_an_lpa", Uses(AVERAGE_PROCESSING_DAYS.name))
    from perfplat_assets.common.months import Month
    from perfplat_assets.configuration import build_resources
    from perfplat_assets_tests.support.run_results import materialize_month

    sample_sources = build_resources()["make_an_lpa__publisher"].sample_sources
    result = materialize_month(Month.parse(sys.argv[1]))
    checks = {
        f"{e.asset_key.to_user_string()}:{e.check_name}": e.passed
        for e in result.get_asset_check_evaluations()
    }
    materialized = sorted(
        e.asset_key.to_user_string() for e in result.get_asset_materialization_events() if e.asset_key
    )
    said = {"success": result.success, "checks": checks, "materialized": materialized}
    print(json.dumps(said | {"sample_sources": sample_sources}))


if __name__ == "__main__":
    main()
