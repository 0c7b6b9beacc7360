"""What every emulator of the embedded default shares: an HTTP server on loopback, served from a background
thread, started and stopped as a context manager, and a `stopping` event that lets go of any request a
subclass holds (the tests' fault injection) when it stops."""

from __future__ import annotations

import logging
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

logger = logging.getLogger(__name__)


class LoopbackServer:
    """An emulator's serving: `start()` binds (port 0 picks a free port) and serves from a thread, `stop()`
    lets held requests go, releases the port and joins the thread (safe twice, or before `start()`)."""

    title = "emulator"  # how logs and errors name it: "GA4 emulator"

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.stopping = threading.Event()  # set by `stop()`: a request held by `answer_otherwise` lets go
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _http_server(self) -> ThreadingHTTPServer:
        """The emulator's own server, bound to (host, port)."""
        raise NotImplementedError

    def _started(self) -> None:
        """What else a subclass serves once HTTP is up (the GA4 emulator's gRPC)."""

    def _stopping(self) -> None:
        """What else a subclass stops before HTTP is."""

    def start(self) -> Self:
        if self._server is not None:
            return self
        self.stopping.clear()
        server = self._http_server()
        self.port = server.server_address[1]
        self._server = server
        name = self.title.lower().replace(" ", "-")
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=name, daemon=True
        )
        self._thread.start()
        self._started()
        logger.info("%s serving on %s", self.title, self.endpoint)
        return self

    def stop(self) -> None:
        self.stopping.set()
        self._stopping()
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """The client's `api_endpoint`, scheme included so it speaks plain HTTP."""
        if self._server is None:
            raise RuntimeError(f"The {self.title} is not running: call start() first.")
        return f"http://{self.host}:{self.port}"

    def serve_until_interrupted(self, banner: str) -> None:
        """Serve in the foreground (an emulator's `python -m` entry): print `banner`, stop at Ctrl-C."""
        with self:
            print(f"{banner} on {self.endpoint} (Ctrl-C to stop)", flush=True)
            try:
                signal.pause()  # until Ctrl-C
            except KeyboardInterrupt:
                print("stopping", flush=True)


class QuietHandler(BaseHTTPRequestHandler):
    """An emulator's request handler: writes an answer whole, lets a client that left before it go (it
    timed out), and keeps the access log at debug level, so tests and pipelines stay quiet."""

    def write_answer(
        self, status: int, text: str, content_type: str = "application/json; charset=UTF-8"
    ) -> None:
        data = text.encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            logger.debug("%s: the client left before its answer (it timed out)", self.server_version)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s - " + format, self.address_string(), *args)
