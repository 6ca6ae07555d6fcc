"""HTTP to a provider: one pooled session, timeouts, retries that never import twice, error mapping.

Every request goes through ``Transport.request``. Its retry rule is the whole safety story:

- a failure before the request left (connection refused, connect timeout) is always retried;
- 408, 429 and 503 say "not processed": always retried, honouring ``retry-after-ms`` / ``Retry-After``;
- 500, 502, 504, a read timeout, a reset after sending, a truncated answer: retried only when the
  request is idempotent (GETs, or a POST carrying an idempotency key); for any other request the
  provider may have acted on it, so ``SubmitOutcomeUnknown`` is raised instead of a blind retry.

Waits grow exponentially with full jitter (``backoff.expo`` + ``backoff.full_jitter``), bounded by
``RetryPolicy``: attempts, per-wait cap, total time. Every attempt logs one DEBUG line on the
``importbridge`` logger; no secret ever reaches a log line, an exception or a repr.

Four more rules keep what is local local and what is bounded bounded:

- credentials go to ``base_url``'s origin only: a redirect to another origin is refused, never
  followed (``_redirect_guard``), so no header, cookie or body reaches an origin nobody configured;
- a request that cannot be encoded (a body JSON cannot carry, a header HTTP cannot carry, TLS
  refused by the server before anything was sent) is the caller's error, raised at once;
- a wait's deadline (``importbridge.budget``) caps every attempt's timeouts and cuts off an
  answer still arriving when it passes (``importbridge.wire``);
- an answer is read within ``max_response_bytes`` once decoded (``importbridge.bodies``), except
  a ``stream=True`` success, which the caller reads incrementally.
"""

from __future__ import annotations

import logging
import os
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urljoin

import attrs
import requests
import requests.utils

from . import budget, jsontext
from .bodies import AnswerTooLarge, read_capped
from .errors import ConfigurationError
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
    server_time,
)
from .settings import Settings
from .wire import DeadlineAdapter, exchange

if TYPE_CHECKING:
    from .flows import Flow, FlowContext
    from .provider import Provider

T = TypeVar("T")

__all__ = [
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "Connection",
    "RetryPolicy",
    "Transport",
    "origin",
    "retry_after_seconds",
    "server_time",
]

logger = logging.getLogger("importbridge")


class Transport:
    """One provider connection's HTTP: a pooled ``requests.Session`` plus the retry/error rules.

    ``timeout`` is (connect, read) seconds per attempt; ``max_response_bytes`` caps an answer's
    decoded size (``ResponseTooLarge`` past it).
    """

    def __init__(
        self,
        provider: Provider,
        settings: Settings,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        pool_size: int = 32,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    ) -> None:
        base_url = checked_base_url(provider, settings, max_response_bytes)
        self.provider = provider
        self.settings = settings
        self.base_url = base_url
        self.rules = Rules(provider, settings, base_url)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.max_response_bytes = max_response_bytes
        self.session = requests.Session()
        adapter = DeadlineAdapter(pool_connections=4, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        credentials = provider.auth_headers(settings)
        # a credential HTTP cannot carry is reported by each request, as a ConfigurationError
        self._credentials_fault = self.rules.header_error(credentials, CREDENTIALS_SOURCE)
        self.session.headers.update(credentials)
        self.session.headers["User-Agent"] = f"importbridge/{_version()} ({provider.name})"
        # one origin per transport: read the environment's proxy and CA settings once, instead of
        # requests re-scanning os.environ (and ~/.netrc) on every call
        self.session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            self.session.verify = bundle
        self.session.trust_env = False
        self._origin = origin(self.base_url)

    def __repr__(self) -> str:
        return f"<Transport {self.provider.name} {self.settings.redact(self.base_url)}>"

    def close(self) -> None:
        """Release pooled connections."""
        self.session.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- requests -----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """Send one request with retries; a response below 400, or an exception from our tree.

        ``path`` is appended to ``base_url`` (an absolute URL must share its origin, so
        credentials never travel elsewhere). ``idempotent=None`` means GET/HEAD/OPTIONS only.
        """
        response, _ = self._send(
            method, path, params, json, data, files, headers, idempotent, stream, decode=False
        )
        return response

    def request_json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Any = None,
        files: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
    ) -> tuple[requests.Response, Any]:
        """``request`` plus the decoded JSON body (None for an empty one); an undecodable body
        counts as a lost answer."""
        return self._send(method, path, params, json, data, files, headers, idempotent, False, decode=True)

    def url(self, path: str) -> str:
        """The absolute URL for ``path`` (relative to ``base_url``, or absolute on the same origin)."""
        return self.rules.url(path)

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Any,
        files: Any,
        headers: Mapping[str, str] | None,
        idempotent: bool | None,
        stream: bool,
        *,
        decode: bool,
    ) -> tuple[requests.Response, Any]:
        rules = self.rules
        method = method.upper()
        url = rules.url(path)
        safe = is_safe(method, idempotent)
        fault = self._credentials_fault or (headers and rules.header_error(headers, "of this request"))
        if fault:
            raise ConfigurationError(fault)
        if json is not None and data is None and not files:  # encoded here, strictly, before sending
            data, headers = rules.json_body(json), {"Content-Type": "application/json", **(headers or {})}
        policy = self.retry
        rewind = _rewinder(data, files)
        delays = policy.delays()
        left = budget.remaining()  # a wait's deadline, if one is polling (importbridge.budget)
        deadline = budget.deadline(time.monotonic())
        started = policy.clock()
        attempt = 0
        while True:
            attempt += 1
            if attempt > 1:
                rewind()
            began = policy.clock()
            try:
                return self._attempt(
                    method, url, params, data, files, headers, safe, stream, decode, attempt, began, deadline
                )
            except Retry as retry:
                wait = retry.retry_after
                if wait is None:
                    wait = next(delays)
                if out_of_budget(
                    policy, attempt=attempt, wait=wait, retry_after=retry.retry_after,
                    elapsed=policy.clock() - started, left=left, deadline=deadline, now=time.monotonic(),
                    rewindable=rewind is not _cannot_rewind,
                ):  # fmt: skip
                    raise (retry.error or rules.transport_error(method, url, retry.reason, attempt)) from None
                rules.log_retry(method, url, wait, retry.reason)
                policy.sleep(wait)

    def _attempt(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        data: Any,
        files: Any,
        headers: Mapping[str, str] | None,
        safe: bool,
        stream: bool,
        decode: bool,
        attempt: int,
        began: float,
        deadline: float | None,
    ) -> tuple[requests.Response, Any]:
        """One exchange, within the deadline: the response (its body read unless a streamed
        success) and the decoded JSON when ``decode``; ``Retry`` or an error of our tree."""
        rules = self.rules
        outcome = "?"
        response: requests.Response | None = None
        with exchange(deadline) as current:
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    data=data,
                    files=files,
                    headers=dict(headers) if headers else None,
                    timeout=budget.attempt_timeout(self.timeout, deadline, time.monotonic()),
                    stream=True,  # the body is read here, within the cap and the deadline
                    hooks={"response": self._redirect_guard},
                )
                outcome = str(response.status_code)
                if response.status_code >= 400:
                    self._fail(response, method, url, safe)
                body = None if stream else read_capped(response, self.max_response_bytes)
            except CrossOrigin as redirect:
                outcome = str(redirect.status)
                raise rules.redirect_error(method, url, safe, redirect.target, redirect.status) from None
            except AnswerTooLarge as large:
                raise rules.too_large(method, url, safe, f"HTTP {outcome}: {large}", large.limit) from None
            except ValueError as exc:  # raised while encoding the request: nothing could be sent
                outcome = type(exc).__name__
                raise rules.local_error(exc) from None
            except requests.RequestException as exc:
                outcome = type(exc).__name__
                if response is not None:  # the answer broke off while its body was read
                    response.close()
                unsent = not current.connected or _surely_unsent(exc)
                if unsent and _tls_refused(exc):
                    cause = next((cause for cause in _causes(exc) if isinstance(cause, ssl.SSLError)), exc)
                    raise rules.tls_error(cause) from None
                reason = f"{type(exc).__name__}: {rules.redacted(str(exc))}"
                if not unsent and not safe:
                    raise rules.unknown(
                        method, url, f"{reason} (the request may have been processed)"
                    ) from None
                raise Retry(reason) from None
            finally:
                rules.log(method, url, params, outcome, attempt, self.retry.clock() - began)
        if body is None:
            return response, None
        response._content = body  # what requests keeps for .content / .json() once read
        if not decode or not body:  # an empty answer (204) decodes to None, as in the asyncio engine
            return response, None
        try:
            from .longarrays import loads_for  # (a flow's answer: connect() needs none of it)

            return response, loads_for(self.provider, body)  # a long one's row arrays in chunks
        except jsontext.JSONTextError as exc:  # truncated, garbled or not strict JSON: the answer is lost
            reason = rules.unreadable(outcome, exc)
            if not safe:
                raise rules.unknown(method, url, reason) from None
            raise Retry(reason) from None

    def _redirect_guard(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """A requests response hook: refuse a redirect to another origin before it is followed."""
        if not response.is_redirect:
            return
        target = urljoin(response.url, self.session.get_redirect_target(response) or "")
        if origin(target) != self._origin:
            response.close()
            raise CrossOrigin(target, response.status_code)
        read_capped(response, ERROR_BODY_BYTES, prefix=True)  # drained here, within the cap

    def _fail(self, response: requests.Response, method: str, url: str, safe: bool) -> None:
        """Raise for an error status: ``Retry`` when the policy may retry, else the mapped error."""
        status = response.status_code
        retry_after = retry_after_seconds(response.headers)
        error = self.rules.provider_error(status, _error_body(response), method, retry_after)
        response.close()
        verdict = classify(status, safe)
        if verdict == "retry":
            raise Retry(f"HTTP {status}", retry_after=retry_after, error=error)
        if verdict == "unknown":
            raise self.rules.unknown(method, url, f"{error} (the request may have been processed)")
        raise error


@attrs.frozen
class Connection:
    """What ``Provider.submit`` / ``get`` / ``failed_rows`` receive: who, with which settings, how.

    ``settings`` is a ``Settings`` mapping whose repr redacts secrets. ``run`` and ``stream``
    carry a provider's flow out over ``transport`` (the sync engine, ``importbridge.syncengine``).
    """

    provider: Provider
    settings: Mapping[str, str]
    transport: Transport

    @property
    def context(self) -> FlowContext:
        """What a flow may know of this connection: the provider's name and its settings."""
        from .flows import FlowContext  # here and below: connect() itself runs no flow

        return FlowContext(provider=self.provider.name, settings=self.settings)

    def run(self, flow: Flow[T]) -> T:
        """Carry ``flow`` out and return its result."""
        from . import syncengine

        return syncengine.run(self.transport, flow)

    def stream(self, flow: Flow[Any]) -> Iterator[Any]:
        """The items ``flow`` emits, as they come."""
        from . import syncengine

        return syncengine.stream(self.transport, flow)


def _error_body(response: requests.Response) -> Any:
    """An error answer's body for its message (``httprules.error_body``; "" if it cannot be read)."""
    try:
        raw = read_capped(response, ERROR_BODY_BYTES, prefix=True)
    except requests.RequestException:
        return ""
    return error_body(raw, response.encoding)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps (requests and urllib3 nest the original error in args and reason)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = [getattr(current, "reason", None), *current.args, current.__cause__, current.__context__]
        todo.extend(item for item in wrapped if isinstance(item, BaseException))


#: TLS failures a busy or restarting server causes: worth another attempt
_TRANSIENT_TLS = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)


def _tls_refused(exc: requests.RequestException) -> bool:
    """Whether the TLS handshake itself failed for good: the server does not speak TLS there,
    or its certificate is not trusted. Resending cannot help."""
    if not isinstance(exc, requests.exceptions.SSLError):
        return False
    return not any(isinstance(cause, _TRANSIENT_TLS) for cause in _causes(exc))


def _surely_unsent(exc: BaseException) -> bool:
    """Whether a requests failure happened before any byte of the request could be processed.

    Only failures to open the connection qualify; a reset or a timeout after connecting may
    come after the server received (and acted on) the request.
    """
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    if not isinstance(exc, requests.exceptions.ConnectionError) or isinstance(
        exc, requests.exceptions.ReadTimeout
    ):
        return False
    import urllib3.exceptions

    reason = exc.args[0] if exc.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    return isinstance(reason, urllib3.exceptions.ConnectTimeoutError)  # NewConnectionError included


def _cannot_rewind() -> None:
    """Marker: the body was a one-shot iterator, so the request cannot be sent again."""


def _rewinder(data: Any, files: Any = None) -> Callable[[], None]:
    """How to send a body again: seek file-likes back (``data`` and each of ``files``), reuse
    bytes and mappings; a one-shot iterator cannot be resent (``_cannot_rewind``)."""
    # requests' files: {field: value} or [(field, value)], a value being a file or (name, file, ...)
    values = list(files.values()) if isinstance(files, Mapping) else [value for _, value in files or ()]
    bodies = [data, *(value[1] if isinstance(value, tuple) else value for value in values)]
    steps = []
    for body in bodies:
        if body is None or isinstance(body, (bytes, bytearray, str, Mapping, list, tuple)):
            continue
        if not (hasattr(body, "seek") and hasattr(body, "tell")):
            return _cannot_rewind
        steps.append((body, body.tell()))

    def rewind() -> None:
        for body, start in steps:
            body.seek(start)

    return rewind


def _version() -> str:
    from . import __version__

    return __version__
