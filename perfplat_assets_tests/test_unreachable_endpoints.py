"""An endpoint that cannot be reached is told apart from an answer the service gave (issue 19, point 4).

For GA4 (gRPC and REST), CloudWatch, S3, SQS and CKAN: a name that cannot resolve, a port where nothing
listens, TLS with a certificate the client does not trust, and a proxy that refuses each give a message that
names the endpoint, the true cause and the setting to check, and says nothing of an answer, a server error or
re-running later; a real server error from the service still reads as the service's answer.

Every fault is real and on this machine: `perfplat-unresolvable.invalid` fails in the resolver (`.invalid`
is reserved, and the module checks the resolver says so at once rather than asking the network), a port is
held bound without listening (the kernel refuses connections to it), a TLS server presents a self-signed
certificate, and a proxy on loopback answers every CONNECT with 403. Server errors come from the GA4
emulator, or from a hop in front of moto's server (or the real CKAN) answering 500. Proxy variables are
cleared so that the name reaches the resolver; retries are short through each client's own settings.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import grpc
import pytest
from dagster import DagsterInstance, SensorResult, build_sensor_context
from dagster_aws.s3 import S3Resource
from google.analytics.data_v1beta import BetaAnalyticsDataClient
from google.analytics.data_v1beta.services.beta_analytics_data.transports.grpc import (
    BetaAnalyticsDataGrpcTransport,
)
from google.auth.credentials import AnonymousCredentials

from perfplat_assets.common.errors import SourceUnavailable
from perfplat_assets.common.months import LONDON, Month
from perfplat_assets.common.network import unreachable_cause
from perfplat_assets.completion_rate.queries.data_api import RetrySettings, Source, fetch_completion_report
from perfplat_assets.completion_rate.resources.data_api import GoogleAnalytics
from perfplat_assets.configuration import published_services
from perfplat_assets.publication.committing.plan import RevisionStamp, StoreSnapshot, plan_publication
from perfplat_assets.publication.committing.target import HeldFiles, PublicationFailed
from perfplat_assets.publication.targets.ckan import CkanCatalogue
from perfplat_assets.publication.targets.s3 import S3Publication
from perfplat_assets.queue import cli
from perfplat_assets.queue.sensor import build_queue_sensor
from perfplat_assets.services.make_an_lpa.service import MAKE_AN_LPA
from perfplat_assets.uptime.resources import Route53HealthCheck
from perfplat_assets_tests.support.alerts import NO_ALERT_CHANNELS
from perfplat_assets_tests.support.aws import BUCKET, PREFIX, REGION, sqs_queue
from perfplat_assets_tests.support.faults import FaultyHop, Reply
from perfplat_assets_tests.support.ga4_faults import FaultyGA4Emulator
from perfplat_assets_tests.support.keys import private_key, self_signed_for_loopback, service_account_info
from perfplat_sample.sample_data import SampleSession

UNRESOLVABLE = "perfplat-unresolvable.invalid"
PROPERTY = "123456"
MAY = Month.parse("2025-05")
SESSIONS = [SampleSession("s1", datetime(2025, 5, 10, 12, tzinfo=LONDON), ("/lpa/type",), None)]
QUICK_RETRIES = {"retry_initial_delay": 0.01, "retry_deadline": 10.0, "request_timeout": 5.0}
SECRET_TOKEN = "perfplat-test-ckan-token-never-shown"
# What a message about an endpoint never reached must not say: it is not the service's answer, and a
# later run alone does not fix it.
ANSWER_WORDS = ("answered", "server error", "re-run", "later", "quota")
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


# the faults


@pytest.fixture(scope="module", autouse=True)
def _resolver_answers_locally() -> None:
    """The name must fail in the resolver, at once: a resolver that finds it (a wildcard) would make these
    tests meaningless, and one that asks the network would make them slow."""
    started = time.monotonic()
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo(UNRESOLVABLE, 443)
    assert time.monotonic() - started < 5, "the resolver asked the network for a .invalid name"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*PROXY_VARIABLES, "grpc_proxy", "GRPC_PROXY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A loopback port held bound but not listening: every connection to it is refused, and no other
    process can start listening there during the test."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield int(held.getsockname()[1])


@pytest.fixture(scope="module")
def untrusted_certificate() -> tuple[bytes, bytes]:
    """A self-signed certificate for 127.0.0.1 that no client here trusts: (private key PEM, cert PEM)."""
    return self_signed_for_loopback()


class _Server(ThreadingHTTPServer):
    daemon_threads = True


@contextmanager
def _serve(handler: type[BaseHTTPRequestHandler], wrap: ssl.SSLContext | None = None) -> Iterator[str]:
    server = _Server(("127.0.0.1", 0), handler)
    if wrap is not None:
        server.socket = wrap.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class _Quiet(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def untrusted_tls(untrusted_certificate: tuple[bytes, bytes], tmp_path: Path) -> Iterator[str]:
    """`127.0.0.1:port` of an HTTPS server whose certificate the client does not trust."""
    key, certificate = untrusted_certificate
    (tmp_path / "key.pem").write_bytes(key)
    (tmp_path / "cert.pem").write_bytes(certificate)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")

    class Answering(_Quiet):
        def do_GET(self) -> None:
            self.send_error(200)

        do_POST = do_PUT = do_GET

    with _serve(Answering, context) as address:
        yield address


@pytest.fixture
def refusing_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An HTTP proxy on loopback, set in the environment for every client, that refuses every tunnel."""

    class Refusing(_Quiet):
        def do_CONNECT(self) -> None:
            self.send_error(403)

        do_GET = do_POST = do_CONNECT

    with _serve(Refusing) as address:
        for name in (*PROXY_VARIABLES, "grpc_proxy"):
            monkeypatch.setenv(name, f"http://{address}")
        monkeypatch.setenv("NO_PROXY", "")
        monkeypatch.setenv("no_proxy", "")
        yield address


def assert_not_an_answer(message: str) -> None:
    for words in ANSWER_WORDS:
        assert words not in message.lower(), f"{words!r} in: {message}"


# GA4


@pytest.fixture
def service_account(tmp_path: Path, closed_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Production's credentials: a service account key (GAPIC signs its own JWT with it, so no token is
    fetched; its token_uri is a closed loopback port all the same)."""
    info = service_account_info(private_key(), f"http://127.0.0.1:{closed_port}/token")
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(info))
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    monkeypatch.setenv("GOOGLE_API_USE_CLIENT_CERTIFICATE", "false")


def _ga4_failure(endpoint: str) -> str:
    """Production's gRPC path (`GoogleAnalytics` with a property and an endpoint, as configuration builds
    it), as the completion_rate asset calls it."""
    ga4 = GoogleAnalytics(property_id=PROPERTY, api_endpoint=endpoint, **QUICK_RETRIES)
    with pytest.raises(SourceUnavailable) as raised:
        ga4.completion_report([MAY])
    return str(raised.value)


def _assert_ga4_unreachable(message: str, endpoint: str, cause: str) -> None:
    assert message.startswith(f"Cannot reach GA4 property {PROPERTY} at {endpoint} (tried 4 times): ")
    assert cause in message
    assert "Check PERFPLAT_GA4_API_ENDPOINT and the network or proxy" in message
    assert_not_an_answer(message)


def test_grpc_a_name_that_cannot_resolve_is_not_a_server_error(service_account):
    endpoint = f"{UNRESOLVABLE}:443"

    message = _ga4_failure(endpoint)

    _assert_ga4_unreachable(message, endpoint, "the name cannot be resolved (DNS)")


def test_grpc_nothing_listening_is_a_refused_connection(service_account, closed_port):
    endpoint = f"127.0.0.1:{closed_port}"

    message = _ga4_failure(endpoint)

    _assert_ga4_unreachable(message, endpoint, f"the connection to {endpoint} was refused")


def test_grpc_an_untrusted_certificate_is_a_tls_failure(service_account, untrusted_certificate):
    with FaultyGA4Emulator(lambda month: SESSIONS, grpc_tls=untrusted_certificate) as emulator:
        endpoint = emulator.grpc_endpoint
        message = _ga4_failure(endpoint)
        served = emulator.requests_served

    _assert_ga4_unreachable(message, endpoint, "TLS failed (CERTIFICATE_VERIFY_FAILED")
    assert served == 0, "no request got past the handshake"


def test_grpc_a_proxy_that_refuses_is_named(service_account, refusing_proxy):
    endpoint = f"{UNRESOLVABLE}:443"

    message = _ga4_failure(endpoint)

    _assert_ga4_unreachable(
        message, endpoint, f"the proxy at {refusing_proxy} refused the connection (HTTP proxy returned"
    )


def test_grpc_a_real_503_is_still_ga4s_answer():
    """The other side: the same UNAVAILABLE status, sent by a server, is a server error GA4 answered."""
    with FaultyGA4Emulator(lambda month: SESSIONS, grpc=True) as emulator:
        emulator.fail_next(503, times=10, message="The service is currently unavailable.")
        channel = grpc.insecure_channel(emulator.grpc_endpoint)
        client = BetaAnalyticsDataClient(transport=BetaAnalyticsDataGrpcTransport(channel=channel))
        source = Source(f"GA4 property {PROPERTY} at {emulator.grpc_endpoint}", PROPERTY)
        with pytest.raises(SourceUnavailable) as raised:
            fetch_completion_report(client, PROPERTY, [MAY], source=source, retry=_retry())
        channel.close()

    message = str(raised.value)
    assert message.startswith(f"{source.described} answered runReport with a server error 4 times")
    assert '(503 UNAVAILABLE): "The service is currently unavailable."' in message
    assert "re-run the month later" in message
    assert unreachable_cause(raised.value.__cause__) is None


def _retry() -> RetrySettings:
    return RetrySettings(initial_delay=0.01, deadline=10.0, request_timeout=5.0)


def test_rest_nothing_listening_is_a_refused_connection(closed_port):
    endpoint = f"http://127.0.0.1:{closed_port}"

    message = _ga4_failure(endpoint)

    _assert_ga4_unreachable(message, endpoint, f"the connection to 127.0.0.1:{closed_port} was refused")


def test_rest_a_name_that_cannot_resolve_is_not_a_server_error():
    # Plain http is allowed only on loopback, so the resource never builds this client: the REST client is
    # given to the report function itself, as the resource gives it the emulator's.
    endpoint = f"http://{UNRESOLVABLE}:8080"
    client = BetaAnalyticsDataClient(
        credentials=AnonymousCredentials(), transport="rest", client_options={"api_endpoint": endpoint}
    )
    source = Source(f"GA4 property {PROPERTY} at {endpoint}", PROPERTY)

    with pytest.raises(SourceUnavailable) as raised:
        fetch_completion_report(client, PROPERTY, [MAY], source=source, retry=_retry())

    _assert_ga4_unreachable(str(raised.value), endpoint, "the name cannot be resolved (DNS)")


def test_rest_a_real_503_is_still_ga4s_answer():
    with FaultyGA4Emulator(lambda month: SESSIONS) as emulator:
        emulator.fail_next(503, times=10, message="The service is currently unavailable.")
        endpoint = emulator.endpoint
        message = _ga4_failure(endpoint)

    assert message.startswith(
        f"GA4 property {PROPERTY} at {endpoint} answered runReport with a server error 4 times"
    )
    assert "re-run the month later" in message and "Cannot reach" not in message


# CloudWatch


@pytest.fixture
def aws_quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials (botocore signs before it connects) and botocore's own short retries."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")


def _uptime_failure(endpoint: str) -> str:
    health_check = Route53HealthCheck(health_check_id="abc-123", endpoint_url=endpoint)
    with pytest.raises(SourceUnavailable) as raised:
        health_check.hourly_status([MAY])  # as the uptime asset asks
    return str(raised.value)


@pytest.mark.parametrize("fault", ["unresolvable", "refused"])
def test_cloudwatch_unreachable_names_the_endpoint_and_the_setting(aws_quick_retries, closed_port, fault):
    endpoint = f"https://{UNRESOLVABLE}" if fault == "unresolvable" else f"http://127.0.0.1:{closed_port}"
    cause = {
        "unresolvable": "the name cannot be resolved (DNS)",
        "refused": f"the connection to 127.0.0.1:{closed_port} was refused",
    }[fault]

    message = _uptime_failure(endpoint)

    assert message.startswith(f"Cannot reach CloudWatch at {endpoint} (for HealthCheckStatus of health ")
    assert cause in message
    assert "Check the network, proxy or endpoint setting AWS_ENDPOINT_URL_CLOUDWATCH" in message
    assert "cloudwatch:GetMetricData permission" not in message
    assert_not_an_answer(message)


def test_cloudwatch_a_server_error_is_cloudwatchs_answer(aws_endpoint, aws_quick_retries):
    with FaultyHop(aws_endpoint) as hop:
        hop.rule = lambda method, path: Reply(500, b"", "application/cbor")
        message = _uptime_failure(hop.url)
        asked = len(hop.seen)

    assert message.startswith(f"CloudWatch at {hop.url} answered GetMetricData for health check abc-123 ")
    assert "with a server error" in message and "re-run the month later" in message
    assert asked == 2, "botocore retried the server error as configured"


# S3


def _plan():
    """A publication of one month, as publish.py plans it from the store."""
    snapshot = StoreSnapshot(
        published={}, published_at={}, revision_history=[], methods={}, service=MAKE_AN_LPA
    )
    return plan_publication(
        snapshot,
        [MAY],
        {(MAY, "digital-take-up"): 85.0},
        stamp=RevisionStamp("test", datetime.now(UTC)),
        csv_url="https://example.org/data.csv",
    )


def _s3(endpoint: str) -> S3Publication:
    return S3Publication(
        s3=S3Resource(region_name=REGION, endpoint_url=endpoint, max_attempts=2),
        bucket=BUCKET,
        prefix=PREFIX,
        service=MAKE_AN_LPA.name,
    )


@pytest.mark.parametrize("fault", ["unresolvable", "refused", "untrusted TLS"])
def test_s3_unreachable_names_the_endpoint_and_the_setting(
    aws_quick_retries, closed_port, untrusted_tls, fault
):
    endpoint, cause = {
        "unresolvable": (f"https://{UNRESOLVABLE}", "the name cannot be resolved (DNS)"),
        "refused": (
            f"http://127.0.0.1:{closed_port}",
            f"the connection to 127.0.0.1:{closed_port} was refused",
        ),
        "untrusted TLS": (f"https://{untrusted_tls}", "TLS failed (CERTIFICATE_VERIFY_FAILED"),
    }[fault]
    target = _s3(endpoint)

    with pytest.raises(PublicationFailed) as raised:
        target.read_current(_plan())  # what publish.py asks every target first

    message = str(raised.value)
    assert message.startswith(f"S3 bucket {BUCKET}: reading {PREFIX}")
    assert f"failed: cannot reach S3 at {endpoint}: {cause}" in message
    assert message.endswith("check the network, proxy or endpoint setting AWS_ENDPOINT_URL_S3")
    assert_not_an_answer(message)


def test_s3_a_write_to_an_unreachable_endpoint_says_so(aws_quick_retries, closed_port):
    plan = _plan()
    endpoint = f"http://127.0.0.1:{closed_port}"

    with pytest.raises(PublicationFailed) as raised:
        _s3(endpoint).apply(plan, HeldFiles({}))

    assert f"writing {PREFIX}" in str(raised.value)
    assert f"cannot reach S3 at {endpoint}: the connection to 127.0.0.1:{closed_port}" in str(raised.value)


def test_s3_a_server_error_is_s3s_answer(aws_endpoint, aws_quick_retries):
    internal = (
        b"<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>"
    )
    with FaultyHop(aws_endpoint) as hop:
        hop.rule = lambda method, path: Reply(500, internal)
        with pytest.raises(PublicationFailed) as raised:
            _s3(hop.url).read_current(_plan())

    message = str(raised.value)
    assert "InternalError" in message and "We encountered an internal error." in message
    assert "cannot reach" not in message.lower()


# SQS


def _sensor_skip(endpoint: str, queue_url: str) -> str:
    """One tick of the queue sensor, as Dagster evaluates it."""
    sensor = build_queue_sensor(published_services(), running=True, interval_seconds=30)
    with build_sensor_context(
        instance=DagsterInstance.ephemeral(),
        resources={"sqs_queue": sqs_queue(endpoint, queue_url, None), "alerting": NO_ALERT_CHANNELS},
    ) as context:
        result = sensor(context)
    assert isinstance(result, SensorResult) and not result.run_requests
    return result.skip_reason.skip_message


@pytest.mark.parametrize("fault", ["unresolvable", "refused"])
def test_sqs_sensor_unreachable_names_the_endpoint_and_the_setting(closed_port, fault):
    endpoint, cause = {
        "unresolvable": (f"https://{UNRESOLVABLE}", "the name cannot be resolved (DNS)"),
        "refused": (
            f"http://127.0.0.1:{closed_port}",
            f"the connection to 127.0.0.1:{closed_port} was refused",
        ),
    }[fault]
    queue_url = f"{endpoint}/123456789012/perfplat-queue.fifo"

    message = _sensor_skip(endpoint, queue_url)

    assert message.startswith(f"Cannot reach queue {queue_url} at {endpoint}: {cause}. ")
    assert "Check the network, proxy or endpoint setting AWS_ENDPOINT_URL_SQS" in message
    assert "No message without a run was deleted" in message
    assert_not_an_answer(message)


def test_sqs_sensor_a_server_error_is_sqs_answer(aws_endpoint):
    with FaultyHop(aws_endpoint) as hop:
        hop.rule = lambda method, path: Reply(500, b"", "application/x-amz-json-1.0")
        queue_url = f"{hop.url}/123456789012/perfplat-queue.fifo"
        message = _sensor_skip(hop.url, queue_url)

    assert message.startswith(f"SQS answered for queue {queue_url} at {hop.url} with an error: ")
    assert "Cannot reach" not in message


@pytest.mark.parametrize("fault", ["unresolvable", "refused", "proxy"])
def test_queuecli_unreachable_names_the_endpoint_and_the_setting(
    capsys, monkeypatch, closed_port, fault, request
):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    endpoint = f"http://127.0.0.1:{closed_port}" if fault == "refused" else f"https://{UNRESOLVABLE}"
    if fault == "proxy":
        proxy = request.getfixturevalue("refusing_proxy")
        cause = f"the proxy http://{proxy} refused the connection (Tunnel connection failed: 403 Forbidden)"
    elif fault == "refused":
        cause = f"the connection to 127.0.0.1:{closed_port} was refused"
    else:
        cause = "the name cannot be resolved (DNS)"

    assert cli.main(["perfplat-queue.fifo", "send", "--endpoint-url", endpoint]) == 2

    error = capsys.readouterr().err
    assert error.startswith(f"queuecli: cannot reach SQS at {endpoint}: {cause}; ")
    assert "the network, proxy or endpoint setting (--endpoint-url or AWS_ENDPOINT_URL_SQS)" in error
    assert ("make localstack" in error) == (fault == "refused"), "the local stack only for this machine"
    assert_not_an_answer(error)


def test_queuecli_a_server_error_is_sqs_answer(capsys, aws_endpoint):
    with FaultyHop(aws_endpoint) as hop:
        hop.rule = lambda method, path: Reply(500, b"", "application/x-amz-json-1.0")
        assert cli.main(["perfplat-queue.fifo", "list", "--endpoint-url", hop.url]) == 2

    error = capsys.readouterr().err
    assert error.startswith(f"queuecli: SQS at {hop.url} answered with a server error: ")
    assert "cannot reach" not in error


# CKAN


def _ckan(url: str, dataset: str = "make-a-lasting-power-of-attorney-service-performance") -> CkanCatalogue:
    return CkanCatalogue(service=MAKE_AN_LPA.name, url=url, api_token=SECRET_TOKEN, dataset=dataset)


@pytest.mark.parametrize("fault", ["unresolvable", "refused", "untrusted TLS", "proxy"])
def test_ckan_unreachable_names_the_endpoint_and_the_setting(closed_port, untrusted_tls, fault, request):
    url, cause = {
        "unresolvable": (f"https://{UNRESOLVABLE}", "the name cannot be resolved (DNS)"),
        "refused": (
            f"http://127.0.0.1:{closed_port}",
            f"the connection to 127.0.0.1:{closed_port} was refused",
        ),
        "untrusted TLS": (f"https://{untrusted_tls}", "TLS failed (CERTIFICATE_VERIFY_FAILED"),
        "proxy": (
            f"https://{UNRESOLVABLE}",
            "the proxy refused the connection (Tunnel connection failed: 403",
        ),
    }[fault]
    if fault == "proxy":
        request.getfixturevalue("refusing_proxy")

    with pytest.raises(PublicationFailed) as raised:
        _ckan(url).read_current(_plan())  # what publish.py asks every target first

    message = str(raised.value)
    assert message.startswith(f"CKAN package_show: cannot reach {url}: {cause}")
    assert message.endswith("check the network, proxy or endpoint setting PERFPLAT_CKAN_URL")
    assert SECRET_TOKEN not in message
    assert_not_an_answer(message)


def test_ckan_a_server_error_is_ckans_answer(ckan_site):
    with FaultyHop(ckan_site.url) as hop:
        body = b'{"success": false, "error": {"message": "Internal Server Error"}}'
        hop.rule = lambda method, path: (
            Reply(500, body, "application/json") if "package_show" in path else None
        )
        with pytest.raises(PublicationFailed) as raised:
            _ckan(hop.url, ckan_site.dataset).read_current(_plan())

    message = str(raised.value)
    assert message == f"CKAN package_show on {hop.url} failed: Internal Server Error"
