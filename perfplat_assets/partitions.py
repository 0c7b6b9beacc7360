"""The one partitioning every asset shares (closed calendar months in London, from March 2021), and the
decorator every asset is declared with."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    AssetsDefinition,
    BackfillPolicy,
    BetaWarning,
    MonthlyPartitionsDefinition,
    asset,
)

from perfplat_assets.common.months import FIRST_MONTH, LONDON, Month
from perfplat_assets.quality.checks import check_specs
from perfplat_assets.quality.rules import Check

# end_offset=0: the month under way is never a partition; the newest is the month that just closed.
monthly_partitions = MonthlyPartitionsDefinition(
    start_date=FIRST_MONTH.isoformat(), timezone=LONDON.key, end_offset=0
)


# A backfill of any number of months is one run, each source asked once for the whole range. Dagster marks
# the parameter beta and says so once per asset in every process (the CLI, each run worker): perfplat
# relies on it knowingly (docs/PERFORMANCE.md), so that notice alone is silenced, here where every asset
# takes it. So is the one Dagster's own `*` selection raises in `dg launch --assets '*'`.
for beta in (r"Parameter `backfill_policy` of function `asset`", r"Parameter `include_sources` of function"):
    warnings.filterwarnings("ignore", beta, BetaWarning)
single_run = BackfillPolicy.single_run()


METRICS_STORE = "metrics_store_io_manager"


def monthly_asset(
    name: str,
    *,
    kinds: set[str],
    checks: Sequence[Check[Any]] = (),
    stored: bool = True,
    other_checks: Sequence[AssetCheckSpec] = (),
    **options: Any,
) -> Callable[..., AssetsDefinition]:
    """`@asset` as every perfplat asset is declared: the months, the range policy, the group, the specs of
    its checks (its rules' and `other_checks`), and (unless `stored=False`) the metrics store as where its
    months are kept, which its description then says holds only what perfplat computed."""

    def declare(compute: Callable[..., Any]) -> AssetsDefinition:
        description = inspect.cleandoc(compute.__doc__ or "")
        return asset(
            name=name,
            partitions_def=monthly_partitions,
            backfill_policy=single_run,
            group_name="make_an_lpa",
            kinds=kinds,
            check_specs=[*check_specs(name, checks), *other_checks],
            description=f"{description} {COMPUTED_ONLY}" if stored else description,
            **({"io_manager_key": METRICS_STORE} if stored else {}),
            **options,
        )(compute)

    return declare


# Why a measure's partitions show fewer months than are published: marking imported months here would make
# a downstream re-run load nothing for them.
COMPUTED_ONLY = (
    "Its partitions are the months perfplat computed; months imported from OPG's published history show "
    "on data_gov_uk_publication only."
)


def partition_months(context: AssetExecutionContext) -> list[Month]:
    """The months this run materialises: one, or a range in a single-run backfill."""
    return [Month.parse(key) for key in context.partition_keys]
