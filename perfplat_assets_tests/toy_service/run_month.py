"""`python -m perfplat_assets_tests.toy_service.run_month YYYY-MM-01 [YYYY-MM-01 ...]`: register the toy
measure and the toy service that publishes it, then run every asset of the code location for each month in
turn, in process, on the environment's settings; print what each run said as JSON, a line each.
Registration comes first, before anything reads the registries."""

import json
import sys

from perfplat_assets.measures import register
from perfplat_assets.services import registry
from perfplat_assets_tests.toy_measure.measure import AVERAGE_PROCESSING_DAYS
from perfplat_assets_tests.toy_service.service import RENEW_A_REGISTRATION


def main() -> None:
    register(AVERAGE_PROCESSING_DAYS)
    registry.register(RENEW_A_REGISTRATION)
    from perfplat_assets.common.months import Month
    from perfplat_assets.configuration import build_resources
    from perfplat_assets.definitions import assets
    from perfplat_assets_tests.support.run_results import materialize_month

    resources = build_resources()
    for month in sys.argv[1:]:
        print(json.dumps(_said(materialize_month(Month.parse(month)), assets, resources)))


def _said(result, assets, resources) -> dict:
    from perfplat_assets_tests.support.run_results import failure_message

    return {
        "success": result.success,
        "failure": "" if result.success else failure_message(result),
        "materialized": sorted(
            e.asset_key.to_user_string() for e in result.get_asset_materialization_events() if e.asset_key
        ),
        "groups": sorted({f"{a.key.to_user_string()}:{a.group_names_by_key[a.key]}" for a in assets}),
        "sample_sources": resources["renew_a_registration__publisher"].sample_sources,
    }


if __name__ == "__main__":
    main()
