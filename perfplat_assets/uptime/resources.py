"""The service's Route 53 health check, read from CloudWatch (its metrics live in us-east-1)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import Field

from perfplat_assets.common.errors import SourceUnavailable
from perfplat_assets.common.months import Month, contiguous
from perfplat_assets.common.sources import SourceResource

SETTING = "PERFPLAT_UPTIME_HEALTH_CHECK_ID"
NAMESPACE, METRIC, DIMENSION = "AWS/Route53", "HealthCheckStatus", "HealthCheckId"
HOUR = 3600


class Route53HealthCheck(SourceResource):
    """`HealthCheckStatus` of one health check, hourly, through CloudWatch `GetMetricData`."""

    setting = SETTING
    health_check_id: str | None = Field(default=None, description="Route 53 health check id; unset: sample.")
    region: str = Field(default="us-east-1", description="Where Route 53 keeps its metrics.")
    endpoint_url: str | None = Field(default=None, description="CloudWatch endpoint override.")

    @property
    def embedded(self) -> bool:
        return not self.health_check_id

    def describe(self) -> str:
        if self.embedded:
            return f"embedded sample ({SETTING} unset)"
        return f"Route 53 health check {self.health_check_id}, CloudWatch in {self.region}"

    def hourly_status(self, months: Sequence[Month]) -> dict[datetime, float]:
        """Each hour's average status over the months (start of hour in UTC), hours without data absent."""
        ordered = contiguous(months)
        if self.embedded:
            from perfplat_assets.embedded.sample_data import sample_health_checks  # the sample, on demand

            return sample_health_checks(ordered)
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
        hourly: dict[datetime, float] = {}
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
                    for moment, value in zip(result["Timestamps"], result["Values"], strict=True):
                        hourly[_hour(moment)] = float(value)
                if not page.get("NextToken"):
                    return hourly
                arguments["NextToken"] = page["NextToken"]
        except (BotoCoreError, ClientError) as error:
            raise SourceUnavailable(
                f"CloudWatch in {self.region} did not return {METRIC} for health check "
                f"{self.health_check_id}: {error}. Check {SETTING}, PERFPLAT_UPTIME_REGION and the "
                "credentials' cloudwatch:GetMetricData permission."
            ) from None


def _hour(moment: datetime) -> datetime:
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.replace(minute=0, second=0, microsecond=0)
