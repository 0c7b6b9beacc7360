"""The one partitioning every service's assets share (closed calendar months in London, from the earliest
service's first month), and the decorator every asset is declared with: under its service's key prefix, in
its service's group, reading its service's resources.

Dagster runs together only assets of one partitions definition, and one run publishes a month for every
service (`dg launch --assets '*'`), so the services share the months; a service's asset does nothing for a
month before its service's first (`service_months`)."""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetOut,
    AssetsDefinition,
    BackfillPolicy,
    BetaWarning,
    MonthlyPartitionsDefinition,
    multi_asset,
)

from perfplat_assets.common.months import LONDON, Month
from perfplat_assets.common.service import Service
from perfplat_assets.quality.checks import check_specs
from perfplat_assets.quality.rules import Check
from perfplat_assets.services.registry import first_month

# end_offset=0: the month under way is never a partition; the newest is the month that just closed.
monthly_partitions = MonthlyPartitionsDefinition(
    start_date=first_month().key, timezone=LONDON.key, end_offset=0
)


def asset_key(service: Service, name: str) -> AssetKey:
    """A service's asset: `make_an_lpa/user_satisfaction`."""
    return AssetKey([service.name, name])


def resource_key(service: Service, role: str) -> str:
    """A service's resource in a role its assets read: `use_an_lpa__ratings`."""
    return f"{service.name}__{role}"


class ServiceResources:
    """The resources of the step's service, by role: `resources.ratings`."""

    def __init__(self, context: AssetExecutionContext, service: Service) -> None:
        self._context, self._service = context, service

    def __getattr__(self, role: str) -> Any:
        return getattr(self._context.resources, resource_key(self._service, role))


# A backfill of any number of months is one run, each source asked once for the whole range. Dagster marks
# the parameter beta and says so once per asset in every process (the CLI, each run worker): perfplat
# relies on it knowingly (docs/PERFORMANCE.md), so that notice alone is silenced, here where every asset
# takes it. So is the one Dagster's own `*` selection raises in `dg launch --assets '*'`.
for beta in (
    r"Parameter `backfill_policy` of function `(multi_)?asset`",
    r"Parameter `include_sources` of function",
):
    warnings.filterwarnings("ignore", beta, BetaWarning)
single_run = BackfillPolicy.single_run()


METRICS_STORE = "metrics_store_io_manager"


def monthly_asset(
    service: Service,
    name: str,
    *,
    kinds: set[str],
    checks: Sequence[Check[Any] | AssetCheckSpec] = (),
    stored: bool = True,
    roles: Iterable[str] = (),
    **options: Any,
) -> Callable[..., AssetsDefinition]:
    """`@asset` as every perfplat asset is declared, for `service`: its key under the service, the months,
    the range policy, the service's group, the specs of its checks (its rules', and any spec given as
    one), the service's resources in `roles` (read with `ServiceResources`) and the run-start check, and
    (unless `stored=False`) the metrics store as where its months are kept, which its description then says
    holds only what perfplat computed. Its output is not required: a run of months all before the service's
    first materialises nothing of it."""

    def declare(compute: Callable[..., Any]) -> AssetsDefinition:
        description = inspect.cleandoc(compute.__doc__ or "")
        first = f"{service.title}'s series starts in {service.first_month}: nothing is asked or made before."
        key = asset_key(service, name)
        output = AssetOut(
            key=key,
            group_name=service.name,
            kinds=kinds,
            description=" ".join([description, first, *([COMPUTED_ONLY] if stored else [])]),
            is_required=False,
            **({"io_manager_key": METRICS_STORE} if stored else {}),
        )
        # A multi-asset of one, so that its checks need not report when it does not run for a month (before
        # its service's first): `@asset` requires a check's result even when its output is not given.
        return multi_asset(
            name="__".join(key.path),
            outs={"result": output},
            partitions_def=monthly_partitions,
            backfill_policy=single_run,
            check_specs=[
                *check_specs(key, [c for c in checks if isinstance(c, Check)]),
                *(c for c in checks if isinstance(c, AssetCheckSpec)),
            ],
            required_resource_keys={RUN_START, *(resource_key(service, role) for role in roles)},
            can_subset=True,
            **options,
        )(compute)

    return declare


RUN_START = "run_start"


# Why a measure's partitions show fewer months than are published: marking imported months here would make
# a downstream re-run load nothing for them.
COMPUTED_ONLY = (
    "Its partitions are the months perfplat computed; months imported from OPG's published history show "
    "on data_gov_uk_publication only."
)


def partition_months(context: AssetExecutionContext) -> list[Month]:
    """The months this run materialises: one, or a range in a single-run backfill."""
    return [Month.parse(key) for key in context.partition_keys]


def service_months(context: AssetExecutionContext, service: Service) -> list[Month]:
    """The run's months of the service's series, after the run-start check: none before its first month,
    which is said once. With none left the step yields nothing, so nothing of the service is materialised
    or published for them. (A range that starts before the first month is one step for the whole range,
    which Dagster records for every month of it: what is stored and published starts at the first.)"""
    getattr(context.resources, RUN_START).check(context)
    months = partition_months(context)
    kept = [month for month in months if service.has(month)]
    if len(kept) < len(months):
        before = [month for month in months if not service.has(month)]
        span = str(before[0]) if len(before) == 1 else f"{before[0]} to {before[-1]}"
        context.log.info(
            f"{service}: {span} is before {service.first_month}, where its series starts: nothing is asked "
            "of its sources or published for it"
        )
    return kept
