"""Where the tests' alerts arrive: a loopback stand-in of Slack's Web API that the real slack_sdk client
posts to, and an SQS queue subscribed to an SNS topic on moto, read back as a person's inbox would be; and a
TCP hop that makes a real server (the metrics store's PostgreSQL) fall silent."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections import deque
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from perfplat_assets.alerts.resources import Alerting
from perfplat_assets.metrics_store.resources import MetricsStore
from perfplat_assets_tests.support.aws import REGION
from perfplat_sample.loopback import LoopbackServer, QuietHandler

# No channel is configured: the queue sensor's alerts go nowhere, and its store is never opened.
NO_ALERT_CHANNELS = Alerting(store=MetricsStore(url="sqlite://"))

SLACK_TOKEN = "xoxb-canary-slack-token-8c1f2e"  # a canary: no alert, log or error may ever hold it
SLACK_CHANNEL = "#opg-perfplat-alerts"


@dataclass(frozen=True)
class Posted:
    """One `chat.postMessage` Slack took: the channel, the text, and the token it was sent with."""

    channel: str
    text: str
    token: str


class _SlackHandler(QuietHandler):
    server: _SlackServer
    server_version = "SlackStandIn/1"

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8") if length else ""
        if "json" in (self.headers.get("Content-Type") or ""):
            fields: dict[str, Any] = json.loads(raw or "{}")
        else:
            fields = {key: values[-1] for key, values in parse_qs(raw).items()}
        token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
        status, answer, headers = self.server.slack.answer(self.path, fields, token)
        data = json.dumps(answer).encode("utf-8")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client timed out and left
            self.send_response(status)
            for name, value in {"Content-Type": "application/json; charset=utf-8", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)


class _SlackServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], slack: SlackStandIn) -> None:
        self.slack = slack
        super().__init__(address, _SlackHandler)


class SlackStandIn(LoopbackServer):
    """Slack's Web API as `chat.postMessage` answers it: `ok` with the message for a known token, `ok: false`
    with `invalid_auth` for another. `fail_next` queues answers to give instead (a 500, an `ok: false`, a 429
    with `Retry-After`); `asked` counts the posts it was asked for, taken or not."""

    title = "Slack stand-in"

    def __init__(self, token: str = SLACK_TOKEN) -> None:
        super().__init__("127.0.0.1", 0)
        self.token = token
        self.posted: list[Posted] = []
        self.asked = 0
        self._faults: deque[tuple[int, dict[str, Any], dict[str, str]]] = deque()
        self._lock = threading.Lock()

    def _http_server(self) -> _SlackServer:
        return _SlackServer((self.host, self.port), self)

    @property
    def api_url(self) -> str:
        return f"{self.endpoint}/api/"

    def fail_next(
        self, times: int, status: int = 500, error: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        """The next `times` posts are refused: with `status` (a 5xx, a 429 with `headers` such as
        Retry-After), or with 200 and `ok: false`."""
        answer = {"ok": False, "error": error or "internal_error"}
        with self._lock:
            self._faults.extend([(status, answer, headers or {})] * times)

    def answer(
        self, path: str, fields: dict[str, Any], token: str
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if not path.endswith("/chat.postMessage"):
            return 404, {"ok": False, "error": "unknown_method"}, {}
        with self._lock:
            self.asked += 1
            if self._faults:
                return self._faults.popleft()
            if token != self.token:
                return 200, {"ok": False, "error": "invalid_auth"}, {}
            self.posted.append(Posted(str(fields.get("channel")), str(fields.get("text")), token))
        return 200, {"ok": True, "channel": "C0PERFPLAT", "ts": f"{len(self.posted)}.000100"}, {}

    def texts(self) -> list[str]:
        with self._lock:
            return [post.text for post in self.posted]


class SnsInbox:
    """An SNS topic on moto with an SQS queue subscribed (raw delivery off, as email and Chatbot get the
    envelope): `read()` returns each notification's subject and message."""

    def __init__(self, endpoint: str, name: str = "perfplat-alerts") -> None:
        import boto3

        options = {"endpoint_url": endpoint, "region_name": REGION}
        self.sns = boto3.client("sns", **options)
        self.sqs = boto3.client("sqs", **options)
        self.topic_arn = self.sns.create_topic(Name=name)["TopicArn"]
        self.queue_url = self.sqs.create_queue(QueueName=f"{name}-inbox")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue_arn)
        self.received: list[dict[str, str]] = []

    def read(self) -> list[dict[str, str]]:
        """Every notification so far (each read once from the queue, kept here)."""
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not batch:
                return list(self.received)
            for message in batch:
                envelope = json.loads(message["Body"])
                self.received.append({"subject": envelope.get("Subject", ""), "message": envelope["Message"]})
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])


class TcpHop:
    """A TCP hop on loopback in front of a real server (PostgreSQL): it forwards each connection both ways,
    until `silent` is set; then it accepts new connections and never answers them, as a server that is
    hung, or a firewall that swallows packets, does. With no upstream it is silent from the start."""

    def __init__(self, upstream: tuple[str, int] | None = None) -> None:
        self.upstream = upstream
        self.silent = upstream is None
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._held: list[socket.socket] = []
        self._closed = threading.Event()
        threading.Thread(target=self._accept, name="tcp-hop", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.silent or self.upstream is None:
                self._held.append(client)  # accepted, never answered
                continue
            server = socket.create_connection(self.upstream)
            self._held += [client, server]
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)

    def __enter__(self) -> TcpHop:
        return self

    def __exit__(self, *exc: object) -> None:
        self._closed.set()
        self._listener.close()
        for held in self._held:
            with contextlib.suppress(OSError):
                held.close()
