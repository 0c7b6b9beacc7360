"""`data.csv-metadata.json`: the CSV described on the Web (W3C CSVW), as GOV.UK asks for open data. Pure."""

from __future__ import annotations

import json
from collections.abc import Mapping

from perfplat_assets.common.months import Month
from perfplat_assets.publication.notes import (
    COMPLETION_RATE_NOTE,
    DIGITAL_TAKE_UP_NOTE,
    METHOD_DESCRIPTIONS,
    UPTIME_NOTE,
    method_periods,
)
from perfplat_assets.publication.records import BOUNDS, DATA_TYPES, RATING_DATA_TYPES

PUBLISHER = {
    "schema:name": "Office of the Public Guardian",
    "schema:url": {"@id": "https://www.gov.uk/government/organisations/office-of-the-public-guardian"},
}
LICENCE = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"


def _satisfaction_note(methods: Mapping[Month, str]) -> str:
    periods = [
        f"{first}{'' if first == last else f' to {last}'}: {METHOD_DESCRIPTIONS.get(method, method)}"
        for first, last, method in method_periods(methods)
    ]
    return "Satisfaction with the service, rounded to a whole number. Method by month: " + "; ".join(periods)


def csv_metadata(methods: Mapping[Month, str], csv_name: str = "data.csv") -> str:
    """Each column's title, datatype and description, the publisher, the licence and the methods."""
    descriptions = {
        "user-satisfaction-percent": _satisfaction_note(methods),
        **{
            data_type: f"Responses to the feedback form rating the service '{data_type.replace('-', ' ')}'"
            for data_type in RATING_DATA_TYPES
        },
        "digital-take-up": DIGITAL_TAKE_UP_NOTE,
        "completion-rate": COMPLETION_RATE_NOTE,
        "uptime-percent": UPTIME_NOTE,
    }
    columns = [
        {
            "name": "month",
            "titles": "month",
            "datatype": "gYearMonth",
            "required": True,
            "dc:description": "The calendar month (Europe/London) the figures are for.",
        }
    ]
    for data_type in DATA_TYPES:
        whole = BOUNDS[data_type].whole
        columns.append(
            {
                "name": data_type.replace("-", "_"),
                "titles": data_type,
                "datatype": (
                    "nonNegativeInteger"
                    if data_type in RATING_DATA_TYPES
                    else "integer"
                    if whole
                    else "decimal"
                ),
                "null": "",
                "dc:description": descriptions[data_type] + ". Empty when not available for the month.",
            }
        )
    document = {
        "@context": "http://www.w3.org/ns/csvw",
        "url": csv_name,
        "dc:title": "Make a lasting power of attorney: monthly service performance data",
        "dc:description": (
            "Monthly performance of the GOV.UK service Make a lasting power of attorney: user satisfaction, "
            "digital take-up, completion rate and uptime. Values revised after publication are listed in "
            "revisions.csv; methods are explained in notes.md."
        ),
        "dc:publisher": PUBLISHER,
        "dc:license": {"@id": LICENCE},
        "dialect": {"header": True, "encoding": "utf-8", "lineTerminators": ["\r\n"]},
        "tableSchema": {"columns": columns, "primaryKey": "month"},
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
