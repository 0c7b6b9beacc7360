"""Digital take-up's sources, from their settings: Sirius (its schema's names configurable), or the product
team's figures file when one is named."""

from __future__ import annotations

from typing import Any

from perfplat_assets.common.service import Service
from perfplat_assets.common.settings import Settings, env, given, is_set
from perfplat_assets.digital_take_up.resources import SiriusDatabase, TakeUpFiguresFile


def sources(settings: Settings, service: Service) -> dict[str, Any]:
    """By role, what digital take-up reads (its settings are its own: only Make an LPA publishes it)."""
    contract = given(
        cases_table="PERFPLAT_SIRIUS_CASES_TABLE",
        case_type_column="PERFPLAT_SIRIUS_CASE_TYPE_COLUMN",
        receipt_date_column="PERFPLAT_SIRIUS_RECEIPT_DATE_COLUMN",
        online_id_column="PERFPLAT_SIRIUS_ONLINE_ID_COLUMN",
        lpa_case_type="PERFPLAT_SIRIUS_LPA_CASE_TYPE",
    )
    url = SiriusDatabase.setting
    # A named figures file takes precedence: Sirius is then not read, so neither it nor its sample is needed.
    read_sirius = not is_set(TakeUpFiguresFile.setting)
    return {
        "sirius_db": settings.source(
            SiriusDatabase, is_set(url) or not read_sirius, url=env(url), **contract
        ),
        "takeup_figures_file": TakeUpFiguresFile(path=env(TakeUpFiguresFile.setting)),
    }
