from collections.abc import Iterator

import pandas as pd
from dagster import AssetCheckResult, AssetExecutionContext, Output, asset

from perfplat_assets.digital_take_up.resources import SiriusDatabase, TakeUpFiguresFile
from perfplat_assets.digital_take_up.take_up import digital_take_up as take_up_figures
from perfplat_assets.partitions import METRICS_STORE, MONTHLY_ASSET, partition_months
from perfplat_assets.quality import rules
from perfplat_assets.quality.checks import Check, check_specs, evaluate, output_with_checks

CHECKS = (
    Check(
        "digital_within_total",
        "Digital applications never exceed all applications; the take-up is within 0..100.",
        blocks_publication=True,
    ),
)


@asset(
    **MONTHLY_ASSET,
    io_manager_key=METRICS_STORE,
    kinds={"sql"},
    check_specs=check_specs("digital_take_up", CHECKS),
)
def digital_take_up(
    context: AssetExecutionContext, sirius_db: SiriusDatabase, takeup_figures_file: TakeUpFiguresFile
) -> Iterator[Output[pd.DataFrame] | AssetCheckResult]:
    """Applications made with Make an LPA as a share of all LPA applications received, from Sirius or,
    when configured, the product team's figures file (which then takes precedence)."""
    months = partition_months(context)
    if takeup_figures_file.path:
        source, description, figures = "figures-file", takeup_figures_file.path, takeup_figures_file.figures()
    else:
        source, description, figures = "sirius", sirius_db.describe(), sirius_db.applications(months)
    rows = [take_up_figures(month, figures.get(month), source).as_row() for month in months]
    evaluation = evaluate(CHECKS, {"digital_within_total": rules.digital_within_total(rows)})
    yield from output_with_checks(context, rows, evaluation, {"source": description})
