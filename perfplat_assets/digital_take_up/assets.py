"""Digital take-up: LPA applications made online as a share of all LPA applications received."""

from collections.abc import Iterator

from dagster import AssetCheckResult, AssetExecutionContext, AssetsDefinition, Output

from perfplat_assets.common.answers import Answer
from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service
from perfplat_assets.digital_take_up.calculation import DigitalTakeUp, TakeUpFigures
from perfplat_assets.digital_take_up.calculation import digital_take_up as take_up_figures
from perfplat_assets.digital_take_up.measure import DIGITAL_TAKE_UP
from perfplat_assets.digital_take_up.resources import SiriusDatabase, TakeUpFiguresFile
from perfplat_assets.partitions import ServiceResources, monthly_asset, service_months
from perfplat_assets.quality.checks import output_with_checks
from perfplat_assets.quality.rules import Limits


def build_asset(service: Service) -> AssetsDefinition:
    """The service's `digital_take_up` asset."""

    @monthly_asset(
        service,
        DIGITAL_TAKE_UP.name,
        kinds={"sql"},
        checks=DIGITAL_TAKE_UP.checks,
        roles=("sirius_db", "takeup_figures_file"),
    )
    def digital_take_up(
        context: AssetExecutionContext,
    ) -> Iterator[Output[list[DigitalTakeUp]] | AssetCheckResult]:
        """Applications made with Make an LPA as a share of all LPA applications received, from Sirius or,
        when configured, the product team's figures file (which then takes precedence)."""
        months = service_months(context, service)
        if not months:
            return
        resources = ServiceResources(context, service)
        sirius_db: SiriusDatabase = resources.sirius_db
        figures_file: TakeUpFiguresFile = resources.takeup_figures_file
        metadata: dict[str, object] = {}
        if figures_file.path:  # the file keeps its own rules: a wrong line fails the run, naming it
            source, metadata["source"] = "figures-file", figures_file.path
            found: dict[Month, TakeUpFigures | str] = dict(figures_file.figures())
        else:
            source, metadata["source"] = "sirius", sirius_db.describe()
            answer, named = (
                Answer.of(sirius_db.applications(months)),
                sirius_db.table_named(sirius_db.cases_table),
            )
            found = answer.by_month(months, named, DIGITAL_TAKE_UP.title.lower())
            for line in answer.said(named, DIGITAL_TAKE_UP.title.lower()):
                context.log.warning(line)
            metadata |= answer.metadata(named)
        take_up = [take_up_figures(month, found.get(month), source) for month in months]
        yield from output_with_checks(context, DIGITAL_TAKE_UP.checks, take_up, Limits(), metadata)

    return digital_take_up
