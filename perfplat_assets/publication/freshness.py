"""`published_by_deadline`, the check on data_gov_uk_publication that the month that just closed was
published by a run in time (see deadline.py), and the sensor that evaluates it once each deadline passes.

Dagster's `build_time_partition_freshness_checks` would count an imported month (its materialisation is
recorded too) and prints a SupersessionWarning in every command, so the check is perfplat's own: the
publication run reports it whenever it publishes, and `publication_deadline` reports it at the deadline
whether or not anything ran. The alert sensor (alerts/sensors.py) alerts on a failed evaluation.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from dagster import (
    AssetCheckEvaluation,
    AssetCheckKey,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    AssetRecordsFilter,
    ConfigurableResource,
    DagsterInstance,
    DefaultSensorStatus,
    SensorDefinition,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)
from dagster._utils.schedules import is_valid_cron_string, reverse_cron_string_iterator
from pydantic import Field

from perfplat_assets.asset_names import DATA_GOV_UK_PUBLICATION
from perfplat_assets.common.months import Month
from perfplat_assets.publication.deadline import CHECK_NAME, DEFAULT_DEADLINE, DeadlineStatus, due_month

IMPORT_TAG = "perfplat/imported_sha256"  # on an imported month's materialisation: it does not count
CHECK_KEY = AssetCheckKey(AssetKey(DATA_GOV_UK_PUBLICATION), CHECK_NAME)
CHECK_SPEC = AssetCheckSpec(
    CHECK_NAME,
    asset=DATA_GOV_UK_PUBLICATION,
    description=(
        "The month that closed last is published by a run (not imported) by PERFPLAT_PUBLICATION_DEADLINE, "
        "an hour before OPG's monthly automation copies it at 12:00 UTC on the 1st. Reported by every "
        "publication run and by the publication_deadline sensor once each deadline passes."
    ),
)
SENSOR_NAME = "publication_deadline"


class PublicationDeadline(ConfigurableResource):
    """When the month that just closed must be published: a cron in UTC (checked when the location loads)."""

    cron: str = Field(default=DEFAULT_DEADLINE, description="PERFPLAT_PUBLICATION_DEADLINE")

    def last(self, now: datetime | None = None) -> datetime:
        """The latest deadline at or before `now`."""
        moment = (now or datetime.now(UTC)).timestamp()
        return next(reverse_cron_string_iterator(moment + 1e-6, self.cron, "UTC")).astimezone(UTC)

    def status(
        self, instance: DagsterInstance, now: datetime | None = None, published_now: Iterable[Month] = ()
    ) -> DeadlineStatus:
        """Whether the month due at the last deadline is published by a run: this one (`published_now`)
        or an earlier one, as the instance records it."""
        deadline = self.last(now)
        month = due_month(deadline)
        published = month in set(published_now) or published_by_run(instance, month)
        return DeadlineStatus(month, deadline, published)


def valid_deadline(cron: str) -> bool:
    return is_valid_cron_string(cron)


def published_by_run(instance: DagsterInstance, month: Month) -> bool:
    """A run recorded the month on data_gov_uk_publication (withheld measures or not); a month recorded
    there because an import was published does not count."""
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=AssetKey(DATA_GOV_UK_PUBLICATION), asset_partitions=[month.key]),
        limit=100,
    ).records
    for record in records:
        materialization = record.asset_materialization
        if materialization is not None and IMPORT_TAG not in (materialization.tags or {}):
            return True
    return False


def _said(status: DeadlineStatus) -> dict[str, Any]:
    return {
        "passed": status.published,
        "severity": AssetCheckSeverity.ERROR,
        "description": status.description,
        "metadata": {"month": str(status.month), "deadline": status.deadline.isoformat()},
    }


def check_result(status: DeadlineStatus) -> AssetCheckResult:
    """The check's result as the publication run reports it."""
    return AssetCheckResult(asset_key=CHECK_KEY.asset_key, check_name=CHECK_NAME, **_said(status))


def evaluation(status: DeadlineStatus) -> AssetCheckEvaluation:
    """The check's result as the sensor reports it (no run)."""
    return AssetCheckEvaluation(asset_key=CHECK_KEY.asset_key, check_name=CHECK_NAME, **_said(status))


def build_deadline_sensor(interval_seconds: int = 60) -> SensorDefinition:
    """Reports `published_by_deadline` once for each deadline that passes (its cursor is the last
    deadline reported); RUNNING by default, as it only reads the instance."""

    @sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=interval_seconds,
        default_status=DefaultSensorStatus.RUNNING,
        description="At each PERFPLAT_PUBLICATION_DEADLINE, reports whether the month that closed last was "
        "published by a run (the published_by_deadline check on data_gov_uk_publication).",
    )
    def publication_deadline(
        context: SensorEvaluationContext, publication_deadline: PublicationDeadline
    ) -> SensorResult | SkipReason:
        deadline = publication_deadline.last()
        if context.cursor == deadline.isoformat():
            return SkipReason(f"the deadline of {deadline:%Y-%m-%d %H:%M} UTC is already reported")
        status = publication_deadline.status(context.instance)
        context.log.info(status.description)
        return SensorResult(asset_events=[evaluation(status)], cursor=deadline.isoformat())

    return publication_deadline
