"""The partition-aware IO manager: each asset's monthly frame lives in its own metrics-store table."""

import pandas as pd
from dagster import ConfigurableIOManager, InputContext, OutputContext, ResourceDependency
from sqlalchemy import Table

from perfplat_assets.common.metadata import column_schema
from perfplat_assets.metrics_store.resources import MetricsStore, frame_rows
from perfplat_assets.metrics_store.tables import TABLES


def _table_for(asset_name: str) -> Table:
    try:
        return TABLES[asset_name]
    except KeyError:
        raise KeyError(f"the metrics store has no table for asset {asset_name!r}") from None


class MetricsStoreIOManager(ConfigurableIOManager):
    """Stores a month (or a range of months) with delete-then-insert, so re-running replaces, never adds."""

    store: ResourceDependency[MetricsStore]

    def handle_output(self, context: OutputContext, obj: pd.DataFrame) -> None:
        table = _table_for(context.asset_key.path[-1])
        months = list(context.asset_partition_keys)
        rows = frame_rows(obj)
        kept = self.store.write_months(table, months, rows)
        for month in kept:
            context.log.warning(
                f"{table.name} {month[:7]}: the source has no data for the month any more; "
                "the figures already stored are kept, not replaced with nothing"
            )
        context.add_output_metadata(
            {
                "metrics_store_table": table.name,
                "metrics_store_rows": len(rows) - len(kept),
                "dagster/row_count": len(rows) - len(kept),
                "dagster/column_schema": column_schema(table),
                **({"kept_stored_figures_for": ", ".join(m[:7] for m in kept)} if kept else {}),
            }
        )

    def load_input(self, context: InputContext) -> pd.DataFrame:
        table = _table_for(context.asset_key.path[-1])
        return self.store.read(table, list(context.asset_partition_keys))
