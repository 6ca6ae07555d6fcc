"""The loopback HTTP server: one thread per connection, simulators mounted by path prefix.

``ThreadingHTTPServer`` with daemon threads and a deep listen backlog holds hundreds of
concurrent keep-alive connections. The handler reads the request (refusing bodies over the
size limit with 413 before reading them), asks the fault injector, hands the request to the
mounted simulator, and writes the answer. It never lets an exception reach the client as a
stack trace, and a bad request never stops the server.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .faults import ERROR_STATUS
from .messages import HttpError, Request, Response

if TYPE_CHECKING:
    from .app import Sandbox

__all__ = ["SandboxServer"]

log = logging.getLogger("importbridge.sandbox")
INTERNAL_PREFIX = "/_sandbox"
_FAULT_MESSAGES = {
    "429": "Too many requests (injected fault)",
    "500": "Internal server error (injected fault)",
    "502": "Bad gateway (injected fault)",
    "503": "Service unavailable (injected fault)",
}


DRAIN_LIMIT = 256 * 1024 * 1024  # read and drop up to this much of a refused body


class _BodyTooLarge(Exception):
    """A body over the limit; ``remaining`` bytes still unread (None: chunked, unknown)."""

    def __init__(self, remaining: int | None) -> None:
        self.remaining = remaining


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: pollers reuse their connections
    server_version = "importbridge-sandbox"
    sys_version = ""
    timeout = 30  # a client that stops mid-body cannot pin a thread forever
    server: SandboxServer

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    # every method goes through one dispatcher; the simulators' routers answer 405
    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _dispatch(self) -> None:
        try:
            self._route()
        except Exception:  # a broken third-party simulator's error(): still answer, in JSON
            log.exception("sandbox failed on %s %s", self.command, self.path)
            self.close_connection = True
            self._write(Response.json(500, {"message": "internal sandbox error"}))

    def _route(self) -> None:
        app = self.server.app
        split = urlsplit(self.path)
        path = split.path or "/"
        headers = {key.lower(): value for key, value in self.headers.items()}
        if path == INTERNAL_PREFIX or path.startswith(INTERNAL_PREFIX + "/"):
            self._answer_internal(path, split.query, headers)
            return
        mounted = app.mount_for(path)
        if mounted is None:
            self._drain_body(app.config.max_body)
            names = ", ".join(f"/{name}" for name in app.simulators)
            self._write(Response.json(404, {"message": f"nothing is mounted at {path}; mounts: {names}"}))
            return
        name, relative = mounted
        simulator = app.simulators[name]
        app.count_received(name)
        try:
            body = self._read_body(app.config.max_body)
        except _BodyTooLarge as refused:
            self._discard(refused)
            self.close_connection = True
            limit = app.config.max_body
            self._write(simulator.error(HttpError(
                413, f"request body exceeds the {limit}-byte limit", kind="payload_too_large")))
            return
        except (ValueError, OSError):
            self.close_connection = True
            self._write(simulator.error(HttpError(400, "the request body could not be read",
                                                  kind="malformed_body")))
            return
        fault = app.faults.pick(self.command, path)
        if fault is not None:
            app.count_fault(name, fault)
        if fault == "reset_before":
            self._reset()
            return
        if fault in ERROR_STATUS:
            retry = {"Retry-After": str(app.faults.retry_after)} if fault == "429" else {}
            self._write(simulator.error(HttpError(
                ERROR_STATUS[fault], _FAULT_MESSAGES[fault], kind=f"fault_{fault}", headers=retry)))
            return
        request = Request(method=self.command, path=relative, query_string=split.query,
                          headers=headers, body=body)
        response = simulator.handle(request)
        if fault == "reset_after":
            self._reset()
            return
        if fault == "slow":
            time.sleep(app.faults.slow_seconds)
        if fault == "truncated":
            # a copy: the simulator may keep ``response`` (an idempotent replay must stay whole)
            response = Response(status=response.status, body=response.body[: len(response.body) // 2],
                                headers=dict(response.headers))
        self._write(response)

    def _answer_internal(self, path: str, query: str, headers: dict[str, str]) -> None:
        app = self.server.app
        try:
            body = self._read_body(app.config.max_body)
            request = Request(method=self.command, path=path[len(INTERNAL_PREFIX):] or "/",
                              query_string=query, headers=headers, body=body)
            response = app.internal.handle(request)
        except _BodyTooLarge as refused:
            self._discard(refused)
            self.close_connection = True
            response = Response.json(413, {"message": "request body too large"})
        except Exception:
            log.exception("sandbox control endpoint failed")
            response = Response.json(500, {"message": "internal sandbox error"})
        self._write(response)

    # -- bodies ---------------------------------------------------------------------------------

    def _read_body(self, limit: int) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked(limit)
        raw = self.headers.get("Content-Length")
        length = int(raw) if raw else 0
        if length < 0:
            raise ValueError("negative Content-Length")
        if length > limit:
            raise _BodyTooLarge(length)
        return self.rfile.read(length) if length else b""

    def _read_chunked(self, limit: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            line = self.rfile.readline(1024)
            chunk_size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if chunk_size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            size += chunk_size
            if size > limit:
                self.rfile.read(chunk_size)
                self.rfile.readline(1024)
                raise _BodyTooLarge(None)
            chunks.append(self.rfile.read(chunk_size))
            self.rfile.readline(1024)

    def _discard(self, refused: _BodyTooLarge) -> None:
        """Read and drop the rest of a refused body (up to ``DRAIN_LIMIT``), so the client,
        still sending, reads our 413 instead of a connection reset."""
        try:
            if refused.remaining is not None:
                left = refused.remaining if refused.remaining <= DRAIN_LIMIT else 0
                while left > 0:
                    got = self.rfile.read(min(left, 1 << 20))
                    if not got:
                        return
                    left -= len(got)
            else:
                self._read_chunked(DRAIN_LIMIT)
        except (_BodyTooLarge, ValueError, OSError):
            return

    def _drain_body(self, limit: int) -> None:
        try:
            self._read_body(limit)
        except (_BodyTooLarge, ValueError, OSError):
            self.close_connection = True

    # -- answers --------------------------------------------------------------------------------

    def _write(self, response: Response) -> None:
        """Status line, headers and body in one write.

        Two small writes on a keep-alive connection meet the client's delayed ACK and cost
        ~40 ms per response, so the response is assembled here rather than by
        ``send_response`` / ``end_headers``.
        """
        try:
            phrase = HTTPStatus(response.status).phrase
        except ValueError:
            phrase = "Error"
        lines = [
            f"HTTP/1.1 {response.status} {phrase}",
            f"Server: {self.server_version}",
            f"Date: {self.date_time_string()}",
            *(f"{key}: {value}" for key, value in response.headers.items()),
            f"Content-Length: {len(response.body)}",
        ]
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        try:
            self.wfile.write(head if self.command == "HEAD" else head + response.body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        self.log_request(response.status)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Protocol-level errors (garbage request lines, huge headers) as JSON, never HTML."""
        self.close_connection = True
        self._write(Response.json(code, {"message": message or "Bad request"}))

    def _reset(self) -> None:
        """Drop the connection with a TCP reset: the client gets no response at all."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass


class SandboxServer(ThreadingHTTPServer):
    """The threaded server; ``app`` is the ``Sandbox`` that owns simulators, clock and faults."""

    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: Sandbox) -> None:
        self.app = app
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        """End every open keep-alive connection, so a stopped sandbox answers nobody."""
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("sandbox connection from %s ended with an error", client_address, exc_info=True)

    def serve_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.02},
                                  name=f"importbridge-sandbox:{self.server_address[1]}", daemon=True)
        thread.start()
        return thread


def control_json(handler: Callable[[Any], Any]) -> Callable[[Request], Response]:
    """Wrap a control-endpoint function taking the decoded JSON body (or None) into a handler."""

    def answer(request: Request) -> Response:
        payload: Any = None
        if request.body:
            try:
                payload = json.loads(request.body)
            except ValueError as exc:
                return Response.json(400, {"message": f"body is not valid JSON: {exc}"})
        try:
            return Response.json(200, handler(payload))
        except (TypeError, ValueError) as exc:
            return Response.json(400, {"message": str(exc)})

    return answer
