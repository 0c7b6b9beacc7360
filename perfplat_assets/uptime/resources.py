"""The service's Route 53 health check, read from CloudWatch (its metrics live in us-east-1)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError, ReadTimeoutError
from pydantic import Field

from perfplat_assets.common.errors import SourceUnavailable, clause
from perfplat_assets.common.months import Month, contiguous
from perfplat_assets.common.network import server_error_status, unreachable_cause
from perfplat_assets.common.sources import SourceResource

SETTING = "PERFPLAT_UPTIME_HEALTH_CHECK_ID"
NAMESPACE, METRIC, DIMENSION = "AWS/Route53", "HealthCheckStatus", "HealthCheckId"
HOUR = 3600


class Route53HealthCheck(SourceResource):
    """`HealthCheckStatus` of one health check, hourly, through CloudWatch `GetMetricData`."""

    setting = SETTING
    health_check_id: str | None = Field(default=None, description="Route 53 health check id.")
    region: str = Field(default="us-east-1", description="Where Route 53 keeps its metrics.")
    endpoint_url: str | None = Field(default=None, description="CloudWatch endpoint override.")

    @property
    def embedded(self) -> bool:
        return False

    @property
    def sample_setting(self) -> str | None:
        """Without a health check there are no figures at all: the guard names the setting all the same."""
        return None if self.health_check_id else self.setting_name

    def describe(self) -> str:
        return f"Route 53 health check {self.health_check_id}, CloudWatch in {self.region}"

    @property
    def named(self) -> str:
        """The health check's data as a message about CloudWatch's answer names it, with its setting."""
        return f"CloudWatch's {METRIC} of Route 53 health check {self.health_check_id} ({SETTING})"

    def hourly_status(self, months: Sequence[Month]) -> list[tuple[datetime, object]]:
        """CloudWatch's hourly averages over the months, as it answered them (each hour's timestamp, and its
        value), in order: checked by `calculation.hourly_answer` before any is used."""
        ordered = contiguous(months)
        import boto3

        client = boto3.client("cloudwatch", region_name=self.region, endpoint_url=self.endpoint_url or None)
        query = {
            "Id": "status",
            "MetricStat": {
                "Metric": {
                    "Namespace": NAMESPACE,
                    "MetricName": METRIC,
                    "Dimensions": [{"Name": DIMENSION, "Value": self.health_check_id}],
                },
                "Period": HOUR,
                "Stat": "Average",
            },
            "ReturnData": True,
        }
        points: list[tuple[datetime, object]] = []
        arguments = {
            "MetricDataQueries": [query],
            "StartTime": ordered[0].start,
            "EndTime": ordered[-1].end,
            "ScanBy": "TimestampAscending",
        }
        try:
            while True:
                page = client.get_metric_data(**arguments)
                for result in page["MetricDataResults"]:
                    points += zip(result["Timestamps"], result["Values"], strict=True)
                if not page.get("NextToken"):
                    return points
                arguments["NextToken"] = page["NextToken"]
        except (BotoCoreError, ClientError) as error:
            raise self._unavailable(error, client.meta.endpoint_url) from None

    def _unavailable(self, error: BotoCoreError | ClientError, endpoint: str) -> SourceUnavailable:
        """What went wrong, told truly: CloudWatch never reached, CloudWatch failing (a later run may
        succeed), or CloudWatch refusing (a setting or permission to change)."""
        check = f"health check {self.health_check_id}"
        cause = unreachable_cause(error)
        if cause is not None:
            return SourceUnavailable(
                f"Cannot reach CloudWatch at {endpoint} (for {METRIC} of {check}): {clause(cause)}. Check "
                "the "
                "network, proxy or endpoint setting AWS_ENDPOINT_URL_CLOUDWATCH (or PERFPLAT_UPTIME_REGION, "
                f"now {self.region})."
            )
        if isinstance(error, ReadTimeoutError):
            return SourceUnavailable(
                f"CloudWatch at {endpoint} did not answer GetMetricData for {check} in time ({error}); "
                "re-run the month later."
            )
        if server_error_status(error):
            return SourceUnavailable(
                f"CloudWatch at {endpoint} answered GetMetricData for {check} with a server error "
                f"({error}); re-run the month later."
            )
        return SourceUnavailable(
            f"CloudWatch in {self.region} did not return {METRIC} for {check}: {clause(error)}. Check "
            f"{SETTING}, PERFPLAT_UPTIME_REGION and the credentials' cloudwatch:GetMetricData permission."
        )
