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

import email.utils
import logging
import os
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import attrs
import requests
import requests.utils

from . import budget, jsontext, syncengine
from .bodies import AnswerTooLarge, BodyFault, encode_json, header_fault, read_capped
from .errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    InputError,
    JobNotFound,
    ProviderError,
    RateLimited,
    ResponseTooLarge,
    SubmitOutcomeUnknown,
    TransportError,
)
from .flows import FlowContext
from .settings import Settings
from .wire import DeadlineAdapter, exchange

if TYPE_CHECKING:
    from .flows import Flow
    from .provider import Provider

T = TypeVar("T")

__all__ = ["Connection", "RetryPolicy", "Transport"]

logger = logging.getLogger("importbridge")

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: statuses that mean "the request was not processed": safe to resend whatever the method
NOT_PROCESSED = frozenset({408, 429, 503})
#: server failures after which a request may or may not have taken effect
MAYBE_PROCESSED = frozenset({500, 502, 504})
ERROR_CLASSES: Mapping[int, type[ProviderError]] = {
    401: AuthenticationError,
    403: AuthenticationError,
    404: JobNotFound,
    409: ConflictError,
    429: RateLimited,
}
#: redirect statuses a server may send after acting on the request (see Other, Found)
REDIRECT_AFTER_ACTING = frozenset({302, 303})
DEFAULT_TIMEOUT = (5.0, 60.0)  # (connect, read) seconds
#: the default cap on an answer's decoded size
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024
#: how much of an error answer (or a redirect's) is read for its message
ERROR_BODY_BYTES = 64 * 1024
MAX_MESSAGE = 500


def full_jitter(value: float) -> float:
    """``backoff.full_jitter``; backoff is imported on the first retry, not at ``connect()``
    (it imports asyncio, which costs a process about as much as requests itself)."""
    import backoff

    return float(backoff.full_jitter(value))


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How hard to retry: ``tries`` attempts, waits ``base * 2**n`` (full jitter, at most ``cap``),
    all within ``total`` seconds; a ``Retry-After`` beyond ``retry_after_cap`` is not waited for.

    ``sleep``, ``clock`` and ``jitter`` are injectable so tests can observe waits without waiting.
    """

    tries: int = 6
    base: float = 0.5
    cap: float = 8.0
    total: float = 60.0
    retry_after_cap: float = 60.0
    sleep: Callable[[float], None] = attrs.field(default=time.sleep, repr=False)
    clock: Callable[[], float] = attrs.field(default=time.monotonic, repr=False)
    jitter: Callable[[float], float] = attrs.field(default=full_jitter, repr=False)

    def delays(self) -> Iterator[float]:
        """The jittered backoff waits, one per retry."""
        import backoff

        waits = backoff.expo(base=2, factor=self.base, max_value=self.cap)
        next(waits)  # backoff's generators start with a priming yield
        for value in waits:
            yield self.jitter(value)


class _Retry(Exception):
    """Internal: this attempt failed in a way the policy may retry."""

    def __init__(self, reason: str, retry_after: float | None = None, error: Exception | None = None):
        self.reason = reason
        self.retry_after = retry_after
        self.error = error  # what to raise when no retry is left
        super().__init__(reason)


class _CrossOrigin(Exception):
    """Internal: the server redirected to ``target`` (another origin) with ``status``."""

    def __init__(self, target: str, status: int) -> None:
        self.target = target
        self.status = status
        super().__init__(target)


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
        base_url = settings.get("base_url", "")
        if not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"{provider.name}: base_url must be an http(s) URL, got {settings.redact(base_url)!r}"
            )
        if (
            isinstance(max_response_bytes, bool)
            or not isinstance(max_response_bytes, int)
            or max_response_bytes < 1
        ):
            raise ConfigurationError(
                f"max_response_bytes must be a positive number of bytes, got {max_response_bytes!r}"
            )
        self.provider = provider
        self.settings = settings
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.max_response_bytes = max_response_bytes
        self.session = requests.Session()
        adapter = DeadlineAdapter(pool_connections=4, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        credentials = provider.auth_headers(settings)
        # a credential HTTP cannot carry is reported by each request, as a ConfigurationError
        self._credentials_fault = self._header_error(
            credentials, "from the provider's credentials; check the settings for a stray character"
        )
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
        if path.startswith(("http://", "https://")):
            if origin(path) != self._origin:
                raise ConfigurationError(
                    f"{self.provider.name}: refusing to send credentials to another origin: "
                    f"{self.settings.redact(path)}"
                )
            return path
        return self.base_url + (path if path.startswith("/") else "/" + path)

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
        method = method.upper()
        url = self.url(path)
        safe = method in READ_METHODS if idempotent is None else idempotent
        fault = self._credentials_fault or (headers and self._header_error(headers, "of this request"))
        if fault:
            raise ConfigurationError(fault)
        if json is not None and data is None and not files:  # encoded here, strictly, before sending
            data, headers = self._json_body(json), {"Content-Type": "application/json", **(headers or {})}
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
            except _Retry as retry:
                wait = retry.retry_after
                if wait is None:
                    wait = next(delays)
                elapsed = policy.clock() - started
                total = policy.total if left is None else min(policy.total, left)
                out_of_budget = (
                    attempt >= policy.tries
                    or rewind is _cannot_rewind
                    or (retry.retry_after is not None and retry.retry_after > policy.retry_after_cap)
                    or elapsed + wait > total
                    or (deadline is not None and time.monotonic() + wait >= deadline)
                )
                if out_of_budget:
                    raise (retry.error or self._transport_error(method, url, retry.reason, attempt)) from None
                logger.debug("retrying %s %s in %.3fs: %s", method, self._loggable(url), wait, retry.reason)
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
        success) and the decoded JSON when ``decode``; ``_Retry`` or an error of our tree."""
        shown = self._loggable(url, params)
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
            except _CrossOrigin as redirect:
                outcome = str(redirect.status)
                raise self._redirect_error(method, url, safe, redirect) from None
            except AnswerTooLarge as large:
                reason = f"HTTP {outcome}: {large}"
                if not safe:
                    raise self._unknown(method, url, reason) from None
                raise ResponseTooLarge(
                    f"{self.provider.name}: {method} {self._loggable(url)}: {reason}; raise "
                    "max_response_bytes (connect(max_response_bytes=...)) if the answer is expected",
                    provider=self.provider.name,
                    method=method,
                    url=self._loggable(url),
                    limit=large.limit,
                ) from None
            except ValueError as exc:  # raised while encoding the request: nothing could be sent
                outcome = type(exc).__name__
                raise self._local_error(exc) from None
            except requests.RequestException as exc:
                outcome = type(exc).__name__
                if response is not None:  # the answer broke off while its body was read
                    response.close()
                unsent = not current.connected or _surely_unsent(exc)
                if unsent and _tls_refused(exc):
                    raise self._tls_error(exc) from None
                reason = f"{type(exc).__name__}: {self.settings.redact(str(exc))[:MAX_MESSAGE]}"
                if not unsent and not safe:
                    raise self._unknown(
                        method, url, f"{reason} (the request may have been processed)"
                    ) from None
                raise _Retry(reason) from None
            finally:
                self._log(method, shown, outcome, attempt, began)
        if body is None:
            return response, None
        response._content = body  # what requests keeps for .content / .json() once read
        if not decode or not body:  # an empty answer (204) decodes to None, as in the asyncio engine
            return response, None
        try:
            return response, jsontext.loads(body)
        except jsontext.JSONTextError as exc:  # truncated, garbled or not strict JSON: the answer is lost
            reason = (
                f"HTTP {outcome} with an unreadable body ({self.settings.redact(str(exc))[:MAX_MESSAGE]})"
            )
            if not safe:
                raise self._unknown(method, url, reason) from None
            raise _Retry(reason) from None

    def _redirect_guard(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """A requests response hook: refuse a redirect to another origin before it is followed."""
        if not response.is_redirect:
            return
        target = urljoin(response.url, self.session.get_redirect_target(response) or "")
        if origin(target) != self._origin:
            response.close()
            raise _CrossOrigin(target, response.status_code)
        read_capped(response, ERROR_BODY_BYTES, prefix=True)  # drained here, within the cap

    def _redirect_error(self, method: str, url: str, safe: bool, redirect: _CrossOrigin) -> Exception:
        scheme, host, port = origin(redirect.target)
        elsewhere = f"{scheme}://{host}:{port}"
        where = (
            f"{method} {self._loggable(url)} was redirected (HTTP {redirect.status}) to another origin, "
            + (self.settings.redact(elsewhere))
        )
        if not safe and redirect.status in REDIRECT_AFTER_ACTING:
            return self._unknown(method, url, f"{where}; not followed")
        return ConfigurationError(
            f"{self.provider.name}: {where}; credentials go only to base_url's origin, so it was not "
            "followed. If the provider has moved, set base_url to its new address"
        )

    def _local_error(self, exc: ValueError) -> ConfigurationError:
        return ConfigurationError(
            f"{self.provider.name}: the request cannot be encoded as HTTP (a setting with a stray "
            f"space or newline?): {type(exc).__name__}: {self.settings.redact(str(exc))[:MAX_MESSAGE]}"
        )

    def _tls_error(self, exc: requests.RequestException) -> ConfigurationError:
        cause = next((cause for cause in _causes(exc) if isinstance(cause, ssl.SSLError)), exc)
        return ConfigurationError(
            f"{self.provider.name}: TLS with {self.settings.redact(self.base_url)} failed before anything "
            f"was sent ({self.settings.redact(str(cause))[:MAX_MESSAGE]}): does base_url's scheme match "
            "the server (https to a plain-HTTP port?), and is its certificate trusted?"
        )

    def _json_body(self, value: Any) -> bytes:
        try:
            return encode_json(value)
        except BodyFault as fault:
            raise InputError(
                f"{self.provider.name}: the records cannot be sent: at {self.settings.redact(fault.path)} "
                f"of the request body, {fault.reason}; nothing was sent"
            ) from None

    def _header_error(self, headers: Mapping[str, str], source: str) -> str | None:
        """What is wrong with the first header HTTP cannot carry (naming it, never its value)."""
        for name, value in headers.items():
            fault = header_fault(str(name)) or (header_fault(value) if isinstance(value, str) else "")
            if fault:
                return f"{self.provider.name}: cannot send header {name!r}: it has {fault} ({source})"
        return None

    def _fail(self, response: requests.Response, method: str, url: str, safe: bool) -> None:
        """Raise for an error status: ``_Retry`` when the policy may retry, else the mapped error."""
        status = response.status_code
        retry_after = retry_after_seconds(response.headers)
        error = self._provider_error(response, method, retry_after)
        response.close()
        if status in NOT_PROCESSED or (safe and status in MAYBE_PROCESSED):
            raise _Retry(f"HTTP {status}", retry_after=retry_after, error=error)
        if status in MAYBE_PROCESSED:
            raise self._unknown(method, url, f"{error} (the request may have been processed)")
        raise error

    def _provider_error(
        self, response: requests.Response, method: str, retry_after: float | None
    ) -> ProviderError:
        status = response.status_code
        body: Any = _error_body(response)
        try:
            message, code = self.provider.error_message(status, body)
        except Exception:  # a plugin's parser must not hide the HTTP error itself
            message, code = f"HTTP {status}", None
        message = self.settings.redact(str(message))[:MAX_MESSAGE]
        code = self.settings.redact(code) if code else None
        cls = ERROR_CLASSES.get(status, ProviderError)
        if cls is JobNotFound and method not in READ_METHODS:
            cls = ProviderError  # a 404 on a submit means a wrong path or object, not a job
        retryable = status in NOT_PROCESSED or status in MAYBE_PROCESSED
        if cls is RateLimited:
            return RateLimited(self.provider.name, status, message, code=code, retry_after=retry_after)
        return cls(self.provider.name, status, message, retryable=retryable, code=code)

    def _unknown(self, method: str, url: str, reason: str) -> SubmitOutcomeUnknown:
        return SubmitOutcomeUnknown(
            f"{self.provider.name}: {method} {self._loggable(url)}: outcome unknown: {reason}; "
            "check the provider before sending it again",
            provider=self.provider.name,
            method=method,
            url=self._loggable(url),
        )

    def _transport_error(self, method: str, url: str, reason: str, attempts: int) -> TransportError:
        return TransportError(
            f"{self.provider.name}: {method} {self._loggable(url)} failed after {attempts} "
            f"attempt(s): {reason}",
            provider=self.provider.name,
            method=method,
            url=self._loggable(url),
        )

    def _log(self, method: str, url: str, status: str, attempt: int, began: float) -> None:
        if logger.isEnabledFor(logging.DEBUG):
            elapsed = self.retry.clock() - began
            logger.debug("%s %s -> %s attempt=%d elapsed=%.3fs", method, url, status, attempt, elapsed)

    def _loggable(self, url: str, params: Mapping[str, Any] | None = None) -> str:
        """The URL as it may be shown: no user-info, secrets scrubbed from path and query."""
        parts = urlsplit(url)
        netloc = parts.netloc.rsplit("@", 1)[-1]
        query = parts.query
        if params:
            query = "&".join(filter(None, [query, urlencode(params, doseq=True)]))
        return self.settings.redact(urlunsplit((parts.scheme, netloc, parts.path, query, "")))


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
        return FlowContext(provider=self.provider.name, settings=self.settings)

    def run(self, flow: Flow[T]) -> T:
        """Carry ``flow`` out and return its result."""
        return syncengine.run(self.transport, flow)

    def stream(self, flow: Flow[Any]) -> Iterator[Any]:
        """The items ``flow`` emits, as they come."""
        return syncengine.stream(self.transport, flow)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date).

    An HTTP date is measured against the response's own ``Date`` header when present (the
    server's clock), else ours. Unparseable values count as absent; negative ones as zero.
    """
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000.0)
        except ValueError:
            pass
    value = headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = _http_date(headers.get("Date")) or datetime.now(timezone.utc)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now).total_seconds())


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def server_time(response_headers: Mapping[str, str]) -> datetime:
    """The server's notion of now (its ``Date`` header), else ours."""
    return _http_date(response_headers.get("Date")) or datetime.now(timezone.utc)


def origin(url: str) -> tuple[str, str, int]:
    """A URL's origin: scheme, host name and port (the scheme's default when not given)."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # not a port number: no origin anyone configured
        port = -1
    return scheme, (parts.hostname or "").rstrip("."), port or {"http": 80, "https": 443}.get(scheme, 0)


def _error_body(response: requests.Response) -> Any:
    """An error answer's body for its message: the first ``ERROR_BODY_BYTES`` as strict JSON,
    else as text ("" if it cannot be read)."""
    try:
        raw = read_capped(response, ERROR_BODY_BYTES, prefix=True)
    except requests.RequestException:
        return ""
    try:
        return jsontext.loads(raw)
    except jsontext.JSONTextError:
        pass
    try:
        return raw.decode(response.encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return raw.decode("utf-8", errors="replace")


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
