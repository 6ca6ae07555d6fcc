"""A provider's HTTP conversation as plain data: flows yield requests, engines carry them out.

A *flow* is a generator written once by a provider (no I/O, no HTTP library) and driven by an
engine: the sync engine (requests) or the asyncio one. The model is httpx's ``Auth.auth_flow``:

    def get_flow(self, ctx: FlowContext, job_id: str, context) -> Flow[ImportJob]:
        response = yield Request("GET", f"/imports/{job_id}")
        return importbridge.normalize(self, response.data)

What a flow may yield, and what the engine sends back:

- ``Request``: the engine sends it (retrying by the one retry rule, within the wait's deadline,
  mapping 401/403/404/409/429 to errors) and sends back a ``Response``. An error status never
  reaches the flow: the engine raises the mapped error *into* the generator (``gen.throw``), so
  a flow may catch, say, ``SubmitOutcomeUnknown`` to add a hint, or ``JobNotFound`` to try
  elsewhere. For ``stream=True`` the response carries no ``data``: the body is read with
  ``Read``.
- ``Read``: the next chunk of the streamed body of the flow's last ``Request`` (``b""`` once the
  body ended cleanly). A body that breaks off raises ``TransportError`` into the flow, which may
  ask again (a new ``Request``) and resume.
- ``Emit``: items the flow hands to its caller as they come (failed rows parsed incrementally
  from a streamed export); the engine sends back ``None``.

The flow's ``return`` value is the operation's result (a job, ``None`` for "no such submit").

A provider's flows are its methods ``submit_flow``, ``get_flow``, ``failed_rows_flow`` and
``find_submit_flow`` (``OPERATIONS``; see ``importbridge.Provider``). ``has_flows(provider,
operation)`` tells an engine whether a provider does an operation as a flow or the older way
(a method that calls ``conn.transport`` itself, which only the sync engine can run directly).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar

import attrs

from .provider import Provider

__all__ = [
    "OPERATIONS",
    "Emit",
    "Flow",
    "FlowContext",
    "Read",
    "Request",
    "Response",
    "StreamedBody",
    "has_flows",
]

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class StreamedBody:
    """A request body produced in pieces (a big CSV upload), never held whole.

    ``chunks`` is called once per attempt, so a resend starts the body again from its first
    byte; ``length`` (when known) is sent as ``Content-Length``.
    """

    chunks: Callable[[], Iterable[bytes]]
    length: int | None = None
    content_type: str = "application/octet-stream"


@attrs.frozen
class Request:
    """One HTTP request, described. ``path`` is relative to the connection's ``base_url``.

    Exactly one of ``json`` (encoded strictly by the engine: NaN, infinity or a non-JSON value
    is an ``InputError`` before anything is sent), ``content`` and ``body`` may be given.
    ``idempotent=None`` means "GET, HEAD and OPTIONS only": a POST is resent after a doubtful
    failure only when its flow says resending is safe (an idempotency key, an analysis step).
    """

    method: str
    path: str
    params: Mapping[str, Any] | None = attrs.field(default=None, kw_only=True)
    json: Any = attrs.field(default=None, kw_only=True)
    content: bytes | None = attrs.field(default=None, kw_only=True)
    body: StreamedBody | None = attrs.field(default=None, kw_only=True)
    headers: Mapping[str, str] = attrs.field(factory=dict, kw_only=True)
    idempotent: bool | None = attrs.field(default=None, kw_only=True)
    stream: bool = attrs.field(default=False, kw_only=True)


@attrs.frozen
class Response:
    """A successful (status below 400) answer. ``data`` is the decoded JSON body (strict
    JSON: ``importbridge.jsontext``), ``None`` for a streamed request or an empty body."""

    status: int
    headers: Mapping[str, str] = attrs.field(factory=dict)
    data: Any = None


@attrs.frozen
class Read:
    """Ask for the next chunk of the streamed body (``b""`` at its end)."""

    size: int = 64 * 1024


@attrs.frozen
class Emit(Generic[T]):
    """Hand items to the flow's caller now (e.g. failed rows as they are parsed)."""

    items: Sequence[T]


@attrs.frozen(kw_only=True)
class FlowContext:
    """What a flow may know of its connection: the provider's name and its resolved settings
    (a mapping whose repr redacts secrets; a flow never puts a secret anywhere but a header)."""

    provider: str
    settings: Mapping[str, str]


#: a flow: yields requests, reads and emitted items; receives responses and chunks; returns T.
#: What comes back is typed ``Any`` so that ``response = yield Request(...)`` reads as a
#: ``Response`` and ``chunk = yield Read()`` as ``bytes`` without a cast at every step (the
#: engines send exactly what the docstring above says).
Flow = Generator[Request | Read | Emit[Any], Any, T]


#: a provider's client operations: the method plugins written before flows override -> its flow
OPERATIONS: Mapping[str, str] = {
    "submit": "submit_flow",
    "get": "get_flow",
    "failed_rows": "failed_rows_flow",
    "find_submit": "find_submit_flow",
}


def has_flows(provider: Provider, operation: str) -> bool:
    """Whether ``provider`` does ``operation`` ("submit", "get", "failed_rows", "find_submit")
    as a flow, which any engine can carry out, rather than by the older method that calls
    ``conn.transport`` itself (sync only; an async engine runs it in a worker thread).

    The most derived definition decides: a subclass that overrides the old ``get(conn, ...)``
    of a provider written with flows is taken at its word, and so is the other way round.
    A class that defines both goes by its flow. The base class ``Provider`` has neither.
    """
    key = (type(provider), operation)
    known = _STYLES.get(key)
    if known is None:
        known = _STYLES[key] = _has_flows(type(provider), operation)
    return known


_STYLES: dict[tuple[type, str], bool] = {}


def _has_flows(kind: type, operation: str) -> bool:
    flow = OPERATIONS.get(operation)
    if flow is None:
        raise ValueError(f"unknown operation {operation!r}; known: {', '.join(OPERATIONS)}")
    for cls in kind.__mro__:
        if cls is Provider:
            return False
        if flow in cls.__dict__:
            return True
        if operation in cls.__dict__:
            return False
    return False
