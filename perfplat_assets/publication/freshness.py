"""`published_by_deadline`, the check on each service's data_gov_uk_publication that the month that just
closed was published by a run in time (see deadline.py), and the sensor that evaluates it, for every service,
once each of its deadlines passes.

Dagster's `build_time_partition_freshness_checks` would count an imported month (its materialisation is
recorded too) and prints a SupersessionWarning in every command, so the check is perfplat's own: the
publication run reports it whenever it publishes, and `publication_deadline` reports it at the deadline
whether or not anything ran. The alert sensor (alerts/sensors.py) alerts on a failed evaluation.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from dagster import (
    AssetCheckEvaluation,
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

from perfplat_assets.asset_names import DATA_GOV_UK_PUBLICATION, PERFORMANCE_DATASET
from perfplat_assets.common.months import Month
from perfplat_assets.common.service import Service
from perfplat_assets.publication.deadline import CHECK_NAME, DEFAULT_DEADLINE, DeadlineStatus, due_month
from perfplat_assets.publication.history.carry_over import carry_over
from perfplat_assets.services.registry import service_called

IMPORT_TAG = "perfplat/imported_sha256"  # on an imported month's materialisation: it does not count
SENSOR_NAME = "publication_deadline"
CARRIED_OVER = "carried_over"  # in the sensor's cursor, once `history.carry_over` has run


def publication_key(service: str) -> AssetKey:
    """The publication of the service named `service`."""
    return AssetKey([service, DATA_GOV_UK_PUBLICATION])


def deadline_check_spec(service: Service) -> AssetCheckSpec:
    """The check, on the service's publication."""
    return AssetCheckSpec(
        CHECK_NAME,
        asset=publication_key(service.name),
        description=(
            f"{service.title}'s month that closed last is published by a run (not imported) by its deadline "
            f"({service.setting_prefix}PUBLICATION_DEADLINE), an hour before OPG's monthly automation copies "
            "it at 12:00 UTC on the 1st. Reported by every publication run and by the publication_deadline "
            "sensor once each deadline passes."
        ),
    )


class PublicationDeadline(ConfigurableResource):
    """When a service's month that just closed must be published: a cron in UTC (checked when the location
    loads)."""

    service: str = Field(description="The service whose deadline it is, by name: make_an_lpa.")
    cron: str = Field(default=DEFAULT_DEADLINE, description="PERFPLAT_<SERVICE>_PUBLICATION_DEADLINE")

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
        published = month in set(published_now) or published_by_run(instance, self.service, month)
        return DeadlineStatus(month, deadline, published)


def valid_deadline(cron: str) -> bool:
    return is_valid_cron_string(cron)


def published_by_run(instance: DagsterInstance, service: str, month: Month) -> bool:
    """A run recorded the month on the service's data_gov_uk_publication (withheld measures or not); a
    month recorded there because an import was published does not count."""
    records = instance.fetch_materializations(
        AssetRecordsFilter(asset_key=publication_key(service), asset_partitions=[month.key]),
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
    """The check's result as the publication run reports it (on the run's own asset)."""
    return AssetCheckResult(check_name=CHECK_NAME, **_said(status))


def evaluation(service: str, status: DeadlineStatus) -> AssetCheckEvaluation:
    """The check's result as the sensor reports it (no run)."""
    return AssetCheckEvaluation(asset_key=publication_key(service), check_name=CHECK_NAME, **_said(status))


def build_deadline_sensor(
    deadlines: Mapping[str, PublicationDeadline], interval_seconds: int = 60
) -> SensorDefinition:
    """Reports `published_by_deadline` once for each deadline of each service (`deadlines`, by its name)
    that passes (its cursor holds each service's last deadline reported); RUNNING by default, as it only
    reads the instance."""
    services = [service_called(name) for name in deadlines]
    pipeline_names = {
        service.name: [*service.measure_names, PERFORMANCE_DATASET, DATA_GOV_UK_PUBLICATION]
        for service in services
    }

    @sensor(
        name=SENSOR_NAME,
        minimum_interval_seconds=interval_seconds,
        default_status=DefaultSensorStatus.RUNNING,
        description="At each service's publication deadline, reports whether its month that closed last was "
        "published by a run (the published_by_deadline check on its data_gov_uk_publication); first, carries "
        "Dagster's record of months published before services were declared over to the service's keys.",
    )
    def publication_deadline(context: SensorEvaluationContext) -> SensorResult:
        reported = _cursor(context.cursor)
        if reported.get(CARRIED_OVER) != "done":  # once: months published before services were declared
            for service in services:
                for line in carry_over(context.instance, service, pipeline_names[service.name]):
                    context.log.info(f"carried over Dagster's record of {service}'s months: {line}")
        events, now = [], {CARRIED_OVER: "done"}
        for service, deadline_resource in deadlines.items():
            deadline = deadline_resource.last()
            now[service] = deadline.isoformat()
            if reported.get(service) == now[service]:
                continue
            status = deadline_resource.status(context.instance)
            context.log.info(f"{service}: {status.description}")
            events.append(evaluation(service, status))
        skip = None if events else SkipReason("every service's last deadline is already reported")
        return SensorResult(asset_events=events, cursor=json.dumps(now, sort_keys=True), skip_reason=skip)

    return publication_deadline


def _cursor(text: str | None) -> dict[str, str]:
    """Each service's last deadline reported; a cursor of no form known (none yet) reports every one."""
    try:
        found = json.loads(text or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
