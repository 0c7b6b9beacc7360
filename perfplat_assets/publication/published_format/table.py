"""The dataset's table in the metrics store (a template each service has its copy of): each month's values
under their published dataType."""

from sqlalchemy import Column, Float, String, Table

from perfplat_assets.asset_names import PERFORMANCE_DATASET
from perfplat_assets.metrics_store.tables import blocked_by_column, month_column, stored_asset, templates
from perfplat_assets.publication.published_format.records import DatasetValue

performance_dataset_table = stored_asset(
    Table(
        PERFORMANCE_DATASET,
        templates,
        month_column(),
        Column("data_type", String(60), primary_key=True, comment="The published dataType."),
        Column("count", Float, nullable=False, comment="The value published under it."),
        blocked_by_column(),
    ),
    DatasetValue,
)
