"""The sync engine: carries out a provider's flow over a ``Transport`` (requests).

A flow (``importbridge.flows``) yields what it wants done; this module does it, one step at a
time, and sends the outcome back:

- a ``Request`` goes through ``Transport.request_json`` (or ``Transport.request`` with
  ``stream=True``), so the transport's one retry rule, deadline, redirect guard, size cap and
  error mapping apply unchanged; its ``Response`` is sent back, or the error it raised is
  thrown into the flow (``gen.throw``), where the flow may catch it;
- a ``Read`` takes the next chunk of the last streamed answer (``b""`` at its end); a body
  that breaks off is a ``TransportError`` thrown into the flow;
- an ``Emit`` hands its items to the caller at once (``stream``), before the flow goes on.

The flow is closed, and a streamed answer released, however the run ends (an error, or a
caller that stops reading rows early).
"""

from __future__ import annotations

import http.client
import io
import itertools
import os
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import requests
import urllib3.exceptions

from .errors import ImportBridgeError, PluginError, TransportError
from .flows import Emit, Read, Request, Response, StreamedBody

if TYPE_CHECKING:
    from .flows import Flow
    from .transport import Transport

__all__ = ["batches", "drive", "run", "stream"]

T = TypeVar("T")
BLOCK = 64 * 1024

#: what a streamed answer's body raises when it breaks off while it is read
BODY_ERRORS = (requests.RequestException, urllib3.exceptions.HTTPError, http.client.HTTPException, OSError)


def run(transport: Transport, flow: Flow[T]) -> T:
    """Carry ``flow`` out to its end and return its result (emitted items are not expected)."""
    steps = drive(transport, flow)
    try:
        item = next(steps)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
    steps.close()
    raise PluginError(
        f"{transport.provider.name}: a flow that returns one result emitted {type(item).__name__} items"
    )


def stream(transport: Transport, flow: Flow[Any]) -> Iterator[Any]:
    """The items ``flow`` emits, each as soon as it is emitted (its return value is dropped).

    Items are handed out by ``itertools.chain`` from each ``Emit``'s sequence, so the flow and
    the engine resume once per emitted batch, not once per item (a failed-row export's
    million rows)."""
    return itertools.chain.from_iterable(batches(transport, flow))


def drive(transport: Transport, flow: Flow[T]) -> Generator[Any, None, T]:
    """Carry ``flow`` out: yield each emitted item, return the flow's result."""
    steps = batches(transport, flow)
    try:
        while True:
            try:
                items = next(steps)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            yield from items
    finally:
        steps.close()


def batches(transport: Transport, flow: Flow[T]) -> Generator[Sequence[Any], None, T]:
    """Carry ``flow`` out: yield each ``Emit``'s items (one sequence per ``Emit``), return the
    flow's result."""
    answer: _Streamed | None = None
    reply: Response | bytes | None = None
    error: BaseException | None = None
    try:
        while True:
            try:
                if error is not None:
                    thrown, error = error, None
                    step = flow.throw(thrown)
                else:
                    step = flow.send(reply)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            reply = None
            if isinstance(step, Emit):
                if step.items:
                    yield step.items
            elif isinstance(step, Request):
                if answer is not None:
                    answer.close()
                    answer = None
                try:
                    reply, answer = _send(transport, step)
                except ImportBridgeError as exc:
                    error = exc
            elif isinstance(step, Read):
                if answer is None:
                    error = PluginError(
                        f"{transport.provider.name}: a flow yielded Read without a streamed Request before it"
                    )
                    continue
                try:
                    reply = answer.read(step.size)
                except TransportError as exc:
                    answer = None
                    error = exc
            else:
                error = PluginError(
                    f"{transport.provider.name}: a flow yielded {type(step).__name__}; "
                    "it may yield only Request, Read and Emit"
                )
    finally:
        if answer is not None:
            answer.close()
        flow.close()


def _send(transport: Transport, request: Request) -> tuple[Response, _Streamed | None]:
    """One ``Request`` through the transport: its ``Response`` and, when streamed, its body."""
    if sum(part is not None for part in (request.json, request.content, request.body)) > 1:
        raise PluginError(
            f"{transport.provider.name}: {request.method} {request.path}: a Request carries one of "
            "json, content and body, not several"
        )
    headers = dict(request.headers)
    data: Any = request.content
    if request.body is not None:
        if not any(name.lower() == "content-type" for name in headers):
            headers["Content-Type"] = request.body.content_type
        data = _BodyFile(request.body) if request.body.length is None else _SizedBodyFile(request.body)
    options: dict[str, Any] = {
        "params": request.params,
        "json": request.json,
        "data": data,
        "headers": headers,
        "idempotent": request.idempotent,
    }
    if request.stream:
        response = transport.request(request.method, request.path, stream=True, **options)
        streamed = _Streamed(transport, request, response)
        return Response(response.status_code, dict(response.headers)), streamed
    response, payload = transport.request_json(request.method, request.path, **options)
    return Response(response.status_code, dict(response.headers), payload), None


class _Streamed:
    """A streamed answer's body, read chunk by chunk; a break-off becomes ``TransportError``."""

    def __init__(self, transport: Transport, request: Request, response: requests.Response) -> None:
        self._transport = transport
        self._request = request
        self._response = response
        self._chunks: Iterator[bytes] | None = None
        self._ended = False

    def read(self, size: int) -> bytes:
        if self._ended:
            return b""
        if self._chunks is None:  # one iterator: the first Read's size sets the block size
            self._chunks = self._response.iter_content(max(1, size))
        try:
            return next(self._chunks)
        except StopIteration:
            self._ended = True
            self.close()
            return b""
        except BODY_ERRORS as exc:
            self.close()
            name, redact = self._transport.provider.name, self._transport.settings.redact
            where = redact(f"{self._request.method} {self._request.path}")
            reason = redact(f"{type(exc).__name__}: {exc}")[:500]
            raise TransportError(
                f"{name}: {where}: the answer broke off while it was read ({reason})",
                provider=name,
                method=self._request.method,
            ) from None

    def close(self) -> None:
        self._ended = True
        self._response.close()


class _BodyFile:
    """A ``StreamedBody`` as the file requests sends: read in blocks, rewound for a resend by
    calling ``chunks()`` again. Without a known length it is sent chunked."""

    def __init__(self, body: StreamedBody) -> None:
        self._make: Callable[[], Iterable[bytes]] = body.chunks
        self._pieces: Iterator[bytes] = iter(())
        self._pending = b""
        self._position = 0
        self._started = False

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if whence != os.SEEK_SET or offset != 0:  # requests asks for the end to learn a length
            raise io.UnsupportedOperation("a streamed body can only start again from its first byte")
        self._pieces = iter(self._make())
        self._pending = b""
        self._position = 0
        self._started = True
        return 0

    def read(self, size: int | None = -1) -> bytes:
        if not self._started:
            self.seek(0)
        wanted = size if size is not None and size >= 0 else None
        out: list[bytes] = []
        have = 0
        while wanted is None or have < wanted:
            if not self._pending:
                piece = next(self._pieces, None)
                if piece is None:
                    break
                self._pending = bytes(piece)
                continue
            take = self._pending if wanted is None else self._pending[: wanted - have]
            self._pending = self._pending[len(take) :]
            out.append(take)
            have += len(take)
        data = b"".join(out)
        self._position += len(data)
        return data

    def __iter__(self) -> Iterator[bytes]:
        while block := self.read(BLOCK):
            yield block


class _SizedBodyFile(_BodyFile):
    """A ``StreamedBody`` of known ``length``: requests sends it with a ``Content-Length``."""

    def __init__(self, body: StreamedBody) -> None:
        super().__init__(body)
        self._length = body.length or 0

    def __len__(self) -> int:
        return self._length
