"""The asyncio engine: carries out a provider's flow over aiohttp (the ``async`` extra).

It makes the same decisions as the sync engine, taken from the same I/O-free functions
(``importbridge.httprules``): what is resent and what raises ``SubmitOutcomeUnknown``,
``Retry-After``, the backoff and its budget, the error for each status, redaction and the one
DEBUG line per attempt. Only the moving of bytes differs:

- a wait's deadline (``importbridge.budget``, a context variable each task carries) caps each
  attempt's connect and read timeouts and cuts off an answer still arriving when it passes;
- redirects are followed here, one hop at a time, so one to another origin is refused before
  anything is sent there;
- answers are read within ``max_response_bytes`` once decoded (aiohttp inflates gzip as it
  reads), an error answer's first ``ERROR_BODY_BYTES`` for its message;
- ``RetryPolicy.sleep`` is awaited as ``asyncio.sleep`` unless a test replaced it (a virtual
  clock's sleep, which returns at once).

``run(transport, flow)`` returns a flow's result; ``stream(transport, flow)`` is an async
iterator of the items it emits (failed rows), each handed on as soon as it is emitted.
"""

from __future__ import annotations

import asyncio
import functools
import os
import ssl
import time
from collections.abc import AsyncIterator, Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urljoin

import requests.utils

from . import budget, jsontext
from .bodies import BLOCK, AnswerTooLarge
from .errors import ConfigurationError, ImportBridgeError, PluginError, TransportError
from .flows import Emit, Read, Request, Response, StreamedBody
from .httprules import (
    CREDENTIALS_SOURCE,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_TIMEOUT,
    ERROR_BODY_BYTES,
    CrossOrigin,
    Retry,
    RetryPolicy,
    Rules,
    checked_base_url,
    classify,
    error_body,
    is_safe,
    origin,
    out_of_budget,
    retry_after_seconds,
)

if TYPE_CHECKING:
    import aiohttp

    from .flows import Flow
    from .provider import Provider
    from .settings import Settings

__all__ = ["AsyncTransport", "run", "stream"]

T = TypeVar("T")

#: redirect statuses, and those after which the next request is a GET (as requests does it)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 30


def require_aiohttp() -> Any:
    """The aiohttp module, or a ``ConfigurationError`` saying which extra to install."""
    try:
        import aiohttp
    except ImportError:
        raise ConfigurationError(
            "the asyncio engine needs aiohttp: pip install 'importbridge[async]'"
        ) from None
    return aiohttp


def bundle_context(path: str) -> ssl.SSLContext:
    """The TLS context trusting the CA bundle at ``path``, shared by every transport while the
    file stays the same: reading a bundle (certifi's holds about 150 certificates) takes tens
    of milliseconds, which a service making a client per task would otherwise spend on its
    event loop each time. A bundle rewritten in place (another size or modification time) is
    read afresh."""
    info = os.stat(path)
    return _bundle_context(os.path.realpath(path), info.st_mtime_ns, info.st_size, info.st_ino)


@functools.lru_cache(maxsize=8)
def _bundle_context(path: str, mtime_ns: int, size: int, inode: int) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=path)


class AsyncTransport:
    """One provider connection's asyncio HTTP: a pooled ``aiohttp.ClientSession`` plus the rules.

    The session is opened on first use, inside the running event loop; ``await close()`` (or
    ``async with``) releases it.
    """

    def __init__(
        self,
        provider: Provider,
        settings: Settings,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        pool_size: int = 100,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        self._lib = require_aiohttp()
        self.base_url = checked_base_url(provider, settings, max_response_bytes)
        self.provider = provider
        self.settings = settings
        self.rules = Rules(provider, settings, self.base_url)
        self.timeout = timeout
        connect, read = budget.attempt_timeout(timeout, None, 0.0)
        self._timeout = self._lib.ClientTimeout(total=None, sock_connect=connect, sock_read=read)
        self.retry = retry or RetryPolicy()
        self.pool_size = pool_size
        self.max_response_bytes = max_response_bytes
        credentials = provider.auth_headers(settings)
        self._credentials_fault = self.rules.header_error(credentials, CREDENTIALS_SOURCE)
        from . import __version__

        self._headers = {**credentials, "User-Agent": f"importbridge/{__version__} ({provider.name})"}
        self._session: aiohttp.ClientSession | None = None
        # one origin per transport: its proxy from the environment, read once (as the sync engine does)
        proxies = requests.utils.get_environ_proxies(self.base_url)
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        self._ssl: ssl.SSLContext | bool = True  # the system's CAs, unless a bundle is set (as for requests)
        if bundle:
            try:
                self._ssl = bundle_context(bundle)
            except (OSError, ssl.SSLError) as exc:
                raise ConfigurationError(
                    f"{provider.name}: the CA bundle {bundle!r} (REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE) "
                    f"cannot be read: {exc}"
                ) from None
        self._proxy = proxies.get(self.base_url.split(":", 1)[0]) or proxies.get("all")

    def __repr__(self) -> str:
        return f"<AsyncTransport {self.provider.name} {self.settings.redact(self.base_url)}>"

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            lib = require_aiohttp()
            self._session = lib.ClientSession(
                headers=self._headers,
                connector=lib.TCPConnector(limit=self.pool_size, ssl=self._ssl),
                trust_env=False,  # the environment's proxy is read once (in __init__), not per request
            )
            # aiohttp resends a GET, PUT or DELETE once by itself when a kept-alive connection
            # drops; resending is the retry rule's call alone (a PUT may not be safe to resend),
            # and a hidden attempt would escape its count, its waits and its log line
            if hasattr(self._session, "_retry_connection"):
                self._session._retry_connection = False
        return self._session

    async def close(self) -> None:
        """Release pooled connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> AsyncTransport:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _sleep(self, seconds: float) -> None:
        if self.retry.sleep is time.sleep:
            await asyncio.sleep(seconds)
        else:
            self.retry.sleep(seconds)  # a test's virtual sleep

    # -- one request, retried by the rules ----------------------------------------------------

    async def send(self, request: Request) -> tuple[Response, _Streamed | None]:
        """Carry out one ``Request``: its ``Response`` (and, for ``stream=True``, its body to read)
        or an error of our tree."""
        rules = self.rules
        method = request.method.upper()
        url = rules.url(request.path)
        safe = is_safe(method, request.idempotent)
        headers = dict(request.headers)
        fault = self._credentials_fault or (headers and rules.header_error(headers, "of this request"))
        if fault:
            raise ConfigurationError(fault)
        content: bytes | None = request.content
        if request.json is not None:  # encoded here, strictly, before sending
            content = rules.json_body(request.json)
            headers = {"Content-Type": "application/json", **headers}
        elif request.body is not None:
            headers.setdefault("Content-Type", request.body.content_type)
            if request.body.length is not None:
                headers["Content-Length"] = str(request.body.length)
        policy = self.retry
        delays = policy.delays()
        left = budget.remaining()
        deadline = budget.deadline(time.monotonic())
        started = policy.clock()
        attempt = 0
        while True:
            attempt += 1
            began = policy.clock()
            data: Any = content if request.body is None else _pieces(request.body)
            try:
                return await self._attempt(
                    request, method, url, headers, data, safe, attempt, began, deadline
                )
            except Retry as retry:
                wait = retry.retry_after
                if wait is None:
                    wait = next(delays)
                if out_of_budget(
                    policy, attempt=attempt, wait=wait, retry_after=retry.retry_after,
                    elapsed=policy.clock() - started, left=left, deadline=deadline, now=time.monotonic(),
                ):  # fmt: skip
                    raise (retry.error or rules.transport_error(method, url, retry.reason, attempt)) from None
                rules.log_retry(method, url, wait, retry.reason)
                await self._sleep(wait)

    async def _attempt(
        self,
        request: Request,
        method: str,
        url: str,
        headers: Mapping[str, str],
        data: Any,
        safe: bool,
        attempt: int,
        began: float,
        deadline: float | None,
    ) -> tuple[Response, _Streamed | None]:
        lib = self._lib
        rules = self.rules
        outcome = "?"
        timeout = self._timeout
        if deadline is not None:
            connect, read = budget.attempt_timeout(self.timeout, deadline, time.monotonic())
            timeout = lib.ClientTimeout(total=None, sock_connect=connect, sock_read=read)
        answer: aiohttp.ClientResponse | None = None
        try:
            exchange = self._exchange(method, url, request.params, headers, data, timeout)
            answer = got = await (exchange if deadline is None else _within(deadline, exchange))
            outcome = str(got.status)
            status, answer_headers = got.status, dict(got.headers)
            if status >= 400:
                await self._fail(got, method, url, safe)
            if request.stream:
                streamed = _Streamed(self, request, got, deadline)  # the flow reads it, then it is released
                answer = None
                return Response(status, answer_headers), streamed
            reading = _read_capped(got, self.max_response_bytes)
            body = await (reading if deadline is None else _within(deadline, reading))
        except CrossOrigin as redirect:
            outcome = str(redirect.status)
            raise rules.redirect_error(method, url, safe, redirect.target, redirect.status) from None
        except AnswerTooLarge as large:
            raise rules.too_large(method, url, safe, f"HTTP {outcome}: {large}", large.limit) from None
        except lib.ClientConnectorCertificateError as exc:
            outcome = type(exc).__name__
            raise rules.tls_error(exc) from None
        except lib.ClientConnectorSSLError as exc:
            outcome = type(exc).__name__
            raise rules.tls_error(exc) from None
        except (lib.ClientConnectorError, lib.ConnectionTimeoutError) as exc:
            outcome = type(exc).__name__  # the connection was never opened: nothing was sent
            raise Retry(f"{type(exc).__name__}: {rules.redacted(str(exc))}") from None
        except (lib.ClientError, asyncio.TimeoutError) as exc:
            outcome = type(exc).__name__
            reason = f"{type(exc).__name__}: {rules.redacted(str(exc)) or 'timed out'}"
            if not safe:
                raise rules.unknown(method, url, f"{reason} (the request may have been processed)") from None
            raise Retry(reason) from None
        except (ValueError, TypeError) as exc:  # raised while encoding the request: nothing was sent
            outcome = type(exc).__name__
            raise rules.local_error(exc) from None
        finally:
            rules.log(method, url, request.params, outcome, attempt, self.retry.clock() - began)
            if answer is not None:
                answer.release()
        if not body:
            return Response(status, answer_headers), None
        try:
            from .longarrays import loads_for  # (a flow's answer: connect() needs none of it)

            data = loads_for(self.provider, body)  # a long one's row arrays in chunks
        except jsontext.JSONTextError as exc:  # truncated, garbled or not strict JSON: the answer is lost
            reason = rules.unreadable(outcome, exc)
            if not safe:
                raise rules.unknown(method, url, reason) from None
            raise Retry(reason) from None
        return Response(status, answer_headers, data), None

    async def _exchange(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str],
        data: Any,
        timeout: aiohttp.ClientTimeout,
    ) -> aiohttp.ClientResponse:
        """Send, following redirects on ``base_url``'s origin only (as requests rewrites them)."""
        session = self._open()
        home = origin(self.base_url)
        answer = await session.request(
            method, url, params=params, data=data, headers=headers, timeout=timeout,
            allow_redirects=False, proxy=self._proxy,
        )  # fmt: skip
        for _ in range(MAX_REDIRECTS):
            location = answer.headers.get("Location")
            if answer.status not in REDIRECTS or not location:
                return answer
            target = urljoin(str(answer.url), location)
            if origin(target) != home:
                answer.release()
                raise CrossOrigin(target, answer.status)
            await _read_capped(answer, ERROR_BODY_BYTES, prefix=True)  # drained within the cap
            answer.release()
            if (answer.status in (302, 303) and method != "HEAD") or (
                answer.status == 301 and method == "POST"
            ):
                method, data = "GET", None
                headers = {
                    k: v for k, v in headers.items() if k.lower() not in ("content-type", "content-length")
                }
            answer = await session.request(
                method, target, data=data, headers=headers, timeout=timeout,
                allow_redirects=False, proxy=self._proxy,
            )  # fmt: skip
        answer.release()
        raise TransportError(
            f"{self.provider.name}: {method} {self.rules.loggable(url)}: more than {MAX_REDIRECTS} redirects",
            provider=self.provider.name,
            method=method,
            url=self.rules.loggable(url),
        )

    async def _fail(self, answer: aiohttp.ClientResponse, method: str, url: str, safe: bool) -> None:
        """Raise for an error status: ``Retry`` when the rule allows, else the mapped error."""
        status = answer.status
        retry_after = retry_after_seconds(answer.headers)
        try:
            raw = await _read_capped(answer, ERROR_BODY_BYTES, prefix=True)
            body: Any = error_body(raw, answer.charset)
        except Exception:  # an error answer that breaks off still has its status
            body = ""
        error = self.rules.provider_error(status, body, method, retry_after)
        verdict = classify(status, safe)
        if verdict == "retry":
            raise Retry(f"HTTP {status}", retry_after=retry_after, error=error)
        if verdict == "unknown":
            raise self.rules.unknown(method, url, f"{error} (the request may have been processed)")
        raise error


class _Streamed:
    """A streamed answer's body, read chunk by chunk; a break-off becomes ``TransportError``."""

    def __init__(
        self,
        transport: AsyncTransport,
        request: Request,
        answer: aiohttp.ClientResponse,
        deadline: float | None,
    ) -> None:
        self._transport = transport
        self._request = request
        self._answer = answer
        self._deadline = deadline

    async def read(self, size: int) -> bytes:
        lib = self._transport._lib
        if self._answer.closed and self._answer.content.at_eof():
            return b""
        try:
            chunk = await _within(self._deadline, self._answer.content.read(max(1, size)))
        except (lib.ClientError, asyncio.TimeoutError) as exc:
            self.close()
            name = self._transport.provider.name
            reason = self._transport.rules.redacted(f"{type(exc).__name__}: {exc}")
            raise TransportError(
                f"{name}: {self._request.method} {self._request.path}: the answer broke off while "
                f"it was read ({reason})",
                provider=name,
                method=self._request.method,
            ) from None
        if not chunk:
            self.close()
        return bytes(chunk)

    def close(self) -> None:
        self._answer.release()


async def _pieces(body: StreamedBody) -> AsyncIterator[bytes]:
    """A ``StreamedBody`` as aiohttp sends it: from its first byte, on each attempt."""
    for piece in body.chunks():
        yield bytes(piece)


async def _within(deadline: float | None, step: Awaitable[T]) -> T:
    """``step``, cut off (``asyncio.TimeoutError``) when a wait's deadline passes."""
    if deadline is None:
        return await step
    return await asyncio.wait_for(step, max(deadline - time.monotonic(), 1e-3))


async def _read_capped(answer: aiohttp.ClientResponse, limit: int, *, prefix: bool = False) -> bytes:
    """The decoded body, read block by block; past ``limit`` bytes ``AnswerTooLarge`` (or, with
    ``prefix``, the first ``limit`` bytes)."""
    length = answer.content_length
    if length is not None and length <= limit and "Content-Encoding" not in answer.headers:
        return await answer.read()  # its declared size is within the cap, and nothing inflates it
    body = bytearray()
    while True:
        block = await answer.content.read(BLOCK)
        if not block:
            return bytes(body)
        body += block
        if len(body) > limit:
            answer.close()
            if prefix:
                return bytes(body[:limit])
            raise AnswerTooLarge(limit)


# -- the driver -----------------------------------------------------------------------------


class _Done:
    """The flow has returned ``value``."""

    def __init__(self, value: Any) -> None:
        self.value = value


class _Driver:
    """Carries one flow out, step by step: ``advance`` runs it to its next ``Emit`` (the items)
    or its end (``_Done``). The flow is closed, and a streamed answer released, by ``close``."""

    def __init__(self, transport: AsyncTransport, flow: Flow[Any]) -> None:
        self.transport = transport
        self.flow = flow
        self.answer: _Streamed | None = None
        self.reply: Response | bytes | None = None
        self.error: BaseException | None = None

    async def advance(self) -> Sequence[Any] | _Done:
        name = self.transport.provider.name
        while True:
            try:
                if self.error is not None:
                    thrown, self.error = self.error, None
                    step = self.flow.throw(thrown)
                else:
                    step = self.flow.send(self.reply)
            except StopIteration as stop:
                return _Done(stop.value)
            self.reply = None
            if isinstance(step, Request):
                if self.answer is not None:
                    self.answer.close()
                    self.answer = None
                try:
                    self.reply, self.answer = await self.transport.send(step)
                except ImportBridgeError as exc:
                    self.error = exc
            elif isinstance(step, Emit):
                return step.items
            elif isinstance(step, Read):
                if self.answer is None:
                    self.error = PluginError(
                        f"{name}: a flow yielded Read without a streamed Request before it"
                    )
                    continue
                try:
                    self.reply = await self.answer.read(step.size)
                except TransportError as exc:
                    self.answer = None
                    self.error = exc
            else:
                self.error = PluginError(
                    f"{name}: a flow yielded {type(step).__name__}; it may yield only Request, Read and Emit"
                )

    def close(self) -> None:
        if self.answer is not None:
            self.answer.close()
        self.flow.close()


async def run(transport: AsyncTransport, flow: Flow[T]) -> T:
    """Carry ``flow`` out to its end and return its result (emitted items are not expected)."""
    driver = _Driver(transport, flow)
    try:
        outcome = await driver.advance()
    finally:
        driver.close()
    if isinstance(outcome, _Done):
        return outcome.value  # type: ignore[no-any-return]
    raise PluginError(
        f"{transport.provider.name}: a flow that returns one result emitted {type(outcome).__name__} items"
    )


async def stream(transport: AsyncTransport, flow: Flow[Any]) -> AsyncIterator[Any]:
    """The items ``flow`` emits, each as soon as it is emitted (its return value is dropped)."""
    driver = _Driver(transport, flow)
    try:
        while not isinstance(items := await driver.advance(), _Done):
            for item in items:
                yield item
    finally:
        driver.close()
