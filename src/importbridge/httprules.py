"""What both engines decide, with no I/O: the retry rule, the waits, and the errors they raise.

The sync engine (``importbridge.transport``, requests) and the asyncio one
(``importbridge.aioengine``, aiohttp) differ only in how bytes move. Everything they must agree
on lives here once, as plain functions of numbers, strings and mappings:

- ``classify(status, safe)``: an error status is retried, ends in ``SubmitOutcomeUnknown``, or
  is raised as the mapped error (``ERROR_CLASSES``); ``is_safe`` says what may be resent;
- ``retry_after_seconds`` reads ``retry-after-ms`` / ``Retry-After`` in all their forms;
  ``RetryPolicy`` and ``out_of_budget`` say how long to wait and when to stop;
- ``Rules`` builds every error and log line of one connection, its secrets redacted.

The retry rule itself is spelt out in ``importbridge.transport``'s docstring.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlencode, urlsplit, urlunsplit

import attrs

from . import jsontext
from .bodies import BodyFault, encode_json, header_fault
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

if TYPE_CHECKING:
    from .provider import Provider
    from .settings import Settings

__all__ = [
    "ERROR_BODY_BYTES",
    "ERROR_CLASSES",
    "MAYBE_PROCESSED",
    "NOT_PROCESSED",
    "READ_METHODS",
    "REDIRECT_AFTER_ACTING",
    "CREDENTIALS_SOURCE",
    "DEFAULT_MAX_RESPONSE_BYTES",
    "DEFAULT_TIMEOUT",
    "CrossOrigin",
    "Retry",
    "RetryPolicy",
    "Rules",
    "checked_base_url",
    "error_body",
    "Verdict",
    "classify",
    "is_safe",
    "origin",
    "out_of_budget",
    "retry_after_seconds",
    "server_time",
]

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
#: how much of an error answer (or a redirect's) is read for its message
ERROR_BODY_BYTES = 64 * 1024
MAX_MESSAGE = 500

#: where a bad credential header came from, as an error names it
CREDENTIALS_SOURCE = "from the provider's credentials; check the settings for a stray character"

DEFAULT_TIMEOUT = (5.0, 60.0)  # (connect, read) seconds
#: the default cap on an answer's decoded size
DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024

#: what to do with an error status: send again, say the outcome is unknown, or raise the error
Verdict = Literal["retry", "unknown", "raise"]


class Retry(Exception):
    """Internal to the engines: this attempt failed in a way the policy may retry."""

    def __init__(self, reason: str, retry_after: float | None = None, error: Exception | None = None):
        self.reason = reason
        self.retry_after = retry_after
        self.error = error  # what to raise when no retry is left
        super().__init__(reason)


class CrossOrigin(Exception):
    """Internal to the engines: the server redirected to ``target`` (another origin) with ``status``."""

    def __init__(self, target: str, status: int) -> None:
        self.target = target
        self.status = status
        super().__init__(target)


def checked_base_url(provider: Provider, settings: Settings, max_response_bytes: int) -> str:
    """The connection's ``base_url`` (no trailing slash), after checking it and the size cap."""
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
    return base_url.rstrip("/")


def is_safe(method: str, idempotent: bool | None) -> bool:
    """Whether a request may be resent after a doubtful failure: the flow's say, else
    GET/HEAD/OPTIONS only."""
    return method.upper() in READ_METHODS if idempotent is None else idempotent


def classify(status: int, safe: bool) -> Verdict:
    """The retry rule for an error status (400 and up)."""
    if status in NOT_PROCESSED or (safe and status in MAYBE_PROCESSED):
        return "retry"
    if status in MAYBE_PROCESSED:
        return "unknown"
    return "raise"


def full_jitter(value: float) -> float:
    """``backoff.full_jitter``; backoff is imported on the first retry, not at ``connect()``
    (it imports asyncio, which costs a process about as much as requests itself)."""
    import backoff

    return float(backoff.full_jitter(value))


@attrs.frozen(kw_only=True)
class RetryPolicy:
    """How hard to retry: ``tries`` attempts, waits ``base * 2**n`` (full jitter, at most ``cap``),
    all within ``total`` seconds; a ``Retry-After`` beyond ``retry_after_cap`` is not waited for.

    ``sleep``, ``clock`` and ``jitter`` are injectable so tests can observe waits without waiting
    (the asyncio engine awaits ``asyncio.sleep`` unless ``sleep`` is replaced).
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


def out_of_budget(
    policy: RetryPolicy,
    *,
    attempt: int,
    wait: float,
    retry_after: float | None,
    elapsed: float,
    left: float | None,
    deadline: float | None,
    now: float,
    rewindable: bool = True,
) -> bool:
    """Whether to give up instead of waiting ``wait`` seconds for attempt ``attempt + 1``:
    attempts spent, a body that cannot be sent again, a ``Retry-After`` too long to honour, the
    policy's total time, or the wait's deadline (``left`` seconds from the start, ``deadline``
    on the monotonic clock ``now`` was read from)."""
    total = policy.total if left is None else min(policy.total, left)
    return (
        attempt >= policy.tries
        or not rewindable
        or (retry_after is not None and retry_after > policy.retry_after_cap)
        or elapsed + wait > total
        or (deadline is not None and now + wait >= deadline)
    )


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


def error_body(raw: bytes, encoding: str | None) -> Any:
    """An error answer's (first ``ERROR_BODY_BYTES`` of) body for its message: strict JSON, else text."""
    try:
        return jsontext.loads(raw)
    except jsontext.JSONTextError:
        pass
    try:
        return raw.decode(encoding or "utf-8", errors="replace")
    except LookupError:  # a charset Python does not know
        return raw.decode("utf-8", errors="replace")


@attrs.frozen
class Rules:
    """One connection's errors and log lines, secrets redacted (``Settings.redact``)."""

    provider: Provider
    settings: Settings
    base_url: str

    @property
    def name(self) -> str:
        return self.provider.name

    def loggable(self, url: str, params: Mapping[str, Any] | None = None) -> str:
        """The URL as it may be shown: no user-info, secrets scrubbed from path and query."""
        parts = urlsplit(url)
        netloc = parts.netloc.rsplit("@", 1)[-1]
        query = parts.query
        if params:
            query = "&".join(filter(None, [query, urlencode(params, doseq=True)]))
        return self.settings.redact(urlunsplit((parts.scheme, netloc, parts.path, query, "")))

    def url(self, path: str) -> str:
        """The absolute URL for ``path`` (relative to ``base_url``, or absolute on the same origin)."""
        if path.startswith(("http://", "https://")):
            if origin(path) != origin(self.base_url):
                raise ConfigurationError(
                    f"{self.name}: refusing to send credentials to another origin: "
                    f"{self.settings.redact(path)}"
                )
            return path
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def redacted(self, text: str) -> str:
        return self.settings.redact(text)[:MAX_MESSAGE]

    def log(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        outcome: str,
        attempt: int,
        elapsed: float,
    ) -> None:
        """The one DEBUG line of an attempt (the URL made loggable only when it is logged)."""
        if logger.isEnabledFor(logging.DEBUG):
            shown = self.loggable(url, params)
            logger.debug("%s %s -> %s attempt=%d elapsed=%.3fs", method, shown, outcome, attempt, elapsed)

    def log_retry(self, method: str, url: str, wait: float, reason: str) -> None:
        logger.debug("retrying %s %s in %.3fs: %s", method, self.loggable(url), wait, reason)

    def json_body(self, value: Any) -> bytes:
        """``value`` encoded strictly, or the ``InputError`` naming where it cannot be."""
        try:
            return encode_json(value)
        except BodyFault as fault:
            raise InputError(
                f"{self.name}: the records cannot be sent: at {self.settings.redact(fault.path)} "
                f"of the request body, {fault.reason}; nothing was sent"
            ) from None

    def header_error(self, headers: Mapping[str, str], source: str) -> str | None:
        """What is wrong with the first header HTTP cannot carry (naming it, never its value)."""
        for name, value in headers.items():
            fault = header_fault(str(name)) or (header_fault(value) if isinstance(value, str) else "")
            if fault:
                return f"{self.name}: cannot send header {name!r}: it has {fault} ({source})"
        return None

    def provider_error(self, status: int, body: Any, method: str, retry_after: float | None) -> ProviderError:
        """The error of the tree for an error status, with the provider's own message."""
        try:
            message, code = self.provider.error_message(status, body)
        except Exception:  # a plugin's parser must not hide the HTTP error itself
            message, code = f"HTTP {status}", None
        message = self.redacted(str(message))
        code = self.settings.redact(code) if code else None
        cls = ERROR_CLASSES.get(status, ProviderError)
        if cls is JobNotFound and method not in READ_METHODS:
            cls = ProviderError  # a 404 on a submit means a wrong path or object, not a job
        retryable = status in NOT_PROCESSED or status in MAYBE_PROCESSED
        if cls is RateLimited:
            return RateLimited(self.name, status, message, code=code, retry_after=retry_after)
        return cls(self.name, status, message, retryable=retryable, code=code)

    def unknown(self, method: str, url: str, reason: str) -> SubmitOutcomeUnknown:
        return SubmitOutcomeUnknown(
            f"{self.name}: {method} {self.loggable(url)}: outcome unknown: {reason}; "
            "check the provider before sending it again",
            provider=self.name,
            method=method,
            url=self.loggable(url),
        )

    def transport_error(self, method: str, url: str, reason: str, attempts: int) -> TransportError:
        return TransportError(
            f"{self.name}: {method} {self.loggable(url)} failed after {attempts} attempt(s): {reason}",
            provider=self.name,
            method=method,
            url=self.loggable(url),
        )

    def too_large(self, method: str, url: str, safe: bool, reason: str, limit: int) -> Exception:
        """An answer past ``max_response_bytes``: unknown outcome for an unsafe request."""
        if not safe:
            return self.unknown(method, url, reason)
        return ResponseTooLarge(
            f"{self.name}: {method} {self.loggable(url)}: {reason}; raise "
            "max_response_bytes (connect(max_response_bytes=...)) if the answer is expected",
            provider=self.name,
            method=method,
            url=self.loggable(url),
            limit=limit,
        )

    def redirect_error(self, method: str, url: str, safe: bool, target: str, status: int) -> Exception:
        """A redirect to another origin, refused."""
        scheme, host, port = origin(target)
        where = (
            f"{method} {self.loggable(url)} was redirected (HTTP {status}) to another origin, "
            + self.settings.redact(f"{scheme}://{host}:{port}")
        )
        if not safe and status in REDIRECT_AFTER_ACTING:
            return self.unknown(method, url, f"{where}; not followed")
        return ConfigurationError(
            f"{self.name}: {where}; credentials go only to base_url's origin, so it was not "
            "followed. If the provider has moved, set base_url to its new address"
        )

    def local_error(self, exc: Exception) -> ConfigurationError:
        return ConfigurationError(
            f"{self.name}: the request cannot be encoded as HTTP (a setting with a stray "
            f"space or newline?): {type(exc).__name__}: {self.redacted(str(exc))}"
        )

    def tls_error(self, cause: BaseException) -> ConfigurationError:
        return ConfigurationError(
            f"{self.name}: TLS with {self.settings.redact(self.base_url)} failed before anything "
            f"was sent ({self.redacted(str(cause))}): does base_url's scheme match "
            "the server (https to a plain-HTTP port?), and is its certificate trusted?"
        )

    def unreadable(self, outcome: str, exc: Exception) -> str:
        return f"HTTP {outcome} with an unreadable body ({self.redacted(str(exc))})"
