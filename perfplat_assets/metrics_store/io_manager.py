"""The partition-aware IO manager: each asset's months live in its own metrics-store table (its service's
copy of the asset's table, named as its key: `make_an_lpa__user_satisfaction`), and what flows between
assets is that asset's figures, a list with one item per month (per month and dataType for the dataset)."""

from collections.abc import Sequence
from typing import Any

from dagster import AssetKey, ConfigurableIOManager, InputContext, OutputContext, ResourceDependency

from perfplat_assets.common.metadata import column_schema
from perfplat_assets.common.months import Month
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.metrics_store.tables import SEPARATOR, STORED_ASSETS


def _stored(key: AssetKey) -> str:
    """The table of the asset `key`: its path joined with `__`."""
    name = SEPARATOR.join(key.path)
    if name not in STORED_ASSETS:
        raise KeyError(f"the metrics store has no table for asset {key.to_user_string()!r}")
    return name


class MetricsStoreIOManager(ConfigurableIOManager):
    """Stores a month (or a range of months) with delete-then-insert, so re-running replaces, never adds."""

    store: ResourceDependency[MetricsStore]

    def handle_output(self, context: OutputContext, obj: Sequence[Any]) -> None:
        asset = _stored(context.asset_key)
        table, _ = STORED_ASSETS[asset]
        months = [Month.parse(key) for key in context.asset_partition_keys]
        kept = self.store.save(asset, months, obj)
        for month in kept:
            context.log.warning(
                f"{table.name} {month}: the source has no data for the month any more; "
                "the figures already stored are kept, not replaced with nothing"
            )
        stored = len(obj) - len(kept)
        context.add_output_metadata(
            {
                "metrics_store_table": table.name,
                "metrics_store_rows": stored,
                "dagster/row_count": stored,
                "dagster/column_schema": column_schema(table),
                **({"kept_stored_figures_for": ", ".join(map(str, kept))} if kept else {}),
            }
        )

    def load_input(self, context: InputContext) -> list[Any]:
        months = [Month.parse(key) for key in context.asset_partition_keys]
        return self.store.load(_stored(context.asset_key), months)
