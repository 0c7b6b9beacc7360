import pandas as pd
from dagster import AssetExecutionContext, asset

from perfplat_assets.common.metadata import frame_metadata
from perfplat_assets.partitions import monthly_partitions, partition_months
from perfplat_assets.user_satisfaction.resources import MakeAnLpaDatabase, SatisfactionMethods
from perfplat_assets.user_satisfaction.scoring import satisfaction_figures


@asset(
    partitions_def=monthly_partitions,
    group_name="make_an_lpa",
    io_manager_key="metrics_store_io_manager",
    kinds={"sql"},
)
def user_satisfaction(
    context: AssetExecutionContext,
    make_an_lpa_db: MakeAnLpaDatabase,
    satisfaction_methods: SatisfactionMethods,
) -> pd.DataFrame:
    """Feedback ratings per month, counted inside the database so no free text, email or phone is read.

    The percentage follows the method OPG published with in that month (weighted GDS score to March 2026,
    top-two-box share from April 2026); the method is stored beside it.
    """
    months = partition_months(context)
    schedule = satisfaction_methods.parsed()
    counts = make_an_lpa_db.rating_counts(months)
    frame = pd.DataFrame([satisfaction_figures(month, counts[month], schedule).as_row() for month in months])
    context.add_output_metadata({**frame_metadata(frame), "source": make_an_lpa_db.describe()})
    return frame
