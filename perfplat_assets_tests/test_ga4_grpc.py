"""Production's GA4 path, over gRPC with TLS and a service account, against the emulator on loopback.

In production `GoogleAnalytics` builds `BetaAnalyticsDataClient(client_options={"api_endpoint": ...})`:
Application Default Credentials and the default gRPC transport. These tests run exactly that branch of
`completion_rate/resources/data_api.py`, with nothing standing in for Google's code:

- the emulator serves the Data API over gRPC with TLS, with a certificate for IP 127.0.0.1 made here;
  gRPC trusts it through `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH`;
- `GOOGLE_APPLICATION_CREDENTIALS` is a service account key made here. GAPIC transports sign their own
  JWT for a service account (self-signed JWT access), so no token endpoint is called: the emulator
  checks the bearer token's signature against the key, and a tripwire server stands in for every other
  address a credential or a proxy could send to (the key's token_uri, the metadata server, the proxies),
  which must see nothing.

gRPC reads `GRPC_DEFAULT_SSL_ROOTS_FILE_PATH` once per process, when it first needs root certificates,
and Dagster has started gRPC in this process long before a test runs; so the production code runs in a
child process (`python -c`), with its environment set from the start, while the emulator and the tripwire
run here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from google.auth import jwt

from perfplat_assets.common.months import LONDON
from perfplat_assets_tests.support.ga4_faults import FaultyGA4Emulator
from perfplat_assets_tests.support.keys import (
    SERVICE_ACCOUNT,
    private_key,
    self_signed_for_loopback,
    service_account_info,
)
from perfplat_sample.sample_data import SampleSession

PROPERTY = "123456"
MAY = datetime(2025, 5, 10, 12, tzinfo=LONDON)
SESSIONS = [
    SampleSession("s1", MAY, ("/lpa/type", "/lpa/1/applicant"), None),
    SampleSession("s2", MAY, ("/user/dashboard/create",), None),
]
GA4_PERMISSION_DENIED = (
    "User does not have sufficient permissions for this property. To learn more about Property ID, see "
    "https://developers.google.com/analytics/devguides/reporting/data/v1/property-id."
)

# The child: production's resource, as configuration.py builds it, plus short retry settings.
CHILD = """
import json, sys
from perfplat_assets.common.errors import SourceUnavailable
from perfplat_assets.common.months import Month
from perfplat_assets.completion_rate.resources.data_api import GoogleAnalytics

settings = json.loads(sys.argv[1])
ga4 = GoogleAnalytics(**settings)
try:
    report = ga4.completion_report([Month.parse("2025-05")])
except SourceUnavailable as error:
    print(json.dumps({"error": str(error)}))
else:
    counts = report.sessions[Month.parse("2025-05")]
    print(json.dumps({
        "sessions": [counts.started, counts.completed],
        "requests": report.requests,
        "quota": report.quota.as_metadata(),
        "time_zone": report.flags.time_zone,
    }))
"""


class _Tripwire(ThreadingHTTPServer):
    """Records every request it gets, proxy CONNECTs included, and answers 503."""

    daemon_threads = True

    def __init__(self) -> None:
        self.seen: list[str] = []
        tripwire = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                tripwire.seen.append(f"{self.command} {self.path}")
                self.send_error(503)

            do_GET = do_POST = do_CONNECT = do_PUT = _record

            def log_message(self, format: str, *args: Any) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture(scope="module")
def tripwire() -> Iterator[_Tripwire]:
    server = _Tripwire()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes, Path]:
    """A self-signed certificate for IP 127.0.0.1: (private key PEM, certificate PEM, its file)."""
    key_pem, certificate_pem = self_signed_for_loopback()
    path = tmp_path_factory.mktemp("tls") / "roots.pem"
    path.write_bytes(certificate_pem)
    return key_pem, certificate_pem, path


@pytest.fixture(scope="module")
def service_account(tmp_path_factory: pytest.TempPathFactory, tripwire: _Tripwire) -> tuple[Path, bytes]:
    """A service account key file whose token_uri is the tripwire: (the file, the public key PEM)."""
    key = private_key()
    info = service_account_info(key, f"{tripwire.url}/token")
    path = tmp_path_factory.mktemp("credentials") / "service-account.json"
    path.write_text(json.dumps(info))
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return path, public


@pytest.fixture
def emulator(tls: tuple[bytes, bytes, Path]) -> Iterator[FaultyGA4Emulator]:
    key, certificate, _ = tls
    with FaultyGA4Emulator(lambda month: SESSIONS, grpc_tls=(key, certificate)) as running:
        yield running


def _production(
    emulator: FaultyGA4Emulator,
    tls: tuple[bytes, bytes, Path],
    service_account: tuple[Path, bytes],
    tripwire: _Tripwire,
    endpoint: str | None = None,
    **settings: object,
) -> dict[str, Any]:
    """Run production's completion report in a child process against the emulator's gRPC endpoint."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.lower().endswith("_proxy") and not key.startswith(("GOOGLE_", "GRPC_", "GCE_"))
    }
    environment |= {
        "GOOGLE_APPLICATION_CREDENTIALS": str(service_account[0]),
        "GRPC_DEFAULT_SSL_ROOTS_FILE_PATH": str(tls[2]),
        "GOOGLE_API_USE_CLIENT_CERTIFICATE": "false",
        # Anything meant for elsewhere lands on the tripwire: proxies, the metadata server.
        **{name: tripwire.url for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")},
        "grpc_proxy": tripwire.url,
        "NO_PROXY": "127.0.0.1",
        "no_proxy": "127.0.0.1",
        "GCE_METADATA_HOST": tripwire.url.removeprefix("http://"),
        "GCE_METADATA_IP": tripwire.url.removeprefix("http://"),
    }
    resource = {
        "property_id": PROPERTY,
        "api_endpoint": endpoint or emulator.grpc_endpoint,
        "retry_initial_delay": 0.05,
        "retry_deadline": 5.0,
        "request_timeout": 5.0,
        **settings,
    }
    finished = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(resource)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    return json.loads(finished.stdout.strip().splitlines()[-1])


def test_production_grpc_path_with_a_service_account_stays_on_loopback(
    emulator, tls, service_account, tripwire
):
    answer = _production(emulator, tls, service_account, tripwire)

    assert answer == {
        "sessions": [2, 1],
        "requests": 1,
        "quota": {
            "ga4_tokens_per_day_consumed": 10,
            "ga4_tokens_per_day_remaining": 199_990,
            "ga4_tokens_per_hour_consumed": 10,
            "ga4_tokens_per_hour_remaining": 39_990,
        },
        "time_zone": "Europe/London",
    }
    # The request came over gRPC, with the order and the quota asked for.
    [request] = emulator.requests
    assert request.property == f"properties/{PROPERTY}" and request.return_property_quota
    assert [o.dimension.dimension_name for o in request.order_bys] == ["yearMonth"]
    # Signed by the service account's own key (self-signed JWT), not a token fetched from anywhere.
    [metadata] = emulator.grpc_metadata
    scheme, token = str(metadata["authorization"]).split(" ", 1)
    claims = jwt.decode(token, certs=service_account[1].decode(), verify=True)
    assert scheme == "Bearer" and claims["iss"] == claims["sub"] == SERVICE_ACCOUNT
    assert claims["aud"] == "https://analyticsdata.googleapis.com/"  # the API it is for, by audience
    assert tripwire.seen == [], "nothing may leave loopback, nor fetch a token"


def test_grpc_resource_exhausted_is_retried_until_the_deadline(emulator, tls, service_account, tripwire):
    emulator.fail_next(429, times=10_000, message="Exhausted property tokens per hour quota.")

    answer = _production(emulator, tls, service_account, tripwire, retry_deadline=1.0)

    assert "quota is used up" in answer["error"]
    assert '(429 RESOURCE_EXHAUSTED): "Exhausted property tokens per hour quota."' in answer["error"]
    assert f"GA4 property {PROPERTY} at {emulator.grpc_endpoint}" in answer["error"]
    assert emulator.requests_served > 2


def test_grpc_unavailable_is_retried_three_times(emulator, tls, service_account, tripwire):
    emulator.fail_next(503, times=10, message="The service is currently unavailable.")

    answer = _production(emulator, tls, service_account, tripwire)

    assert emulator.requests_served == 4
    assert "answered runReport with a server error 4 times" in answer["error"]
    assert '(503 UNAVAILABLE): "The service is currently unavailable."' in answer["error"]
    assert "at most 3 times" in answer["error"] and "10 server errors" in answer["error"]


def test_grpc_permission_denied_says_which_role_on_which_property(emulator, tls, service_account, tripwire):
    emulator.fail_next(403, message=GA4_PERMISSION_DENIED)

    answer = _production(emulator, tls, service_account, tripwire)

    assert emulator.requests_served == 1, "a refusal is not retried"
    assert f'(403 PERMISSION_DENIED): "{GA4_PERMISSION_DENIED}"' in answer["error"]
    assert (
        f"at least the Viewer role on GA4 property {PROPERTY} (PERFPLAT_GA4_PROPERTY_ID)" in answer["error"]
    )
    assert f"GOOGLE_APPLICATION_CREDENTIALS={service_account[0]}" in answer["error"]


def test_grpc_deadline_exceeded_names_the_endpoint_and_how_long(emulator, tls, service_account, tripwire):
    emulator.hang_next(times=100)

    answer = _production(emulator, tls, service_account, tripwire, request_timeout=0.5, retry_deadline=1.5)

    assert answer["error"].startswith(
        f"GA4 property {PROPERTY} at {emulator.grpc_endpoint} did not answer runReport:"
    )
    assert "requests got no answer within the request timeout of 0.5s; gave up after 1." in answer["error"]
    assert "(retry deadline 1.5s)" in answer["error"]
    assert emulator.requests_served >= 2, "a timeout is retried within the deadline"


def test_grpc_bytes_that_are_not_a_report_are_a_clear_error(emulator, tls, service_account, tripwire):
    emulator.malformed_next(times=10)

    answer = _production(emulator, tls, service_account, tripwire)

    assert emulator.requests_served == 1
    assert "answered runReport with a body that is not a RunReportResponse" in answer["error"]
    assert "PERFPLAT_GA4_API_ENDPOINT" in answer["error"]


def test_grpc_nothing_listening_is_cannot_reach(emulator, tls, service_account, tripwire):
    endpoint = emulator.grpc_endpoint
    emulator.stop()

    answer = _production(emulator, tls, service_account, tripwire, endpoint=endpoint)

    assert answer["error"].startswith(f"Cannot reach GA4 property {PROPERTY} at {endpoint} (tried 4 times)")
    assert "Check PERFPLAT_GA4_API_ENDPOINT and the network" in answer["error"]
