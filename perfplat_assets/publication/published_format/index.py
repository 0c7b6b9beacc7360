"""`report.html` at the top of a publication: every service published there, each with its newest figures
and a link to its own folder. Pure: rendered from what each service's store holds, with the report's
template environment and style."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service
from perfplat_assets.measures import service_measures
from perfplat_assets.publication.published_format.records import REPORT_HTML
from perfplat_assets.publication.published_format.report import PAGE, value_text
from perfplat_assets.publication.published_format.synthetic import NOT_PUBLISHED, PUBLISHER, synthetic_notice

TITLE = "Office of the Public Guardian: monthly service performance"


@dataclass(frozen=True)
class Figure:
    title: str  # "User satisfaction"
    text: str  # "84%"


@dataclass(frozen=True)
class ServiceEntry:
    """A service as the index lists it: its newest month's headline figures, and where its files are."""

    title: str
    folder: str
    report: str  # its own report.html, relative to the index
    month: Month | None  # its newest published month; None before its first publication
    figures: tuple[Figure, ...]
    synthetic: str | None = None  # what it says while any of its months is synthetic


def service_entry(
    service: Service, published: Mapping[tuple[Month, str], float], synthetic: Collection[Month] = ()
) -> ServiceEntry:
    """The service's entry from its published values: the newest month's headline figure of each of its
    measures that has one, and the notice of its synthetic months, if any."""
    newest = max((month for month, _ in published), default=None)
    figures = tuple(
        Figure(measure.title, value_text(measure.headline, measure.headline.published(published[key])))
        for measure in service_measures(service)
        if newest is not None and (key := (newest, measure.headline.name)) in published
    )
    return ServiceEntry(
        service.title,
        service.folder,
        f"{service.folder}/{REPORT_HTML}",
        newest,
        figures,
        synthetic_notice(synthetic),
    )


def index_html(entries: Sequence[ServiceEntry]) -> str:
    """The page, a section per service in the order given."""
    made_up = bool(entries) and all(entry.synthetic for entry in entries)
    publisher = NOT_PUBLISHED if made_up else PUBLISHER
    return PAGE.get_template("index.html.j2").render(title=TITLE, publisher=publisher, services=entries)
