"""Each asset's figures come back from the metrics store as they went in: the one conversion both ways."""

import pytest

from perfplat_assets.common.months import Month
from perfplat_assets.completion_rate.calculation import (
    ApplicationCounts,
    ReportFlags,
    SessionCounts,
    completion_rate,
)
from perfplat_assets.digital_take_up.calculation import TakeUpFigures, digital_take_up
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.metrics_store.tables import STORED_ASSETS
from perfplat_assets.publication.published_format.records import DatasetValue
from perfplat_assets.store_schema import STORED_TABLES
from perfplat_assets.uptime.calculation import hour_starts, uptime
from perfplat_assets.user_satisfaction.calculation import (
    DEFAULT_METHOD_SCHEDULE,
    RatingCounts,
    parse_methods,
    satisfaction_figures,
)

MAY, JUNE = Month.parse("2025-05"), Month.parse("2025-06")
SCHEDULE = parse_methods(DEFAULT_METHOD_SCHEDULE)
FLAGGED = ReportFlags(
    sampled=True, data_truncation_reasons=("dimension cardinality",), time_zone="Europe/London"
)

FIGURES = {
    "user_satisfaction": [
        satisfaction_figures(
            MAY, RatingCounts(420, 310, 90, 40, 25, unknown=3, rated_responses=885), SCHEDULE
        )
        for SCHEDULE in [parse_methods(DEFAULT_METHOD_SCHEDULE)]
    ],
    "digital_take_up": [
        digital_take_up(MAY, TakeUpFigures(412, 1000, "revised"), "figures-file"),
        digital_take_up(JUNE, None, "sirius"),
    ],
    "completion_rate": [
        completion_rate(MAY, SessionCounts(8, 5), FLAGGED, ApplicationCounts(200, 150)),
        completion_rate(JUNE, SessionCounts(), ReportFlags(), None),
    ],
    "uptime": [
        uptime(MAY, {hour: 1.0 for hour in hour_starts(MAY)}, "here"),
        uptime(JUNE, {hour_starts(JUNE)[0]: 1.0}, "here"),
    ],
    "performance_dataset": [
        DatasetValue(MAY, "uptime-percent", 99.5),  # in the store's order: month, then dataType
        DatasetValue(MAY, "very-satisfied", 420.0),
    ],
}


@pytest.mark.parametrize("asset", FIGURES)
def test_figures_round_trip_through_the_store(tmp_path, asset):
    assert STORED_TABLES  # every service's tables, made before the store creates its schema
    store = MetricsStore(data_dir=str(tmp_path))  # SQLite; the pipeline tests do the same on Postgres
    figures = FIGURES[asset]
    months = sorted({item.month for item in figures})
    table = f"make_an_lpa__{asset}"  # Make an LPA's copy of the asset's table
    assert store.save(table, months, figures) == []
    assert store.load(table, months) == figures


def test_every_stored_column_is_described_in_the_uis_column_schema():
    from perfplat_assets.common.metadata import column_schema

    assert STORED_TABLES
    undescribed = [
        f"{table.name}.{column.name}"
        for table, _ in STORED_ASSETS.values()
        for column in column_schema(table).columns
        if not (column.description or "").strip()
    ]
    assert undescribed == []
