"""A real HTTP receiver on 127.0.0.1 for notification tests: it records every request and answers with a fixed
status and body (as PagerDuty, Slack and the others would). Runs on its own threads; `wait_for` waits on a
condition with a deadline."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness import LOOPBACK


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """`with Receiver(202, '{"status":"success"}') as r:` ... `r.url`, `r.wait_for(1)`, `r.requests`."""

    def __init__(self, status: int = 200, body: str = "ok", content_type: str = "application/json"):
        self.status, self.body, self.content_type = status, body.encode(), content_type
        self._requests: list[Request] = []
        self._changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as libcurl expects

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                receiver._record(Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                         body))
                self.send_response(receiver.status)
                self.send_header("Content-Type", receiver.content_type)
                self.send_header("Content-Length", str(len(receiver.body)))
                self.end_headers()
                self.wfile.write(receiver.body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self._server = ThreadingHTTPServer((LOOPBACK, 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="receiver", daemon=True)

    def __enter__(self) -> "Receiver":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self._server.server_address[1]}"

    def _record(self, request: Request) -> None:
        with self._changed:
            self._requests.append(request)
            self._changed.notify_all()

    @property
    def requests(self) -> list[Request]:
        with self._changed:
            return list(self._requests)

    def wait_for(self, count: int, timeout: float = 30) -> list[Request]:
        """Waits until at least `count` requests arrived (AssertionError after `timeout` seconds)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._requests) >= count, timeout=timeout):
                raise AssertionError(f"timed out after {timeout}s waiting for {count} request(s) "
                                     f"({len(self._requests)} arrived)")
            return list(self._requests)
