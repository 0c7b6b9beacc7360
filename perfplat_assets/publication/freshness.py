"""`published_by_deadline`, the check on each service's data_gov_uk_publication that the month that just
closed was published by a run in time (see deadline.py), and the sensor that evaluates it, for every service,
once each of its deadlines passes.

When a month was first published by a run is read from the metrics store's journal
(`committing/journal.py`), the source of truth, not from Dagster's records: those hold imported months too,
and a record carried over from before services (`history/carry_over.py`) bears the time it was carried
over. Dagster's `build_time_partition_freshness_checks` would count an imported month and prints a
SupersessionWarning in every command, so the check is perfplat's own: the publication run reports it
whenever it publishes, and `publication_deadline` reports it at the deadline whether or not anything ran.
The alert sensor (alerts/sensors.py) alerts on a failed evaluation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dagster import (
    AssetCheckEvaluation,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    ConfigurableResource,
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
from perfplat_assets.common.service import Service
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets.publication.committing.journal import StoreFailed, first_published
from perfplat_assets.publication.deadline import CHECK_NAME, DEFAULT_DEADLINE, DeadlineStatus, due_month
from perfplat_assets.publication.history.carry_over import carry_over
from perfplat_assets.services.registry import service_called

IMPORT_TAG = "perfplat/imported_sha256"  # on an imported month's materialisation, for the UI's partitions
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
            "Non-blocking in Dagster's sense and in perfplat's: it withholds nothing; a failure (severity "
            "ERROR) is what perfplat's alert sensor alerts on. "
            f"{service.title}'s month that closed last was first published by a run (not imported) at or "
            f"before its deadline ({service.setting_prefix}PUBLICATION_DEADLINE), an hour before OPG's "
            "monthly automation copies it at 12:00 UTC on the 1st; a month published later fails, saying how "
            "late, and stays failed. Reported by every publication run and by the publication_deadline "
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

    def status(self, store: MetricsStore, now: datetime | None = None) -> DeadlineStatus:
        """The month due at the last deadline and when a run first published it, from the journal of
        `store` (a publication run's own publication is in it by the time it asks)."""
        deadline = self.last(now)
        month = due_month(deadline)
        try:
            published_at = first_published(store, service_called(self.service), month)
        except StoreFailed as error:
            return DeadlineStatus(month, deadline, None, unknown=str(error))
        return DeadlineStatus(month, deadline, published_at)


def valid_deadline(cron: str) -> bool:
    return is_valid_cron_string(cron)


def _said(status: DeadlineStatus) -> dict[str, Any]:
    return {
        "passed": status.published,
        "severity": AssetCheckSeverity.ERROR,
        "description": status.description,
        "metadata": {
            "month": str(status.month),
            "deadline": status.deadline.isoformat(),
            **({"published_at": status.published_at.isoformat()} if status.published_at else {}),
        },
    }


def check_result(status: DeadlineStatus) -> AssetCheckResult:
    """The check's result as the publication run reports it (on the run's own asset)."""
    return AssetCheckResult(check_name=CHECK_NAME, **_said(status))


def evaluation(service: str, status: DeadlineStatus) -> AssetCheckEvaluation:
    """The check's result as the sensor reports it (no run)."""
    return AssetCheckEvaluation(asset_key=publication_key(service), check_name=CHECK_NAME, **_said(status))


def build_deadline_sensor(
    deadlines: Mapping[str, PublicationDeadline], store: MetricsStore, interval_seconds: int = 60
) -> SensorDefinition:
    """Reports `published_by_deadline` once for each deadline of each service (`deadlines`, by its name)
    that passes (its cursor holds each service's last deadline reported), from the journal in `store`;
    RUNNING by default, as it only reads. A deadline whose journal cannot be read is tried again next tick
    rather than reported as missed."""
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
        "published by a run by then (the published_by_deadline check on its data_gov_uk_publication, read "
        "from the metrics store's publication journal); first, carries Dagster's record of months published "
        "before services were declared over to the service's keys.",
    )
    def publication_deadline(context: SensorEvaluationContext) -> SensorResult:
        reported = _cursor(context.cursor)
        if reported.get(CARRIED_OVER) != "done":  # once: months published before services were declared
            for service in services:
                for line in carry_over(context.instance, service, pipeline_names[service.name]):
                    context.log.info(f"carried over Dagster's record of {service}'s months: {line}")
        events, untold, now, moment = [], [], {CARRIED_OVER: "done"}, datetime.now(UTC)
        for service, deadline_resource in deadlines.items():
            deadline = deadline_resource.last(moment).isoformat()
            if reported.get(service) == deadline:
                now[service] = deadline
                continue
            status = deadline_resource.status(store, moment)
            if status.unknown is not None:  # told next tick, once the store answers
                context.log.warning(f"{service}: {status.description} It is tried again next tick.")
                untold.append(service)
                if service in reported:
                    now[service] = reported[service]
                continue
            now[service] = deadline
            context.log.info(f"{service}: {status.description}")
            events.append(evaluation(service, status))
        skip = None
        if untold and not events:
            skip = SkipReason(f"the metrics store could not be read for {', '.join(untold)} (see the log)")
        elif not events:
            skip = SkipReason("every service's last deadline is already reported")
        return SensorResult(asset_events=events, cursor=json.dumps(now, sort_keys=True), skip_reason=skip)

    return publication_deadline


def _cursor(text: str | None) -> dict[str, str]:
    """Each service's last deadline reported; a cursor of no form known (none yet) reports every one."""
    try:
        found = json.loads(text or "{}")
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
