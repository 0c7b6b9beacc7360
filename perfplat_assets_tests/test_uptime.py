"""Uptime from the service's Route 53 health check: a health check created on moto's server, its
`HealthCheckStatus` data put into CloudWatch there, read back by perfplat with the real boto3."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import boto3
import pandas as pd
import pytest

from perfplat_assets.common.months import Month
from perfplat_assets.configuration import build_resources
from perfplat_assets.metrics_store.tables import service_table
from perfplat_assets.uptime.calculation import hour_starts, hourly_answer, hours_in, uptime
from perfplat_assets.uptime.measure import table as uptime_table_template
from perfplat_assets.uptime.resources import Route53HealthCheck
from perfplat_assets_tests.support.run_results import materialize_range

uptime_table = service_table("make_an_lpa", uptime_table_template)  # Make an LPA's own copy

AUGUST, SEPTEMBER, OCTOBER = Month.parse("2026-08"), Month.parse("2026-09"), Month.parse("2026-10")


def test_london_months_have_the_hours_the_clocks_give_them():
    assert hours_in(OCTOBER) == 745 and hours_in(Month.parse("2026-03")) == 743 and hours_in(AUGUST) == 744
    assert hour_starts(OCTOBER)[0] == datetime(2026, 9, 30, 23, tzinfo=UTC)


def test_always_healthy_is_100_and_too_little_data_is_left_out_never_100():
    hours = hour_starts(SEPTEMBER)
    assert uptime(SEPTEMBER, dict.fromkeys(hours, 1.0), "here").uptime_percent == 100
    sparse = uptime(SEPTEMBER, dict.fromkeys(hours[:600], 1.0), "here")
    assert sparse.uptime_percent is None
    assert "only 600 of the month's 720 hours have health-check data in here" in (
        sparse.not_available_reason or ""
    )


def test_uptime_rounds_half_up_to_two_decimals():
    hours = hour_starts(SEPTEMBER)
    hourly = dict.fromkeys(hours, 1.0) | {hours[0]: 0.964}  # 100 * (719 + 0.964) / 720 = 99.995
    assert uptime(SEPTEMBER, hourly, "here").uptime_percent == 100.0
    hourly[hours[1]] = 0.99  # 100 * (718 + 1.954) / 720 = 99.99361...
    assert uptime(SEPTEMBER, hourly, "here").uptime_percent == 99.99


@pytest.fixture
def health_check(aws_endpoint, perfplat_env, monkeypatch) -> str:
    """A Route 53 health check like Make an LPA's, on moto's server, with perfplat pointed at it."""
    route53 = boto3.client("route53", endpoint_url=aws_endpoint, region_name="us-east-1")
    created = route53.create_health_check(
        CallerReference="perfplat-test",
        HealthCheckConfig={
            "Type": "HTTPS",
            "FullyQualifiedDomainName": "www.lastingpowerofattorney.service.gov.uk",
            "ResourcePath": "/health-check/service",
            "RequestInterval": 30,
            "FailureThreshold": 1,
            "Regions": ["us-east-1", "eu-west-1", "us-west-2"],
        },
    )
    monkeypatch.setenv("PERFPLAT_UPTIME_HEALTH_CHECK_ID", created["HealthCheck"]["Id"])
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH", aws_endpoint)
    return created["HealthCheck"]["Id"]


def _put_status(aws_endpoint: str, health_check_id: str, points: dict[datetime, float]) -> None:
    cloudwatch = boto3.client("cloudwatch", endpoint_url=aws_endpoint, region_name="us-east-1")
    data = [
        {
            "MetricName": "HealthCheckStatus",
            "Dimensions": [{"Name": "HealthCheckId", "Value": health_check_id}],
            "Timestamp": moment,
            "Value": value,
        }
        for moment, value in sorted(points.items())
    ]
    for start in range(0, len(data), 500):
        cloudwatch.put_metric_data(Namespace="AWS/Route53", MetricData=data[start : start + 500])


def test_uptime_from_cloudwatch_on_moto_and_a_month_without_data_left_out(
    aws_endpoint, health_check, perfplat_env
):
    hours = hour_starts(OCTOBER)
    points = dict.fromkeys(hours, 1.0) | dict.fromkeys(hours[100:103], 0.0)  # three hours down
    points[hours[200]] = 1.0
    points[hours[200] + timedelta(minutes=30)] = 0.0  # an hour half down: its average is 0.5
    points |= dict.fromkeys(hour_starts(AUGUST)[:600], 1.0)  # August: too few hours recorded
    _put_status(aws_endpoint, health_check, points)

    result = materialize_range(AUGUST, OCTOBER)
    assert result.success
    stored = build_resources()["metrics_store"].read(uptime_table).set_index("month")
    # By hand: (745 - 3 - 0.5) healthy hours of 745 = 99.5302...%
    assert stored.loc[OCTOBER.key, "uptime_percent"] == 99.53
    assert stored.loc[OCTOBER.key, "hours_with_data"] == 745
    for month, recorded in ((SEPTEMBER, 0), (AUGUST, 600)):
        assert pd.isna(stored.loc[month.key, "uptime_percent"])
        reason = stored.loc[month.key, "not_available_reason"]
        assert f"only {recorded} of the month's {hours_in(month)} hours" in reason
        assert health_check in reason

    published = json.loads(
        (perfplat_env / "publish" / "make_a_lasting_power_of_attorney_service" / "data.json").read_text(
            encoding="utf-8"
        )
    )
    uptimes = {r["_timestamp"][:7]: r["count"] for r in published if r["dataType"] == "uptime-percent"}
    assert uptimes == {"2026-10": 99.53}, "a month without enough data is left out, never published as 100"
    dataset = result.asset_materializations_for_node("make_an_lpa__performance_dataset")[0].metadata
    assert "only 0 of the month's 720 hours" in dataset["left out 2026-09 uptime"].value


def test_a_health_value_outside_0_to_1_withholds_its_months_uptime(aws_endpoint, health_check):
    hours = hour_starts(OCTOBER)
    points = dict.fromkeys(hours, 1.0) | {hours[5]: 1.5} | dict.fromkeys(hour_starts(SEPTEMBER), 1.0)
    _put_status(aws_endpoint, health_check, points)
    source = Route53HealthCheck(health_check_id=health_check, endpoint_url=aws_endpoint)

    answer = hourly_answer(source.hourly_status([SEPTEMBER, OCTOBER]), [SEPTEMBER, OCTOBER])

    assert set(answer) == {SEPTEMBER}, "nothing of a wrong month is used"
    # October's sixth hour: it began at 23:00 UTC on 30 September (BST), so the sixth at 04:00 UTC.
    assert answer.reasons(source.named, "uptime") == {
        OCTOBER: f"CloudWatch's HealthCheckStatus of Route 53 health check {health_check} "
        "(PERFPLAT_UPTIME_HEALTH_CHECK_ID): 2026-10 has the average 1.5 for 2026-10-01 04:00 UTC, and an "
        "hour's average must be a number from 0 to 1; 2026-10's uptime is withheld"
    }
    assert uptime(SEPTEMBER, answer[SEPTEMBER], "here").uptime_percent == 100
