"""Raw-socket servers on loopback that misbehave on purpose, for deadline and size-cap tests.

- ``blackhole``: accepts the connection, reads the request and never answers;
- ``drip``: answers a 200 with a huge Content-Length, then one body byte every ``interval``, forever;
- ``slow-headers``: sends the status line and headers one byte every ``interval``, forever;
- ``bomb``: answers a 200 whose gzip body decodes to ``bomb_bytes`` of zeros (built in blocks,
  so neither side of the test holds the decoded size).

With ``healthy_for`` seconds, requests arriving earlier (on any connection, kept alive) get
``healthy_body`` as a prompt 200 first: the server turns hostile only later, at a wait's last poll.
Self-contained (standard library only) so ``benchmarks/deadlines.py`` can load it too.
Every accepted connection is counted in ``connections``.
"""

from __future__ import annotations

import contextlib
import functools
import socket
import threading
import time
import zlib
from typing import Any

KINDS = ("blackhole", "drip", "slow-headers", "bomb")


@functools.lru_cache(maxsize=4)
def gzip_bomb(size: int, block: int = 1 << 20) -> bytes:
    """A gzip stream of ``size`` zero bytes, compressed block by block."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip header and trailer
    zeros = bytes(block)
    parts = [packer.compress(zeros) for _ in range(size // block)]
    parts.append(packer.compress(bytes(size % block)))
    parts.append(packer.flush())
    return b"".join(parts)


class HostileServer:
    """One misbehaving server; ``url`` to reach it, ``close()`` to stop it."""

    def __init__(
        self,
        kind: str,
        *,
        interval: float = 2.0,
        bomb_bytes: int = 500 << 20,
        host: str = "127.0.0.1",
        healthy_for: float = 0.0,
        healthy_body: bytes = b"{}",
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        self.kind = kind
        self.interval = interval
        self.bomb_bytes = bomb_bytes
        self.healthy_until = time.monotonic() + healthy_for
        self.healthy_body = healthy_body
        self.connections = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._clients: list[socket.socket] = []
        self._listener = socket.create_server((host, 0))
        self.url = f"http://{host}:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._clients.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            while _read_head(client):
                if time.monotonic() >= self.healthy_until:
                    getattr(self, "_" + self.kind.replace("-", "_"))(client)
                    return
                client.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(self.healthy_body)}\r\n\r\n".encode()
                    + self.healthy_body
                )
        except OSError:
            pass
        finally:
            client.close()

    def _blackhole(self, client: socket.socket) -> None:
        self._stop.wait()

    def _drip(self, client: socket.socket) -> None:
        client.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n"
        )
        while not self._stop.wait(self.interval):
            client.sendall(b" ")

    def _slow_headers(self, client: socket.socket) -> None:
        head = b"HTTP/1.1 200 OK\r\n" + b"X-Slow: " + b"a" * 100_000
        for byte in head:
            if self._stop.wait(self.interval):
                return
            client.sendall(bytes([byte]))

    def _bomb(self, client: socket.socket) -> None:
        body = gzip_bomb(self.bomb_bytes)
        client.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
            + f"Connection: close\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        )
        client.sendall(body)

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        with self._lock:
            for client in self._clients:
                with contextlib.suppress(OSError):
                    client.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> HostileServer:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


def _read_head(client: socket.socket) -> bytes:
    """The request's head (up to the blank line); the body, if any, is left unread."""
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = client.recv(65536)
        if not chunk:
            break
        head += chunk
    return head
