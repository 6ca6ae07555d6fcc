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
"""

from __future__ import annotations

import email.utils
import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import attrs
import requests
import requests.adapters
import requests.utils

from .budget import remaining as retry_budget
from .errors import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    JobNotFound,
    ProviderError,
    RateLimited,
    SubmitOutcomeUnknown,
    TransportError,
)
from .settings import Settings

if TYPE_CHECKING:
    from .provider import Provider

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
DEFAULT_TIMEOUT = (5.0, 60.0)  # (connect, read) seconds
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


class Transport:
    """One provider connection's HTTP: a pooled ``requests.Session`` plus the retry/error rules."""

    def __init__(
        self,
        provider: Provider,
        settings: Settings,
        *,
        timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        pool_size: int = 32,
    ) -> None:
        base_url = settings.get("base_url", "")
        if not base_url.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"{provider.name}: base_url must be an http(s) URL, got {settings.redact(base_url)!r}"
            )
        self.provider = provider
        self.settings = settings
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update(provider.auth_headers(settings))
        self.session.headers["User-Agent"] = f"importbridge/{_version()} ({provider.name})"
        # one origin per transport: read the environment's proxy and CA settings once, instead of
        # requests re-scanning os.environ (and ~/.netrc) on every call
        self.session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if bundle:
            self.session.verify = bundle
        self.session.trust_env = False
        self._origin = urlsplit(self.base_url)[:2]

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
        """``request`` plus the decoded JSON body; an undecodable body counts as a lost answer."""
        return self._send(method, path, params, json, data, files, headers, idempotent, False, decode=True)

    def url(self, path: str) -> str:
        """The absolute URL for ``path`` (relative to ``base_url``, or absolute on the same origin)."""
        if path.startswith(("http://", "https://")):
            if urlsplit(path)[:2] != self._origin:
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
        policy = self.retry
        rewind = _rewinder(data, files)
        delays = policy.delays()
        budget = retry_budget()  # a wait's deadline, if one is polling (importbridge.budget)
        started = policy.clock()
        attempt = 0
        while True:
            attempt += 1
            if attempt > 1:
                rewind()
            began = policy.clock()
            try:
                return self._attempt(
                    method, url, params, json, data, files, headers, safe, stream, decode, attempt, began
                )
            except _Retry as retry:
                wait = retry.retry_after
                if wait is None:
                    wait = next(delays)
                elapsed = policy.clock() - started
                total = policy.total if budget is None else min(policy.total, budget)
                out_of_budget = (
                    attempt >= policy.tries
                    or rewind is _cannot_rewind
                    or (retry.retry_after is not None and retry.retry_after > policy.retry_after_cap)
                    or elapsed + wait > total
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
        json: Any,
        data: Any,
        files: Any,
        headers: Mapping[str, str] | None,
        safe: bool,
        stream: bool,
        decode: bool,
        attempt: int,
        began: float,
    ) -> tuple[requests.Response, Any]:
        shown = self._loggable(url, params)
        try:
            response = self.session.request(
                method,
                url,
                params=params,
                json=json,
                data=data,
                files=files,
                headers=dict(headers) if headers else None,
                timeout=self.timeout,
                stream=stream,
            )
        except requests.exceptions.InvalidHeader as exc:  # refused before sending: resending cannot help
            self._log(method, shown, type(exc).__name__, attempt, began)
            raise ConfigurationError(
                f"{self.provider.name}: a header is not valid HTTP (a setting with a stray space or "
                f"newline?): {self.settings.redact(str(exc))[:MAX_MESSAGE]}"
            ) from None
        except requests.RequestException as exc:
            self._log(method, shown, type(exc).__name__, attempt, began)
            sent = not _surely_unsent(exc)
            reason = f"{type(exc).__name__}: {self.settings.redact(str(exc))[:MAX_MESSAGE]}"
            if sent and not safe:
                raise self._unknown(method, url, f"{reason} (the request may have been processed)") from None
            raise _Retry(reason) from None
        self._log(method, shown, str(response.status_code), attempt, began)
        status = response.status_code
        if status >= 400:
            self._fail(response, method, url, safe)
        if not decode:
            return response, None
        try:
            return response, response.json()
        except (ValueError, requests.RequestException) as exc:  # truncated or garbled: the answer is lost
            reason = f"HTTP {status} with an unreadable body ({type(exc).__name__})"
            if not safe:
                raise self._unknown(method, url, reason) from None
            raise _Retry(reason) from None

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
        body: Any
        try:
            body = response.json()
        except (ValueError, requests.RequestException):
            try:
                body = response.text
            except requests.RequestException:
                body = ""
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

    ``settings`` is a ``Settings`` mapping whose repr redacts secrets.
    """

    provider: Provider
    settings: Mapping[str, str]
    transport: Transport


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
