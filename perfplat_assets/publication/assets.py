import json
from collections.abc import Iterator
from datetime import UTC, datetime
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
from sqlalchemy import Connection, insert

from perfplat_assets.common.months import Month, last_closed_month
from perfplat_assets.metrics_store.resources import MetricsStore, frame_rows
from perfplat_assets.metrics_store.tables import TABLES, published_records, revisions, user_satisfaction
from perfplat_assets.partitions import METRICS_STORE, MONTHLY_ASSET, partition_months
from perfplat_assets.publication.files import publication_files
from perfplat_assets.publication.records import month_file_name, month_measures, record
from perfplat_assets.publication.resources import Change, DataGovUkPublisher, PublicationFailed
from perfplat_assets.publication.revisions import Revision, find_revisions
from perfplat_assets.quality import rules
from perfplat_assets.quality.checks import Check, check_specs, evaluate, output_with_checks

MEASURES = ("user_satisfaction", "digital_take_up", "completion_rate")
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
) -> Iterator[Output[pd.DataFrame] | AssetCheckResult]:
    """The month's values by published dataType. A measure without data is left out, never sent as 0; a
    month a check has blocked upstream gets no records at all."""
    measures = [_by_month(frame) for frame in (user_satisfaction, digital_take_up, completion_rate)]
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


def _values(
    connection: Connection, store: MetricsStore, months: list[str] | None
) -> dict[tuple[str, str], float]:
    frame = store.read(published_records, months, connection=connection)
    return {(r["month"], r["data_type"]): r["count"] for r in frame_rows(frame)}


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
    """The month's file for OPG's monthly automation and the cumulative `data.json`, `data.csv` (with its
    CSVW metadata), `revisions.csv` and `notes.md`, rebuilt from every month published so far, so
    re-publishing a month replaces its records. A changed value is a revision, recorded with its run.

    Order: everything is built and validated; then S3 is written, then the local directory, and the store
    commits; CKAN is updated last. A failure before CKAN leaves every target and the store as they were; a
    CKAN failure fails the run, and re-running the month completes the publication without duplicates.
    Months a check blocked are withheld (their earlier publication, if any, stays); the others are
    published and recorded as materialised, then the run fails naming what was withheld and why. A dry run
    is recorded as an observation of each month, with its plan, and materialises nothing.
    """
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
    keys = [m.key for m in months]
    now = datetime.now(UTC)
    rows = [
        {"month": r["month"], "data_type": r["data_type"], "count": r["count"], "published_at": now}
        for r in frame_rows(performance_dataset)
        if r["month"] in keys
    ]
    csv_url = publisher.hosted_csv_url()
    if publisher.ckan.enabled and not csv_url:
        raise Failure(
            "PERFPLAT_CKAN_URL is set but data.csv has no public URL to register: set "
            "PERFPLAT_PUBLIC_BASE_URL (where the files are served) or PERFPLAT_S3_BUCKET. Nothing was "
            "published."
        )
    # One transaction, serialised against other publishers; a dry run rolls it back.
    with metrics_store.transaction(exclusive=published_records, commit=not dry_run) as connection:
        previous = _values(connection, metrics_store, keys)
        current = {(r["month"], r["data_type"]): r["count"] for r in rows}
        found = find_revisions(previous, current, keys)
        if found:
            connection.execute(
                insert(revisions),
                [{**vars(r), "revised_at": now, "run_id": context.run.run_id} for r in found],
            )
        metrics_store.replace_months(connection, published_records, keys, rows)
        everything = frame_rows(metrics_store.read(published_records, connection=connection))
        records = [record(Month.parse(r["month"]), r["data_type"], r["count"]) for r in everything]
        published_months = sorted({r["month"] for r in everything})
        methods = metrics_store.read(user_satisfaction, published_months, connection=connection)
        files = publication_files(
            months,
            records,
            frame_rows(metrics_store.read(revisions, connection=connection)),
            {Month.parse(r["month"]): r["method"] for r in frame_rows(methods)},
        )
        problems = rules.records_in_published_format(records, last_closed_month())
        if problems:
            raise Failure(
                "The publication would not be in OPG's format, so nothing was published: "
                + " | ".join(p.message for p in problems[:10])
            )
        try:
            publisher.refuse_sample_figures()
            _refuse_to_drop_published_months(publisher, published_months)
            if publisher.ckan.enabled:
                publisher.ckan.check_access()
        except PublicationFailed as error:
            raise Failure(f"{error}. Nothing was published.") from None
        datafile_date = max(published_months)
        metadata: dict[str, Any] = {
            "targets": ", ".join(publisher.targets()),
            "month_files": ", ".join(month_file_name(month) for month in months),
            "records_this_run": len(rows),
            "records_published_in_all": len(records),
            "months_published_in_all": len(published_months),
            "revisions_this_run": len(found),
            **({"revisions": _revision_table(found)} if found else {}),
        }
        if dry_run:
            plan = publisher.directory.plan(files)
            if publisher.s3.enabled:
                plan += publisher.s3.plan(files)
            if publisher.ckan.enabled:
                plan.append(publisher.ckan.plan(csv_url or "", datafile_date))
            context.log.info(f"dry run: {len(plan)} planned changes, nothing written")
            return {"dry_run": True, "plan": _plan_table(plan), **metadata}
        undo_s3 = publisher.s3.publish(files) if publisher.s3.enabled else None
        try:
            publisher.directory.publish(files)
        except PublicationFailed as error:
            if undo_s3:
                undo_s3()  # S3 goes back to what it was: nothing is half-published
            raise Failure(f"{error}. Nothing was published; re-run the month once it is fixed.") from None
        metadata["directory"] = MetadataValue.path(str(publisher.directory.directory()))
        if publisher.ckan.enabled:  # still holding the lock: two first publications make one resource
            try:
                change = publisher.ckan.register(csv_url or "", datafile_date)
            except PublicationFailed as error:
                written = ", ".join(t for t in publisher.targets() if t != "ckan")
                raise Failure(
                    f"The files are published ({written}) but updating CKAN failed: {error}. "
                    "Re-run the month to complete the publication; nothing will be duplicated."
                ) from None
            metadata |= {"ckan_resource": f"{change.action}d {change.name}", "ckan_csv_url": csv_url or ""}
    return metadata


def _refuse_to_drop_published_months(publisher: DataGovUkPublisher, published_months: list[str]) -> None:
    """The cumulative files are rebuilt from the metrics store; an empty or different store must not
    silently remove months that are already public."""
    keeping = {key[:7] for key in published_months}
    targets = [("directory", publisher.directory)] + ([("s3", publisher.s3)] if publisher.s3.enabled else [])
    for name, target in targets:
        existing = target.read("data.json")
        try:
            months = {item["_timestamp"][:7] for item in json.loads(existing)} if existing else set()
        except (ValueError, TypeError, KeyError):
            continue  # not a data.json perfplat can read: replacing it loses nothing of ours
        dropped = sorted(months - keeping)
        if dropped:
            raise PublicationFailed(
                f"data.json in the {name} target holds {', '.join(dropped)}, which the metrics store does "
                "not: publishing would remove them. Point PERFPLAT_METRICS_DB_URL at the store that "
                "published them"
            )
