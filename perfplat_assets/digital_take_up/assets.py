"""Digital take-up: LPA applications made online as a share of all LPA applications received."""

from collections.abc import Iterator

from dagster import AssetCheckResult, AssetExecutionContext, Output

from perfplat_assets.common.run_start import RunStart
from perfplat_assets.digital_take_up.calculation import DigitalTakeUp
from perfplat_assets.digital_take_up.calculation import digital_take_up as take_up_figures
from perfplat_assets.digital_take_up.measure import DIGITAL_TAKE_UP
from perfplat_assets.digital_take_up.resources import SiriusDatabase, TakeUpFiguresFile
from perfplat_assets.partitions import monthly_asset, partition_months
from perfplat_assets.quality.checks import output_with_checks
from perfplat_assets.quality.rules import Limits


@monthly_asset(DIGITAL_TAKE_UP.name, kinds={"sql"}, checks=DIGITAL_TAKE_UP.checks)
def digital_take_up(
    context: AssetExecutionContext,
    run_start: RunStart,
    sirius_db: SiriusDatabase,
    takeup_figures_file: TakeUpFiguresFile,
) -> Iterator[Output[list[DigitalTakeUp]] | AssetCheckResult]:
    """Applications made with Make an LPA as a share of all LPA applications received, from Sirius or,
    when configured, the product team's figures file (which then takes precedence)."""
    run_start.check(context)
    months = partition_months(context)
    if takeup_figures_file.path:
        source, description, figures = "figures-file", takeup_figures_file.path, takeup_figures_file.figures()
    else:
        source, description, figures = "sirius", sirius_db.describe(), sirius_db.applications(months)
    take_up = [take_up_figures(month, figures.get(month), source) for month in months]
    yield from output_with_checks(context, DIGITAL_TAKE_UP.checks, take_up, Limits(), {"source": description})
