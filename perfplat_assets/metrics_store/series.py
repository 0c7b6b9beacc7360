"""What a service's published series in the metrics store is made of: real figures (imported from OPG's
published history, or computed from configured sources), figures computed from the embedded sample, or
both. A run that would add the sample's figures to a real series, or real figures to a synthetic one, is
refused before it asks any source or writes anything (`common.run_start`)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from perfplat_assets.common.database import failure
from perfplat_assets.common.errors import SourceUnavailable
from perfplat_assets.common.months import Month
from perfplat_assets.metrics_store.resources import SETTING, MetricsStore
from perfplat_assets.metrics_store.tables import publication_record


@dataclass(frozen=True)
class SeriesMakeup:
    real: frozenset[Month]  # months holding a value not marked synthetic: imported, or from real sources
    synthetic: frozenset[Month]  # months holding the embedded sample's figures


def series_makeup(store: MetricsStore, service: str) -> SeriesMakeup:
    """The months of `service`'s published series by what made them, read in one query."""
    table = publication_record(service).published_records
    made_up = func.coalesce(table.c.synthetic, False)
    try:
        with store.transaction(commit=False) as connection:
            rows = connection.execute(select(table.c.month, made_up).distinct()).all()
    except DBAPIError as error:
        raise SourceUnavailable(failure(error, SETTING, store.engine().url, "reading the series")) from None
    return SeriesMakeup(
        real=frozenset(Month.parse(month) for month, synthetic in rows if not synthetic),
        synthetic=frozenset(Month.parse(month) for month, synthetic in rows if synthetic),
    )
