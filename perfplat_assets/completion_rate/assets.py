import pandas as pd
from dagster import AssetExecutionContext, asset

from perfplat_assets.common.metadata import frame_metadata
from perfplat_assets.completion_rate.rate import completion_rate as completion_figures
from perfplat_assets.completion_rate.resources import GoogleAnalytics
from perfplat_assets.partitions import monthly_partitions, partition_months


@asset(
    partitions_def=monthly_partitions,
    group_name="make_an_lpa",
    io_manager_key="metrics_store_io_manager",
    kinds={"googleanalytics"},
)
def completion_rate(context: AssetExecutionContext, google_analytics: GoogleAnalytics) -> pd.DataFrame:
    """Sessions that reached the "who is applying" page per 100 sessions that reached a start page.

    One GA4 request covers every month of the run, to spare the property's daily token quota.
    """
    months = partition_months(context)
    report = google_analytics.completion_report(months)
    frame = pd.DataFrame(
        [completion_figures(month, report.sessions[month], report.flags).as_row() for month in months]
    )
    context.add_output_metadata(
        {**frame_metadata(frame), "source": google_analytics.describe(), "ga4_requests": report.requests}
    )
    return frame
