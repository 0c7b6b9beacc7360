"""`data.csv-metadata.json`: the CSV described on the Web (W3C CSVW), as GOV.UK asks for open data. Pure."""

from __future__ import annotations

import json
from collections.abc import Iterable

from perfplat_assets.common.measure import DataType, Measure
from perfplat_assets.common.service import Service
from perfplat_assets.measures import Methods, service_measures
from perfplat_assets.publication.published_format.notes import method_periods

PUBLISHER = {
    "schema:name": "Office of the Public Guardian",
    "schema:url": {"@id": "https://www.gov.uk/government/organisations/office-of-the-public-guardian"},
}
LICENCE = "http://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"


def _description(measure: Measure, data_type: DataType, methods: Methods) -> str:
    """The column's description: its own, else its measure's note; with the method month by month where
    the measure's method changes over time."""
    text = data_type.description or measure.note
    by_month = methods.get(measure.name, {})
    if measure.methods and by_month and data_type is measure.headline:
        periods = [
            f"{first}{'' if first == last else f' to {last}'}: {measure.methods.get(method, method)}"
            for first, last, method in method_periods(by_month)
        ]
        text += ". Method by month: " + "; ".join(periods)
    return text


def _listed(names: Iterable[str]) -> str:
    """ "a, b and c"."""
    *rest, last = names
    return f"{', '.join(rest)} and {last}" if rest else last


def csv_metadata(service: Service, methods: Methods, csv_name: str = "data.csv") -> str:
    """Each column's title, datatype and description, the publisher, the licence and the methods."""
    columns = [
        {
            "name": "month",
            "titles": "month",
            "datatype": "gYearMonth",
            "required": True,
            "dc:description": "The calendar month (Europe/London) the figures are for.",
        }
    ]
    for measure in service_measures(service):
        columns += [
            {
                "name": data_type.name.replace("-", "_"),
                "titles": data_type.name,
                "datatype": data_type.csvw_datatype,
                "null": "",
                "dc:description": _description(measure, data_type, methods)
                + ". Empty when not available for the month.",
            }
            for data_type in measure.data_types
        ]
    titles = [measure.title.lower() for measure in service_measures(service)]
    document = {
        "@context": "http://www.w3.org/ns/csvw",
        "url": csv_name,
        "dc:title": f"{service.title}: monthly service performance data",
        "dc:description": (
            f"Monthly performance of the GOV.UK service {service.title}: {_listed(titles)}. Values revised "
            "after publication are listed in revisions.csv; methods are explained in notes.md."
        ),
        "dc:publisher": PUBLISHER,
        "dc:license": {"@id": LICENCE},
        "dialect": {"header": True, "encoding": "utf-8", "lineTerminators": ["\r\n"]},
        "tableSchema": {"columns": columns, "primaryKey": "month"},
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
