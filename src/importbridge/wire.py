"""The sync engine's sockets: a deadline no byte of an exchange outlives, and whether a request left.

requests and urllib3 time out each socket operation on its own: a server that dribbles a byte
every two seconds never trips a 5 s read timeout, and neither a status line sent one byte at a
time nor a body that never ends is bounded in total. ``DeadlineAdapter`` gives its connections
a response reader and a ``send`` that cut every socket wait to the time left before the current
exchange's deadline (``exchange(deadline)``, a context variable, so each thread has its own); past
it a read raises ``TimeoutError``, which urllib3 reports as a read timeout. The connections also
note when a request could first have left the process (``Exchange.connected``): a failure before
that (DNS, refused, a TLS handshake refused) provably sent nothing.
"""

from __future__ import annotations

import contextvars
import http.client
import io
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import attrs
import requests.adapters
import urllib3.connection
import urllib3.connectionpool
import urllib3.poolmanager

__all__ = ["DeadlineAdapter", "Exchange", "exchange"]


@attrs.define
class Exchange:
    """One attempt's I/O state: its deadline (``time.monotonic()``) and whether it connected."""

    deadline: float | None = None
    connected: bool = False  # a request byte may have left: the connection was up for it

    def left(self) -> float | None:
        """Seconds before the deadline (negative once past), None without one."""
        return None if self.deadline is None else self.deadline - time.monotonic()


_CURRENT: contextvars.ContextVar[Exchange | None] = contextvars.ContextVar(
    "importbridge_exchange", default=None
)


@contextmanager
def exchange(deadline: float | None) -> Iterator[Exchange]:
    """Within the block, socket waits end by ``deadline`` (monotonic seconds; None: no deadline)."""
    current = Exchange(deadline=deadline)
    reset = _CURRENT.set(current)
    try:
        yield current
    finally:
        _CURRENT.reset(reset)


def _bounded(base: float | None) -> float | None:
    """The socket timeout for the next wait: ``base`` cut to the current deadline; raises
    ``TimeoutError`` once the deadline has passed."""
    current = _CURRENT.get()
    left = None if current is None else current.left()
    if left is None:
        return base
    if left <= 0:
        raise TimeoutError("the deadline passed while the answer was still arriving")
    return left if base is None else min(base, left)


def _connected() -> None:
    current = _CURRENT.get()
    if current is not None:
        current.connected = True


class _DeadlineReader(io.RawIOBase):
    """A socket's reading side whose every wait ends by the current deadline."""

    def __init__(self, sock: socket.socket) -> None:
        super().__init__()
        self._sock = sock
        self._file = sock.makefile("rb", buffering=0)  # holds the socket open as http.client expects
        self._base = sock.gettimeout()  # the read timeout urllib3 set for this response

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        self._sock.settimeout(_bounded(self._base))
        return self._file.readinto(buffer)

    def close(self) -> None:
        if not self.closed:
            self._file.close()
        super().close()


class _DeadlineSocket:
    """What ``http.client.HTTPResponse`` is given instead of the socket: it only calls makefile."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def makefile(self, mode: str, *args: Any, **kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock))


class _DeadlineResponse(http.client.HTTPResponse):
    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(_DeadlineSocket(sock), *args, **kwargs)  # type: ignore[arg-type]


class _DeadlineMixin:
    """Connection behaviour shared by the HTTP and HTTPS classes below."""

    sock: socket.socket | None

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        _connected()

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is not None:  # a pooled connection, already up: the request leaves now
            _connected()
        super().request(*args, **kwargs)  # type: ignore[misc]

    def send(self, data: Any) -> None:
        if self.sock is not None:
            self.sock.settimeout(_bounded(self.sock.gettimeout()))
        super().send(data)  # type: ignore[misc]


class _HTTPConnection(_DeadlineMixin, urllib3.connection.HTTPConnection):
    response_class = _DeadlineResponse


class _HTTPSConnection(_DeadlineMixin, urllib3.connection.HTTPSConnection):
    response_class = _DeadlineResponse


class _HTTPPool(urllib3.connectionpool.HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


def _use_deadline_pools(manager: urllib3.poolmanager.PoolManager) -> None:
    """Give a pool manager our connection pools, unless it brought its own (SOCKS proxies)."""
    if manager.pool_classes_by_scheme is urllib3.poolmanager.pool_classes_by_scheme:
        manager.pool_classes_by_scheme = _POOLS


class DeadlineAdapter(requests.adapters.HTTPAdapter):
    """An ``HTTPAdapter`` whose connections honour ``exchange`` deadlines and note connecting."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _use_deadline_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> urllib3.poolmanager.ProxyManager:
        manager: urllib3.poolmanager.ProxyManager = super().proxy_manager_for(proxy, **proxy_kwargs)
        _use_deadline_pools(manager)
        return manager
