"""The completion rate: GA4's sessions that reached the applicant page per 100 that reached a start page."""

from collections.abc import Iterator

from dagster import AssetCheckResult, AssetExecutionContext, Output

from perfplat_assets.common.make_an_lpa_database import MakeAnLpaDatabase
from perfplat_assets.common.run_start import RunStart
from perfplat_assets.completion_rate.applications import application_counts
from perfplat_assets.completion_rate.ga4_report import GA4_POOL
from perfplat_assets.completion_rate.measure import COMPLETION_RATE
from perfplat_assets.completion_rate.rate import CompletionRate
from perfplat_assets.completion_rate.rate import completion_rate as completion_figures
from perfplat_assets.completion_rate.resources import CompletionRateThresholds, GoogleAnalytics
from perfplat_assets.partitions import monthly_asset, partition_months
from perfplat_assets.quality.checks import output_with_checks


@monthly_asset(COMPLETION_RATE.name, kinds={"googleanalytics"}, checks=COMPLETION_RATE.checks, pool=GA4_POOL)
def completion_rate(
    context: AssetExecutionContext,
    run_start: RunStart,
    google_analytics: GoogleAnalytics,
    make_an_lpa_db: MakeAnLpaDatabase,
    completion_rate_thresholds: CompletionRateThresholds,
) -> Iterator[Output[list[CompletionRate]] | AssetCheckResult]:
    """Sessions that reached the "who is applying" page per 100 sessions that reached a start page, from
    one GA4 request for every month of the run."""
    run_start.check(context)
    months = partition_months(context)
    report = google_analytics.completion_report(months)
    counts = make_an_lpa_db.read(application_counts, months, make_an_lpa_db.applications_table)
    figures = [
        completion_figures(
            month, report.sessions[month], report.flags, None if counts is None else counts[month]
        )
        for month in months
    ]
    metadata = {
        "source": google_analytics.describe(),
        "ga4_requests": report.requests,
        "ga4_time_zone": report.flags.time_zone,
        # What this run cost of the property's quota, and what is left (GA4's `property_quota`).
        **report.quota.as_metadata(),
        **(
            {"ga4_data_truncation_reasons": "; ".join(report.flags.data_truncation_reasons)}
            if report.flags.data_truncated
            else {}
        ),
    }
    if not report.flags.london_months:
        context.log.warning(figures[0].not_available_reason)
    limits = completion_rate_thresholds.limits()
    yield from output_with_checks(context, COMPLETION_RATE.checks, figures, limits, metadata)
