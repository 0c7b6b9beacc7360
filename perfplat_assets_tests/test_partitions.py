"""Months are London calendar months; only closed months are partitions."""

from datetime import UTC, datetime

from perfplat_assets.common.months import LONDON, Month, months_between
from perfplat_assets.partitions import monthly_partitions


def test_partition_keys_start_in_march_2021():
    keys = monthly_partitions.get_partition_keys(current_time=datetime(2021, 6, 15, tzinfo=UTC))
    assert keys == ["2021-03-01", "2021-04-01", "2021-05-01"]


def test_the_month_under_way_is_never_a_partition():
    just_before = datetime(2026, 6, 30, 23, 30, tzinfo=LONDON)
    just_after = datetime(2026, 7, 1, 0, 30, tzinfo=LONDON)  # 23:30 UTC on 30 June
    assert monthly_partitions.get_partition_keys(current_time=just_before)[-1] == "2026-05-01"
    assert monthly_partitions.get_partition_keys(current_time=just_after)[-1] == "2026-06-01"


def test_a_summer_month_starts_at_midnight_bst():
    july = Month.parse("2025-07-01")
    assert july.start == datetime(2025, 6, 30, 23, 0, tzinfo=UTC)
    assert july.end == datetime(2025, 7, 31, 23, 0, tzinfo=UTC)
    assert Month.containing(datetime(2025, 6, 30, 23, 30, tzinfo=UTC)) == july


def test_a_winter_month_starts_at_midnight_gmt():
    january = Month.of(2026, 1)
    assert january.start == datetime(2026, 1, 1, tzinfo=UTC)
    assert january.published_timestamp == "2026-01-01T00:00:00+00:00"


def test_months_between_crosses_years():
    months = months_between(Month.of(2025, 11), Month.of(2026, 2))
    assert [m.label for m in months] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert Month.of(2026, 1).previous() == Month.of(2025, 12)
    assert Month.of(2024, 2).last_day.day == 29
