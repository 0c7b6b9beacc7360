"""The completion rate: sessions that went from a start page to "who is applying", counted exactly in GA4's
BigQuery export where it is read, else GA4's Data API ratio of two session counts."""

from collections.abc import Iterator
from typing import Any

from dagster import AssetCheckResult, AssetExecutionContext, AssetsDefinition, Output

from perfplat_assets.common.make_an_lpa_database import MakeAnLpaDatabase
from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service
from perfplat_assets.completion_rate.calculation import CompletionRate, SessionCounts, month_figures
from perfplat_assets.completion_rate.measure import COMPLETION_RATE, GA4_POOL
from perfplat_assets.completion_rate.queries.bigquery_export import coverage
from perfplat_assets.completion_rate.queries.data_api import CompletionReport
from perfplat_assets.completion_rate.queries.make_an_lpa_database import application_counts
from perfplat_assets.completion_rate.resources.bigquery_export import GA4Export, JourneyCounts
from perfplat_assets.completion_rate.resources.data_api import GoogleAnalytics
from perfplat_assets.completion_rate.resources.thresholds import CompletionRateThresholds
from perfplat_assets.partitions import ServiceResources, monthly_asset, service_months
from perfplat_assets.quality.checks import output_with_checks


def build_asset(service: Service) -> AssetsDefinition:
    """The service's `completion_rate` asset."""

    @monthly_asset(
        service,
        COMPLETION_RATE.name,
        kinds={"googleanalytics", "bigquery"},
        checks=COMPLETION_RATE.checks,
        pool=GA4_POOL,
        roles=("ga4_export", "google_analytics", "make_an_lpa_db", "completion_rate_thresholds"),
    )
    def completion_rate(
        context: AssetExecutionContext,
    ) -> Iterator[Output[list[CompletionRate]] | AssetCheckResult]:
        """Each month from one source, never a mix: the export's journeys for the months its daily tables
        cover (one query for all of them), the Data API's ratio for months before the export began or when
        it is not read, and the Data API's ratio kept beside an exact month for comparison when its property
        is set."""
        months = service_months(context, service)
        if months:
            yield from completion_rates(context, months, ServiceResources(context, service))

    return completion_rate


def completion_rates(
    context: AssetExecutionContext, months: list[Month], resources: ServiceResources
) -> Iterator[Output[list[CompletionRate]] | AssetCheckResult]:
    """The months' completion rates from the service's sources, each source's answer checked: a month a
    source answered wrongly is left out, saying why, and what an answer held outside the request is logged
    and never stored."""
    ga4_export: GA4Export = resources.ga4_export
    google_analytics: GoogleAnalytics = resources.google_analytics
    make_an_lpa_db: MakeAnLpaDatabase = resources.make_an_lpa_db
    completion_rate_thresholds: CompletionRateThresholds = resources.completion_rate_thresholds
    covered = coverage(ga4_export.tables(), months) if ga4_export.enabled else None
    settled = [month for month in months if covered and covered[month].settled]
    counted = ga4_export.journeys(settled) if settled else None
    asked_data_api = google_analytics.embedded or bool(google_analytics.property_id)
    report = google_analytics.completion_report(months) if asked_data_api else None
    applications = make_an_lpa_db.read(application_counts, months, make_an_lpa_db.applications_table)
    measure = COMPLETION_RATE.title.lower()
    exported = counted.sessions.by_month(settled, ga4_export.named, measure) if counted else {}
    reported = report.sessions.by_month(months, google_analytics.named, measure) if report else {}
    figures = [
        month_figures(
            month,
            covered[month] if covered else None,
            exported.get(month),
            (reported.get(month, SessionCounts()), report.flags) if report else None,
            None if applications is None else applications[month],
        )
        for month in months
    ]
    for item in figures:
        if item.not_available_reason:
            context.log.warning(f"completion rate {item.month}: {item.not_available_reason}")
    said = {item.month: item.not_available_reason for item in figures}
    # A wrong Data API answer beside an exact month is no comparison: said here, since no figure says it.
    uncompared = [r for m, r in reported.items() if isinstance(r, str) and said.get(m) != r]
    ignored = [
        *(counted.sessions.said_ignored(ga4_export.named) if counted else []),
        *(report.sessions.said_ignored(google_analytics.named) if report else []),
    ]
    for line in [*uncompared, *ignored]:
        context.log.warning(line)
    metadata = _metadata(ga4_export, google_analytics, counted, report, figures)
    metadata |= {"left out of the comparison": "; ".join(uncompared)} if uncompared else {}
    metadata |= {"ignored in the answers": "; ".join(ignored)} if ignored else {}
    limits = completion_rate_thresholds.limits()
    yield from output_with_checks(context, COMPLETION_RATE.checks, figures, limits, metadata)


def _metadata(
    ga4_export: GA4Export,
    google_analytics: GoogleAnalytics,
    counted: JourneyCounts | None,
    report: CompletionReport | None,
    figures: list[CompletionRate],
) -> dict[str, Any]:
    """Where each month came from, and what the sources' requests cost."""
    metadata: dict[str, Any] = {"methods": ", ".join(f"{f.month}: {f.method}" for f in figures)}
    if ga4_export.enabled:
        metadata["export"] = ga4_export.describe()
    if counted is not None:
        metadata |= {
            "bigquery_job": counted.job_id,
            "bigquery_bytes_processed": counted.bytes_processed,
            "bigquery_bytes_billed": counted.bytes_billed,
        }
    if report is not None:
        metadata |= {
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
    return metadata
