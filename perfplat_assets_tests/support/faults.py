"""Fault injection into real servers: an HTTP hop on loopback that forwards to a real server (moto's S3,
a real CKAN) and, when told, refuses, slows or reacts to requests. The code under test is not touched:
it is only pointed at the hop instead of the server."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection", "expect", "keep-alive"}


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/xml"


# A request the hop sees: (method, path). A rule answers it instead of the server, or returns None.
Rule = Callable[[str, str], Reply | None]


class FaultyHop:
    """Forwards every request to `upstream`; `rule` may answer instead, `delay` slows the chosen requests,
    and `on_request` runs (in the hop's thread) before a request is forwarded."""

    def __init__(self, upstream: str):
        self.upstream = upstream.rstrip("/")
        self.rule: Rule = lambda method, path: None
        self.delay: Callable[[str, str], float] = lambda method, path: 0.0
        self.on_request: Callable[[str, str], None] = lambda method, path: None
        self.seen: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()  # ends an injected delay early when the hop is shut down
        hop = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # answers `Expect: 100-continue` as S3 clients expect

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _forward(self) -> None:
                body = self._body()
                method, path = self.command, self.path
                with hop._lock:
                    hop.seen.append((method, path))
                hop.on_request(method, path)
                pause = hop.delay(method, path)
                if pause:
                    hop._closing.wait(pause)  # the injected slowness itself; cut short when the hop closes
                reply = hop.rule(method, path)
                if reply is not None:
                    self._send(reply.status, {"Content-Type": reply.content_type}, reply.body)
                    return
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                answer = requests.request(
                    method,
                    hop.upstream + path,
                    data=body,
                    headers=headers,
                    timeout=120,
                    allow_redirects=False,
                )
                kept = {
                    k: v
                    for k, v in answer.headers.items()
                    if k.lower() not in HOP_BY_HOP | {"content-encoding"}
                }
                self._send(answer.status_code, kept, answer.content)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def heal(self) -> None:
        self.rule = lambda method, path: None
        self.delay = lambda method, path: 0.0
        self.on_request = lambda method, path: None

    def __enter__(self) -> FaultyHop:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()


S3_ACCESS_DENIED = Reply(
    403, b"<?xml version='1.0'?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
)


class S3WritesThenFails:
    """S3 that takes `allowed` object writes (PUTs), then fails: every request after that (`away`), or only
    the next write (`once`)."""

    def __init__(self, allowed: int, mode: str = "away"):
        self.allowed, self.mode, self.writes, self.failed = allowed, mode, 0, False
        self.refused: str | None = None  # the path of the write it refused
        self._lock = threading.Lock()

    def __call__(self, method: str, path: str) -> Reply | None:
        with self._lock:
            if self.failed and self.mode == "away":
                return S3_ACCESS_DENIED
            if method != "PUT" or path.count("/") < 2:  # an object write, not a bucket operation
                return None
            if self.writes < self.allowed or (self.failed and self.mode == "once"):
                self.writes += 1
                return None
            self.failed, self.refused = True, path
            return S3_ACCESS_DENIED
