"""The one partitioning every asset shares: closed calendar months in London, from March 2021."""

from __future__ import annotations

from dagster import AssetExecutionContext, BackfillPolicy, MonthlyPartitionsDefinition

from perfplat_assets.common.months import FIRST_MONTH, Month

# end_offset=0: the month under way is never a partition; the newest is the month that just closed.
monthly_partitions = MonthlyPartitionsDefinition(
    start_date=FIRST_MONTH.isoformat(), timezone="Europe/London", end_offset=0
)


# A backfill of any number of months is one run, each source asked once for the whole range.
single_run = BackfillPolicy.single_run()


def partition_months(context: AssetExecutionContext) -> list[Month]:
    """The months this run materialises: one, or a range in a single-run backfill."""
    return [Month.parse(key) for key in context.partition_keys]
