"""Dagster's record of the months published before services were declared, carried over to the service's own
asset keys, once.

perfplat published one service then, under keys without a service (`data_gov_uk_publication`); that
service's assets are now `make_an_lpa/data_gov_uk_publication` and the rest. Each month materialised under
an old key and not yet under the new one is recorded under the new one, as the old record was (an imported
month stays one), so the UI's partitions show every month published before the upgrade. (The deadline check
reads when a month was first published from the metrics store's journal, not from these records.)
"""

from __future__ import annotations

from collections.abc import Sequence

from dagster import AssetKey, AssetMaterialization, AssetRecordsFilter, DagsterInstance

from perfplat_assets.common.service import Service

CARRIED_OVER_TAG = "perfplat/carried_over_from"  # the old key a materialisation was carried over from
BATCH = 1000


def carry_over(instance: DagsterInstance, service: Service, names: Sequence[str]) -> list[str]:
    """Record under the service's keys each month its assets `names` had materialised under their old,
    unprefixed keys; only for the service that inherits the single-service layout. Returns what was carried
    over, as lines for the log (none once it has been done)."""
    if not service.inherits_single_service_layout:
        return []
    said = []
    for name in names:
        old, new = AssetKey(name), AssetKey([service.name, name])
        missing = instance.get_materialized_partitions(old) - instance.get_materialized_partitions(new)
        if not missing:
            continue
        for partition in sorted(missing):
            instance.report_runless_asset_event(_carried(instance, old, new, partition))
        said.append(f"{old.to_user_string()} -> {new.to_user_string()}: {len(missing)} months")
    return said


def _carried(instance: DagsterInstance, old: AssetKey, new: AssetKey, partition: str) -> AssetMaterialization:
    """The newest old record of the month, under the new key, its tags and metadata kept."""
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=old, asset_partitions=[partition]), limit=1
    ).records
    earlier = records[0].asset_materialization if records else None
    tags = dict(earlier.tags or {}) if earlier else {}
    return AssetMaterialization(
        new,
        partition=partition,
        description=f"published before services were declared, as {old.to_user_string()}",
        metadata=dict(earlier.metadata) if earlier else {},
        tags=tags | {CARRIED_OVER_TAG: old.to_user_string()},
    )
