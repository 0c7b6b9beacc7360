"""Digital take-up's sources, from their settings: Sirius (its schema's names configurable), or the product
team's figures file when one is named."""

from __future__ import annotations

import re
from typing import Any

from perfplat_assets.common.service import Service
from perfplat_assets.common.settings import (
    Settings,
    absolute_path,
    database_url,
    env,
    given,
    is_set,
    named,
)
from perfplat_assets.digital_take_up.resources import SiriusDatabase, TakeUpFiguresFile

# Sirius's names: what PostgreSQL takes unquoted, at most 63 characters (it cuts longer names short).
SQL_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_$]{0,62}")
# A case type is a short code (LPA, EPA).
CASE_TYPE = re.compile(r"[A-Za-z0-9_ -]{1,64}")
NAMES = {
    "PERFPLAT_SIRIUS_CASES_TABLE": "cases",
    "PERFPLAT_SIRIUS_CASE_TYPE_COLUMN": "case_type",
    "PERFPLAT_SIRIUS_RECEIPT_DATE_COLUMN": "receipt_date",
    "PERFPLAT_SIRIUS_ONLINE_ID_COLUMN": "online_lpa_id",
}


def _check_contract() -> None:
    """Sirius's table and column names and its LPA case type, checked now."""
    for variable, example in NAMES.items():
        named(
            variable,
            SQL_NAME,
            "a table or column name (a letter or _, then letters, digits, _ or $; at most 63 in all), e.g. "
            f"{example}",
        )
    named(
        "PERFPLAT_SIRIUS_LPA_CASE_TYPE",
        CASE_TYPE,
        "a case type (at most 64 letters, digits, blanks, - and _), e.g. LPA",
    )


def sources(settings: Settings, service: Service) -> dict[str, Any]:
    """By role, what digital take-up reads (its settings are its own: only Make an LPA publishes it)."""
    _check_contract()
    contract = given(
        cases_table="PERFPLAT_SIRIUS_CASES_TABLE",
        case_type_column="PERFPLAT_SIRIUS_CASE_TYPE_COLUMN",
        receipt_date_column="PERFPLAT_SIRIUS_RECEIPT_DATE_COLUMN",
        online_id_column="PERFPLAT_SIRIUS_ONLINE_ID_COLUMN",
        lpa_case_type="PERFPLAT_SIRIUS_LPA_CASE_TYPE",
    )
    url = SiriusDatabase.setting
    absolute_path(TakeUpFiguresFile.setting, "file", "/srv/perfplat/take-up.csv")
    # A named figures file takes precedence: Sirius is then not read, so neither it nor its sample is needed.
    read_sirius = not is_set(TakeUpFiguresFile.setting)
    return {
        "sirius_db": settings.source(
            SiriusDatabase, is_set(url) or not read_sirius, url=database_url(url), **contract
        ),
        "takeup_figures_file": TakeUpFiguresFile(path=env(TakeUpFiguresFile.setting)),
    }
