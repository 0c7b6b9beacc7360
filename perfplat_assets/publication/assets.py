"""Each service's dataset, which its measures are combined into, and its publication to every target (see
committing/publish.py): a factory, called once for each service."""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dagster import (
    AssetCheckResult,
    AssetExecutionContext,
    AssetIn,
    AssetMaterialization,
    AssetObservation,
    AssetsDefinition,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    Output,
)
from pydantic import Field

from perfplat_assets.asset_names import DATA_GOV_UK_PUBLICATION, PERFORMANCE_DATASET
from perfplat_assets.common.errors import clause
from perfplat_assets.common.metadata import markdown_cell
from perfplat_assets.common.methods import MethodSchedule
from perfplat_assets.common.months import Month, last_closed_month, spans
from perfplat_assets.common.service import Service
from perfplat_assets.measures import measure_of, service_data_types, service_measures
from perfplat_assets.partitions import (
    ServiceResources,
    asset_key,
    monthly_asset,
    partition_months,
    service_months,
)
from perfplat_assets.publication.committing.journal import StoreFailed, published_values, synthetic_months
from perfplat_assets.publication.committing.plan import PublicationPlan, Withholding, measure_pairs
from perfplat_assets.publication.committing.publish import PublicationOutcome, PublicationRequest, publish
from perfplat_assets.publication.committing.target import Change, PublicationFailed
from perfplat_assets.publication.deadline import CHECK_NAME
from perfplat_assets.publication.freshness import (
    IMPORT_TAG,
    PublicationDeadline,
    check_result,
    deadline_check_spec,
)
from perfplat_assets.publication.published_format.checks import CHECKS
from perfplat_assets.publication.published_format.dataset import dataset_values
from perfplat_assets.publication.published_format.index import index_html, service_entry
from perfplat_assets.publication.published_format.records import DatasetValue, count_value
from perfplat_assets.publication.published_format.revisions import Revision
from perfplat_assets.publication.targets.publisher import DataGovUkPublisher
from perfplat_assets.quality.checks import output_with_checks
from perfplat_assets.quality.rules import Limits
from perfplat_assets.services.registry import services

# How a month published from imported history is told from one a run computed (`published_by_deadline`
# does): the full sha256 in its metadata, the short form the import reports (a tag value holds at most 63
# characters) in its tags (`IMPORT_TAG`).
IMPORT_SHA256 = "import_sha256"


def build_assets(service: Service) -> list[AssetsDefinition]:
    """The service's dataset and its publication."""
    return [build_dataset(service), build_publication(service)]


def build_dataset(service: Service) -> AssetsDefinition:
    """The service's `performance_dataset`: every one of its measures combined."""
    published = service_measures(service)

    @monthly_asset(
        service,
        PERFORMANCE_DATASET,
        kinds={"sql"},
        checks=CHECKS,
        ins={measure.name: AssetIn(asset_key(service, measure.name)) for measure in published},
    )
    def performance_dataset(
        context: AssetExecutionContext, **figures: list[Any]
    ) -> Iterator[Output[list[DatasetValue]] | AssetCheckResult]:
        """The month's values by published dataType, from every measure of the service. A measure without
        data is left out, never sent as 0; a month a check has blocked upstream gets no values at all."""
        months = service_months(context, service)
        if not months:
            return
        values, notes = dataset_values(months, published, figures)
        for entry, reason in notes.items():
            context.log.warning(f"{service}: {entry}: {reason}")
        limits = Limits(last_closed=last_closed_month())
        metadata = {"service": service.title, "records": len(values), **notes}
        yield from output_with_checks(context, CHECKS, values, limits, metadata)

    return performance_dataset


def blocked_values(
    months: Sequence[Month], dataset: Sequence[DatasetValue]
) -> tuple[dict[Withholding, str], dict[Month, str]]:
    """The run's measures a blocking check withholds, by (month, measure), with why (here or upstream: the
    dataset's values carry it); and the months with no figures at all."""
    blocked: dict[Withholding, str] = {}
    empty: dict[Month, str] = {}
    for month in months:
        own = [value for value in dataset if value.month == month]
        if not own:
            empty[month] = "every measure is missing (see performance_dataset's metadata)"
        for value in own:
            if value.blocked_by:
                measure = measure_of(value.data_type)
                blocked[(month, measure.name if measure else value.data_type)] = value.blocked_by
    return blocked, empty


class PublicationConfig(Config):
    dry_run: bool = Field(default=False, description="Report what would change and write nothing.")


def build_publication(service: Service) -> AssetsDefinition:
    """The service's `data_gov_uk_publication`."""
    # The schedule of methods a measure of the service is made by (satisfaction's), for its imported months.
    schedules = ("method_schedule",) if any(m.methods for m in service_measures(service)) else ()

    @monthly_asset(
        service,
        DATA_GOV_UK_PUBLICATION,
        kinds={"json", "csv", "s3"},
        stored=False,
        checks=[deadline_check_spec(service)],
        ins={PERFORMANCE_DATASET: AssetIn(asset_key(service, PERFORMANCE_DATASET))},
        roles=("publisher", "publication_deadline", *schedules),
    )
    def data_gov_uk_publication(
        context: AssetExecutionContext, config: PublicationConfig, performance_dataset: list[DatasetValue]
    ) -> Iterator[MaterializeResult | AssetMaterialization | AssetObservation | AssetCheckResult]:
        """The service's month files for OPG's monthly automation and its cumulative files rebuilt from
        every published month, written to every target or to none (see the README's "Everywhere or
        nowhere"). The files state an imported month's method from the service's method schedule, the
        store's for a computed one."""
        months = service_months(context, service)
        if not months:
            return
        resources = ServiceResources(context, service)
        methods = {resources.method_schedule.measure: resources.method_schedule.parsed()} if schedules else {}
        yield from publish_months(context, months, config, performance_dataset, resources, methods)

    return data_gov_uk_publication


def publish_months(
    context: AssetExecutionContext,
    months: list[Month],
    config: PublicationConfig,
    performance_dataset: list[DatasetValue],
    resources: ServiceResources,
    methods: Mapping[str, MethodSchedule],
) -> Iterator[MaterializeResult | AssetMaterialization | AssetObservation | AssetCheckResult]:
    """Publish the run's months of the service to every target, and record what went out."""
    publisher: DataGovUkPublisher = resources.publisher
    deadline_resource: PublicationDeadline = resources.publication_deadline
    dry_run = config.dry_run or publisher.dry_run
    blocked, empty = blocked_values(months, performance_dataset)
    free = [v for v in performance_dataset if v.month in months and not v.blocked_by]
    publishable = sorted({v.month for v in free})
    implausible: dict[Withholding, str] = {}
    if publishable:
        request = PublicationRequest(
            publisher.published_service,
            publishable,
            {(v.month, v.data_type): v.count for v in free},
            context.run.run_id,
            publisher.hosted_csv_url(),
            last_closed_month(),
            dry_run,
            methods,  # the others' defaults: the snapshot's
            # A blocked measure of a month published for its other measures keeps its earlier publication.
            keep={
                pair for month, name in blocked if month in publishable for pair in measure_pairs(month, name)
            },
            synthetic=bool(publisher.sample_sources),
        )
        outcome = _publish(context, request, publisher)
        implausible = dict(outcome.plan.withheld)  # values out of bounds: their measures stay out
        publishable = list(outcome.plan.months)
        metadata = _outcome_metadata(outcome, publishable, len(outcome.plan.values), publisher, dry_run)
        yield from _imported_months_published(context, outcome, months)
    else:
        metadata = {}
    withheld = Withheld(blocked, implausible, empty)
    metadata = {f"withheld {label}": reason for label, reason in withheld.reasons.items()} | metadata
    # Whether the month due at the last deadline was published by a run in time (this one is in the journal).
    deadline = deadline_resource.status(publisher.store)
    yield from _results(context, publishable, withheld, metadata, dry_run, check_result(deadline))


@dataclass(frozen=True)
class Withheld:
    """What of the run's months is not published, each with why: measures a check blocked (an earlier
    publication of them stays), measures holding values out of bounds, and months with nothing at all."""

    blocked: Mapping[Withholding, str]
    implausible: Mapping[Withholding, str]
    empty: Mapping[Month, str]

    @property
    def reasons(self) -> dict[str, str]:
        """Why, by what is withheld ("2026-05 completion-rate", or a month), in month order; measures of a
        month withheld for one reason (the dataset's own check, say) are named together."""
        by_month: dict[Month, dict[str, list[str]]] = {}
        for withheld in (self.blocked, self.implausible):
            for (month, name), reason in withheld.items():
                by_month.setdefault(month, {}).setdefault(reason, []).append(name.replace("_", "-"))
        for month, reason in self.empty.items():
            by_month.setdefault(month, {}).setdefault(f"nothing to publish: {reason}", [])
        return {
            " ".join([str(month), ", ".join(names)]).strip(): reason
            for month in sorted(by_month)
            for reason, names in by_month[month].items()
        }


def _results(
    context: AssetExecutionContext,
    publishable: Sequence[Month],
    withheld: Withheld,
    metadata: dict[str, Any],
    dry_run: bool,
    deadline: AssetCheckResult,
) -> Iterator[MaterializeResult | AssetMaterialization | AssetObservation | AssetCheckResult]:
    """What the run records: a dry run observes each month and materialises nothing; a month published for
    any of its measures is recorded as materialised, while a measure a check blocked or whose values are out
    of bounds is withheld (an earlier publication of it stays); then the run fails naming what was withheld
    and why. `published_by_deadline` is reported either way, when the run selected it."""
    checks = [deadline] if CHECK_NAME in {key.name for key in context.selected_asset_check_keys} else []
    if dry_run:
        for month in partition_months(context):
            yield AssetObservation(context.asset_key, partition=month.key, metadata=metadata)
        yield from checks
        return
    if withheld.reasons:
        for month in publishable:  # what did go out is on record, though the run fails
            yield AssetMaterialization(context.asset_key, partition=month.key, metadata=metadata)
        yield from checks
        published = ", ".join(str(m) for m in publishable) or "nothing"
        ending = " A measure a check blocked keeps any earlier publication; fix the source and re-run it."
        raise Failure(
            f"Published {published}; withheld "
            + " | ".join(f"{label}: {reason}" for label, reason in withheld.reasons.items())
            + "."
            + (ending if withheld.blocked else ""),
            metadata=metadata,
        )
    yield MaterializeResult(metadata=metadata, check_results=checks)


def _imported_months_published(
    context: AssetExecutionContext, outcome: PublicationOutcome, run_months: Sequence[Month]
) -> Iterator[AssetMaterialization]:
    """An imported month is recorded on this asset once a publication has written it, tagged with the
    sha256 of the file it came from, so the asset's partitions show what is published and where each month
    came from. (The measures' partitions show only what perfplat computed: marking them would make a
    downstream re-run load nothing for those months.)"""
    for month, digest in sorted(outcome.imported.items()):
        if month not in run_months:
            yield AssetMaterialization(
                context.asset_key,
                partition=month.key,
                description=f"{month} published from imported history (sha256 {digest[:12]})",
                metadata={"source": "imported", IMPORT_SHA256: digest},
                tags={IMPORT_TAG: digest[:12]},
            )


def _publish(
    context: AssetExecutionContext, request: PublicationRequest, publisher: DataGovUkPublisher
) -> PublicationOutcome:
    """The settings' guards, then the publication itself."""
    try:
        publisher.refuse_unpublishable_settings()
        outcome = publish(publisher.store, publisher.targets(), request, context.log)
    except PublicationFailed as error:
        raise Failure(f"{clause(error)}.") from None
    if request.dry_run:
        context.log.info(f"dry run: {len(outcome.changes)} planned changes, nothing written")
        return outcome
    for moved in (publisher.directory.carried_over, publisher.s3.carried_over):
        if moved:  # once: what a perfplat of one service left, now in this service's place
            context.log.warning(f"{request.service}: {moved}")
    _write_index(context, publisher)
    return outcome


def _write_index(context: AssetExecutionContext, publisher: DataGovUkPublisher) -> None:
    """The top-level `report.html`, listing every service with published months and its newest figures,
    to the directory and S3. The service's own publication is out everywhere by now, so an index that cannot
    be written is said, not a failure of the run."""
    published = published_values(publisher.store, services())
    made_up = synthetic_months(publisher.store, services())
    entries = [
        service_entry(service, published[service.name], made_up[service.name])
        for service in services()
        if published[service.name]
    ]
    content = index_html(entries).encode("utf-8")
    for target in (publisher.directory, *([publisher.s3] if publisher.s3.enabled else [])):
        try:
            target.write_index(content)
        except (PublicationFailed, StoreFailed) as error:
            context.log.warning(
                f"the top-level report.html listing the services was not written to the {target.label} "
                f"target ({error}); {publisher.published_service}'s own files are published"
            )


def _outcome_metadata(
    outcome: PublicationOutcome,
    months: list[Month],
    records_this_run: int,
    publisher: DataGovUkPublisher,
    dry_run: bool,
) -> dict[str, Any]:
    """The publication's outcome as the materialization's metadata: the plan for a dry run, the files and
    where to open them for a real one."""
    plan = outcome.plan
    metadata: dict[str, Any] = {
        "targets": ", ".join(t.name for t in publisher.targets()),
        "month_files": ", ".join(publisher.published_service.month_file_name(month) for month in months),
        "records_this_run": records_this_run,
        "records_published_in_all": len(plan.records),
        "months_published_in_all": len(plan.published_months),
        "revisions_this_run": len(plan.revisions),
        "plan_digest": plan.digest,
        **({"revisions": _revision_table(plan.revisions)} if plan.revisions else {}),
        **({"recovery": outcome.recovered} if outcome.recovered else {}),
        **({"imported_history": outcome.imported_history} if outcome.imported_history else {}),
        **({"synthetic": _synthetic(plan, publisher)} if plan.synthetic else {}),
    }
    if dry_run:
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


def _synthetic(plan: PublicationPlan, publisher: DataGovUkPublisher) -> str:
    """What the metadata says of the series' synthetic months, and why this run's figures are synthetic."""
    unset = publisher.sample_sources
    why = (
        f"; this run's, because {', '.join(unset)} {'is' if len(unset) == 1 else 'are'} unset"
        if unset
        else ""
    )
    return f"{spans(plan.synthetic)}: computed from the embedded sample, not from OPG's services{why}"


def _revision_table(found: list[Revision]) -> MetadataValue:
    lines = ["| month | dataType | previous | new |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {r.month} | {markdown_cell(r.data_type)} | {r.previous_count} | {r.new_count} |" for r in found
    ]
    return MetadataValue.md("\n".join(lines))


def _plan_table(changes: list[Change]) -> MetadataValue:
    lines = ["| target | file or resource | would |", "| --- | --- | --- |"]
    lines += [
        f"| {markdown_cell(c.target)} | {markdown_cell(c.name)} | {markdown_cell(c.action)} |"
        for c in changes
    ]
    return MetadataValue.md("\n".join(lines))


def _preview(plan: PublicationPlan, months: list[Month]) -> MetadataValue:
    """The run's months as people read them: a row a month, a column a dataType."""
    names = [data_type.name for data_type in service_data_types(plan.service)]
    shown = [t for t in names if any(pair[1] == t for pair in plan.values)]
    lines = ["| month | " + " | ".join(shown) + " |", "|" + " --- |" * (len(shown) + 1)]
    for month in months:
        cells = [
            str(count_value(t, plan.values[(month, t)])) if (month, t) in plan.values else "" for t in shown
        ]
        lines.append(f"| {month} | {' | '.join(cells)} |")
    return MetadataValue.md("\n".join(lines))


def _links(plan: PublicationPlan, publisher: DataGovUkPublisher) -> MetadataValue:
    """Where each file of the publication can be opened: the directory (the top for a month file, the
    service's folder for the rest), and S3's URL when it is on."""
    lines = []
    for item in plan.files:
        where = [f"[directory]({(publisher.directory.location(item.name) / item.name).as_uri()})"]
        if publisher.s3.enabled:
            where.append(f"[S3]({publisher.s3.public_url(item.name)})")
        lines.append(f"- `{item.name}`: " + ", ".join(where))
    return MetadataValue.md("\n".join(lines))
