from collections.abc import Iterator
from typing import Any

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetMaterialization,
    AssetObservation,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    Output,
    asset,
)
from pydantic import Field

from perfplat_assets.common.months import Month, last_closed_month
from perfplat_assets.metrics_store.resources import MetricsStore, frame_rows
from perfplat_assets.metrics_store.tables import TABLES
from perfplat_assets.partitions import METRICS_STORE, MONTHLY_ASSET, partition_months
from perfplat_assets.publication.plan import PublicationPlan
from perfplat_assets.publication.publish import PublicationRequest, publish
from perfplat_assets.publication.records import (
    DATA_TYPES,
    count_value,
    month_file_name,
    month_measures,
    record,
)
from perfplat_assets.publication.resources import Change, DataGovUkPublisher, PublicationFailed
from perfplat_assets.publication.revisions import Revision
from perfplat_assets.quality import rules
from perfplat_assets.quality.checks import Check, check_specs, evaluate, output_with_checks

MEASURES = ("user_satisfaction", "digital_take_up", "completion_rate", "uptime")
CHECKS = (
    Check(
        "records_in_published_format",
        "Every record is exactly in OPG's published format, (_timestamp, dataType) is unique, and every "
        "month has closed.",
        blocks_publication=True,
    ),
)


def _by_month(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {row["month"]: row for row in frame_rows(frame)}


@asset(
    **MONTHLY_ASSET,
    io_manager_key=METRICS_STORE,
    kinds={"sql"},
    check_specs=check_specs("performance_dataset", CHECKS),
)
def performance_dataset(
    context: AssetExecutionContext,
    user_satisfaction: pd.DataFrame,
    digital_take_up: pd.DataFrame,
    completion_rate: pd.DataFrame,
    uptime: pd.DataFrame,
) -> Iterator[Output[pd.DataFrame] | AssetCheckResult]:
    """The month's values by published dataType. A measure without data is left out, never sent as 0; a
    month a check has blocked upstream gets no records at all."""
    measures = [_by_month(frame) for frame in (user_satisfaction, digital_take_up, completion_rate, uptime)]
    rows, notes = [], {}
    for month in partition_months(context):
        upstream = [by_month.get(month.key) for by_month in measures]
        blocked = [row["blocked_by"] for row in upstream if row and row.get("blocked_by")]
        if blocked:
            notes[f"withheld {month}"] = "; ".join(blocked)
            continue
        values, missing = month_measures(*upstream)
        rows += [{"month": month.key, "data_type": t, "count": value} for t, value in values.items()]
        notes.update({f"left out {month} {measure}": reason for measure, reason in missing.items()})
    for entry, reason in notes.items():
        context.log.warning(f"{entry}: {reason}")
    records = [record(Month.parse(r["month"]), r["data_type"], r["count"]) for r in rows]
    evaluation = evaluate(
        CHECKS,
        {"records_in_published_format": rules.records_in_published_format(records, last_closed_month())},
    )
    yield from output_with_checks(context, rows, evaluation, {"records": len(rows), **notes})


def withheld_months(months: list[Month], dataset: pd.DataFrame, store: MetricsStore) -> dict[str, str]:
    """Months of the run that may not be published, and why: a blocking check failed for the month (here
    or upstream), or it has no figures at all."""
    rows = frame_rows(dataset)
    withheld = {}
    upstream = {name: _by_month(store.read(TABLES[name], [m.key for m in months])) for name in MEASURES}
    for month in months:
        own = [r for r in rows if r["month"] == month.key]
        reasons = [r["blocked_by"] for r in own[:1] if r.get("blocked_by")]
        reasons += [
            upstream[name][month.key]["blocked_by"]
            for name in MEASURES
            if month.key in upstream[name] and upstream[name][month.key].get("blocked_by")
        ]
        if reasons:
            withheld[month.key] = "; ".join(dict.fromkeys(reasons))
        elif not own:
            withheld[month.key] = (
                f"nothing to publish for {month}: every measure is missing "
                "(see performance_dataset's metadata)"
            )
    return withheld


def _revision_table(found: list[Revision]) -> MetadataValue:
    lines = ["| month | dataType | previous | new |", "| --- | --- | --- | --- |"]
    lines += [f"| {r.month[:7]} | {r.data_type} | {r.previous_count} | {r.new_count} |" for r in found]
    return MetadataValue.md("\n".join(lines))


def _plan_table(changes: list[Change]) -> MetadataValue:
    lines = ["| target | file or resource | would |", "| --- | --- | --- |"]
    lines += [f"| {c.target} | {c.name} | {c.action} |" for c in changes]
    return MetadataValue.md("\n".join(lines))


class PublicationConfig(Config):
    dry_run: bool = Field(default=False, description="Report what would change and write nothing.")


@asset(
    **MONTHLY_ASSET,
    kinds={"json", "csv", "s3"},
    output_required=False,  # a dry run publishes nothing, so it materialises nothing
)
def data_gov_uk_publication(
    context: AssetExecutionContext,
    config: PublicationConfig,
    performance_dataset: pd.DataFrame,
    metrics_store: MetricsStore,
    publisher: DataGovUkPublisher,
) -> Iterator[MaterializeResult | AssetMaterialization | AssetObservation]:
    """The month's file for OPG's monthly automation and the cumulative files rebuilt from every published
    month, written to every target or to none (see the README's "Everywhere or nowhere")."""
    # Months a check blocked are withheld (an earlier publication of them stays); the others are published
    # and recorded as materialised, then the run fails naming what was withheld and why. A dry run is an
    # observation of each month, with its plan, and materialises nothing.
    months = partition_months(context)
    dry_run = config.dry_run or publisher.dry_run
    withheld = withheld_months(months, performance_dataset, metrics_store)
    publishable = [month for month in months if month.key not in withheld]
    metadata: dict[str, Any] = {f"withheld {key[:7]}": reason for key, reason in withheld.items()}
    if publishable:
        metadata |= _publish(context, publishable, performance_dataset, metrics_store, publisher, dry_run)
    if dry_run:
        for month in months:
            yield AssetObservation(context.asset_key, partition=month.key, metadata=metadata)
        return
    if withheld:
        for month in publishable:  # what did go out is on record, though the run fails
            yield AssetMaterialization(context.asset_key, partition=month.key, metadata=metadata)
        published = ", ".join(str(m) for m in publishable) or "nothing"
        raise Failure(
            f"Published {published}; withheld "
            + " | ".join(f"{key[:7]}: {reason}" for key, reason in withheld.items())
            + ". A withheld month keeps any earlier publication; fix the source and re-run it.",
            metadata=metadata,
        )
    yield MaterializeResult(metadata=metadata)


def _publish(
    context: AssetExecutionContext,
    months: list[Month],
    performance_dataset: pd.DataFrame,
    metrics_store: MetricsStore,
    publisher: DataGovUkPublisher,
    dry_run: bool,
) -> dict[str, Any]:
    """The settings' guards, then the publication itself; its outcome as metadata."""
    keys = {month.key for month in months}
    values = {
        (Month.parse(r["month"]), r["data_type"]): r["count"]
        for r in frame_rows(performance_dataset)
        if r["month"] in keys
    }
    request = PublicationRequest(
        months, values, context.run.run_id, publisher.hosted_csv_url(), last_closed_month(), dry_run
    )
    try:
        publisher.refuse_unpublishable_settings()
        outcome = publish(metrics_store, publisher.targets(), request, context.log)
    except PublicationFailed as error:
        raise Failure(f"{error}.") from None
    plan = outcome.plan
    metadata: dict[str, Any] = {
        "targets": ", ".join(t.name for t in publisher.targets()),
        "month_files": ", ".join(month_file_name(month) for month in months),
        "records_this_run": len(values),
        "records_published_in_all": len(plan.records),
        "months_published_in_all": len(plan.published_months),
        "revisions_this_run": len(plan.revisions),
        "plan_digest": plan.digest,
        **({"revisions": _revision_table(plan.revisions)} if plan.revisions else {}),
        **({"recovery": outcome.recovered} if outcome.recovered else {}),
    }
    if dry_run:
        context.log.info(f"dry run: {len(outcome.changes)} planned changes, nothing written")
        return {"dry_run": True, "plan": _plan_table(outcome.changes), **metadata}
    metadata |= {
        "publication_id": outcome.publication_id or 0,
        "directory": MetadataValue.path(str(publisher.directory.directory())),
        "published": _preview(plan, months),
        "files": _links(plan, publisher),
    }
    if plan.ckan:
        metadata["ckan_csv_url"] = plan.ckan.csv_url
    return metadata


def _preview(plan: PublicationPlan, months: list[Month]) -> MetadataValue:
    """The run's months as people read them: a row a month, a column a dataType."""
    shown = [t for t in DATA_TYPES if any(pair[1] == t for pair in plan.values)]
    lines = ["| month | " + " | ".join(shown) + " |", "|" + " --- |" * (len(shown) + 1)]
    for month in months:
        cells = [
            str(count_value(t, plan.values[(month, t)])) if (month, t) in plan.values else "" for t in shown
        ]
        lines.append(f"| {month} | {' | '.join(cells)} |")
    return MetadataValue.md("\n".join(lines))


def _links(plan: PublicationPlan, publisher: DataGovUkPublisher) -> MetadataValue:
    """Where each file of the publication can be opened: the directory, and S3's URL when it is on."""
    directory = publisher.directory.directory()
    lines = []
    for item in plan.files:
        where = [f"[directory]({(directory / item.name).as_uri()})"]
        if publisher.s3.enabled:
            where.append(f"[S3]({publisher.s3.public_url(item.name)})")
        lines.append(f"- `{item.name}`: " + ", ".join(where))
    return MetadataValue.md("\n".join(lines))
