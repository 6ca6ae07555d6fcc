"""Helpers for the client tests: a scriptable HTTP server on loopback and a minimal provider.

``ScriptedServer`` answers each request with the next queued ``Reply`` (or the default one):
a status with JSON or text, a reset after reading the request, or a stall before answering.
It records every request it read, so tests can count what reached the "provider".
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import attrs

import importbridge
from importbridge import Capability, Connection, ImportJob, JobState, RowResult, Setting

CANARY = "canary-SECRET-7f3a9c"


@attrs.define
class Reply:
    """One scripted answer. ``action``: "reply", "reset" (RST after reading) or "stall" then reply."""

    status: int = 200
    body: Any = attrs.Factory(lambda: {"ok": True})
    headers: Mapping[str, str] = attrs.Factory(dict)
    action: str = "reply"
    stall: float = 0.0
    raw: bytes | None = None  # sent verbatim as the body (e.g. truncated JSON)


@attrs.define
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up (a refused redirect, a deadline) is part of the tests


class ScriptedServer:
    """A threaded loopback server answering from a queue of replies."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.replies: deque[Reply] = deque()
        self.default = Reply()
        self.seen: list[Seen] = []
        self.connections = 0  # accepted, whether or not an HTTP request could be read from them
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in separate writes

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with server.lock:
                    server.connections += 1

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with server.lock:
                    server.seen.append(Seen(self.command, self.path, dict(self.headers), body))
                    reply = server.replies.popleft() if server.replies else server.default
                if reply.action == "reset":
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.close_connection = True
                    self.connection.close()
                    return
                if reply.stall:
                    time.sleep(reply.stall)
                if reply.raw is not None:
                    payload, kind = reply.raw, "application/json"
                elif isinstance(reply.body, (dict, list)):
                    payload, kind = json.dumps(reply.body).encode(), "application/json"
                else:
                    payload, kind = str(reply.body).encode(), "text/plain"
                try:
                    if "Date" in reply.headers:  # the scripted Date replaces the real one
                        self.log_request(reply.status)
                        self.send_response_only(reply.status)
                    else:
                        self.send_response(reply.status)
                    self.send_header("Content-Type", kind)
                    self.send_header("Content-Length", str(len(payload)))
                    for key, value in reply.headers.items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self.httpd = _QuietServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.url = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def queue(self, *replies: Reply) -> None:
        with self.lock:
            self.replies.extend(replies)

    def count(self, method: str | None = None) -> int:
        with self.lock:
            return sum(1 for seen in self.seen if method is None or seen.method == method)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class EchoProvider(importbridge.Provider):
    """A provider for transport tests: jobs are ``{"id", "status"}`` at ``/jobs/{id}``."""

    name = "echo"
    capabilities = frozenset({Capability.NORMALIZE, Capability.CLIENT})
    settings = (
        Setting(name="api_key", env="ECHO_API_KEY", secret=True),
        Setting(name="base_url", env="ECHO_BASE_URL", default="https://echo.invalid"),
        Setting(name="region", env="ECHO_REGION", required=False, context=True),
    )
    retention = timedelta(days=7)
    batch_size = 3
    status_words: ClassVar[Mapping[str, JobState]] = {"done": JobState.COMPLETE, "queued": JobState.PENDING}

    def normalize(self, payload: Any) -> ImportJob:
        return ImportJob(
            provider=self.name,
            id=str(payload["id"]),
            state=self.status_words[payload["status"]],
            provider_state=payload["status"],
            total=payload.get("total"),
        )

    def auth_headers(self, settings: Mapping[str, str]) -> dict[str, str]:
        return {"x-echo-key": settings["api_key"]}

    def submit(
        self, conn: Connection, records: Sequence[Mapping[str, Any]], options: Mapping[str, Any]
    ) -> ImportJob:
        _, payload = conn.transport.request_json("POST", "/jobs", json={"rows": list(records), **options})
        return self.normalize(payload)

    def get(self, conn: Connection, job_id: str, context: Mapping[str, str]) -> ImportJob:
        _, payload = conn.transport.request_json("GET", f"/jobs/{job_id}")
        return self.normalize(payload)

    def failed_rows(self, conn: Connection, job: ImportJob) -> Iterator[RowResult]:
        self.get(conn, str(job.id), {})
        return iter(())


class Waits:
    """An injectable sleep + clock: records each wait and advances a virtual monotonic clock."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.now = 1000.0

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now
