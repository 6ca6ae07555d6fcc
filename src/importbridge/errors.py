"""Every exception importbridge raises, in one tree.

Callers catch what they can act on; everything derives from ``ImportBridgeError``::

    ImportBridgeError
    ├── PayloadError (ValueError)             a provider payload we cannot read
    │   └── InvalidJobError                   a job the contract does not allow (names the field)
    ├── UnknownProviderError (LookupError)    no installed provider has that name
    ├── PluginError                           a plugin misbehaves
    │   ├── PluginLoadError                   its entry point failed to import or register
    │   ├── PluginConflictError               two distributions claim one provider name
    │   └── InvalidPluginError                it registered something that is not a Provider
    ├── ConfigurationError                    a missing or invalid setting (names the env var)
    │   └── CheckpointError                   a submit_many journal that is damaged or another run's
    ├── InputError (ValueError)               records or a file of the caller's that cannot be sent
    ├── TokenError (ValueError)               a resume token that is malformed, foreign, forged or too old
    ├── TransportError                        the network failed before a usable answer came back
    │   ├── SubmitOutcomeUnknown              a submit may or may not have been processed
    │   └── ResponseTooLarge                  an answer larger than max_response_bytes decoded
    ├── ProviderError                         the provider answered with an error
    │   ├── AuthenticationError               401 / 403
    │   ├── JobNotFound                       404 for a job
    │   │   └── JobExpired                    ... known to be past the provider's retention
    │   ├── RateLimited                       429 after retries ran out
    │   └── ConflictError                     409 (e.g. idempotency key reused with another body)
    └── WaitError                             waiting for a job did not end in a terminal state
        ├── PollTimeout                       the deadline or attempt budget ran out
        └── StateRegression                   a snapshot moved a job backwards (strict mode)

No message ever contains a secret: transports redact settings marked secret before
building any of these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import ImportJob

__all__ = [
    "AuthenticationError",
    "CheckpointError",
    "ConfigurationError",
    "ConflictError",
    "ImportBridgeError",
    "InputError",
    "InvalidJobError",
    "InvalidPluginError",
    "JobExpired",
    "JobNotFound",
    "PayloadError",
    "PluginConflictError",
    "PluginError",
    "PluginLoadError",
    "PollTimeout",
    "ProviderError",
    "RateLimited",
    "ResponseTooLarge",
    "StateRegression",
    "SubmitOutcomeUnknown",
    "TokenError",
    "TransportError",
    "UnknownProviderError",
    "WaitError",
]


class ImportBridgeError(Exception):
    """Root of every exception importbridge raises."""


class PayloadError(ImportBridgeError, ValueError):
    """A payload that the provider could not have sent.

    ``path`` is a dotted / indexed location such as ``data_import.data_tables_details[1].progress``
    (empty for the payload as a whole).
    """

    def __init__(self, provider: str, path: str, reason: str) -> None:
        self.provider = provider
        self.path = path
        self.reason = reason
        where = path or "<payload>"
        super().__init__(f"{provider} payload: {where}: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.provider, self.path, self.reason))


class InvalidJobError(PayloadError):
    """The model refuses a job (or a row, table or error of one) that the contract does not allow.

    ``path`` names the field (``succeeded``, ``rows[3].data.amount``) and ``reason`` the rule it
    breaks. ``provider`` is the job's provider, or ``"importbridge"`` for a part built on its own.
    Being a ``PayloadError``, it is what ``normalize`` raises when an adapter turns a payload no
    provider could mean (more rows landed than exist, NaN in a row) into an impossible job.
    """


class UnknownProviderError(ImportBridgeError, LookupError):
    """No installed provider answers to this name."""

    def __init__(self, name: str, installed: Sequence[str]) -> None:
        self.name = name
        self.installed = tuple(installed)
        listed = ", ".join(self.installed) or "none"
        super().__init__(f"unknown provider {name!r}; installed providers: {listed}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.name, self.installed))

    def __str__(self) -> str:  # LookupError would repr() the args otherwise
        return str(self.args[0])


class PluginError(ImportBridgeError):
    """A plugin could not be used."""


class PluginLoadError(PluginError):
    """A plugin's entry point failed to import or to register its providers."""

    def __init__(self, plugin: str, distribution: str, reason: str) -> None:
        self.plugin = plugin
        self.distribution = distribution
        self.reason = reason
        super().__init__(f"plugin {plugin!r} from {distribution} failed to load: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.plugin, self.distribution, self.reason))


class PluginConflictError(PluginError):
    """Two plugins registered a provider under the same name."""

    def __init__(self, name: str, first: str, second: str) -> None:
        self.name = name
        self.first = first
        self.second = second
        super().__init__(f"provider name {name!r} is claimed by both {first} and {second}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.name, self.first, self.second))


class InvalidPluginError(PluginError):
    """A plugin registered something that is not a usable Provider."""


class ConfigurationError(ImportBridgeError):
    """A setting is missing or invalid; the message names what to set."""


class CheckpointError(ConfigurationError):
    """A ``submit_many`` journal that cannot be trusted: damaged (cut short, a line garbled,
    removed, duplicated or edited), not a journal at all, or another run's.

    Raised before anything is sent; ``path`` is the journal, ``line`` the 1-based line at fault
    (None when the whole file is). ``restart=True`` sets the journal aside and starts over.
    """

    def __init__(self, message: str, path: str, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.args[0], self.path, self.line))


class InputError(ImportBridgeError, ValueError):
    """Records or a file the caller gave that cannot be sent as they are (a value JSON cannot
    carry, a CSV with a duplicated header, text that is not in the declared encoding).

    Raised before anything leaves the process, so it is never retried and never makes a submit's
    outcome unknown; the message names the record, line or column at fault.
    """


class TokenError(ImportBridgeError, ValueError):
    """A resume token that cannot be used: malformed, from another version, foreign, carrying
    context its provider does not declare, made for another origin, or not signed as required."""


class TransportError(ImportBridgeError):
    """The network failed before a usable answer came back (after retries)."""

    def __init__(self, message: str, *, provider: str = "", method: str = "", url: str = "") -> None:
        self.provider = provider
        self.method = method
        self.url = url
        super().__init__(message)


class SubmitOutcomeUnknown(TransportError):
    """A submit that cannot be retried safely may or may not have been processed.

    Check the provider (for example list its recent imports) before sending it again.
    ``request_id`` is whatever identifies the attempt (an idempotency key, a file key), if any.
    """

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        method: str = "",
        url: str = "",
        request_id: str | None = None,
    ) -> None:
        self.request_id = request_id
        super().__init__(message, provider=provider, method=method, url=url)


class ResponseTooLarge(TransportError):
    """An answer whose decoded body passed the transport's ``max_response_bytes`` (``limit``).

    Not retried: the same request would get the same answer. It is read no further, so a
    compressed "bomb" costs at most ``limit`` bytes of memory.
    """

    def __init__(
        self, message: str, *, provider: str = "", method: str = "", url: str = "", limit: int = 0
    ) -> None:
        self.limit = limit
        super().__init__(message, provider=provider, method=method, url=url)


class ProviderError(ImportBridgeError):
    """The provider answered with an error status.

    ``message`` is the provider's own explanation, parsed from its error format.
    """

    def __init__(
        self,
        provider: str,
        status: int,
        message: str,
        *,
        retryable: bool = False,
        code: str | None = None,
    ) -> None:
        self.provider = provider
        self.status = status
        self.message = message
        self.retryable = retryable
        self.code = code
        super().__init__(f"{provider} answered HTTP {status}: {message}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_provider_error, (type(self), self.__dict__.copy()))


def _rebuild_provider_error(cls: type[ProviderError], state: dict[str, Any]) -> ProviderError:
    error = cls.__new__(cls)
    error.__dict__.update(state)
    Exception.__init__(error, f"{state['provider']} answered HTTP {state['status']}: {state['message']}")
    return error


class AuthenticationError(ProviderError):
    """401 (no credentials) or 403 (credentials refused)."""


class JobNotFound(ProviderError):
    """The provider does not know this job."""


class JobExpired(JobNotFound):
    """The job is known to be older than the provider's retention period."""


class RateLimited(ProviderError):
    """429 after the retry budget ran out; ``retry_after`` in seconds when the provider said."""

    def __init__(
        self,
        provider: str,
        status: int,
        message: str,
        *,
        retryable: bool = True,
        code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.retry_after = retry_after
        super().__init__(provider, status, message, retryable=retryable, code=code)


class ConflictError(ProviderError):
    """409: the request conflicts with the provider's state (e.g. idempotency key reuse)."""


class WaitError(ImportBridgeError):
    """Waiting for a job did not end in a terminal state."""

    def __reduce__(self) -> tuple[Any, ...]:  # keyword-only constructors: rebuild from state
        return (_rebuild_with_state, (type(self), self.args, self.__dict__.copy()))


def _rebuild_with_state(
    cls: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]
) -> BaseException:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class PollTimeout(WaitError):
    """The wait's deadline or attempt budget ran out.

    ``job`` is the last snapshot seen (None if none was), ``token`` resumes the wait elsewhere.
    When many jobs were waited for (``wait_all``), ``tokens`` holds one token per unfinished job
    (``[token]`` for a single wait).
    """

    def __init__(
        self,
        message: str,
        *,
        job: ImportJob | None,
        token: str,
        tokens: Sequence[str] | None = None,
    ) -> None:
        self.job = job
        self.token = token
        self.tokens = list(tokens) if tokens is not None else [token]
        super().__init__(message)


class StateRegression(WaitError):
    """A snapshot would move a job backwards through the state machine (strict mode only)."""

    def __init__(self, message: str, *, previous: ImportJob, snapshot: ImportJob) -> None:
        self.previous = previous
        self.snapshot = snapshot
        super().__init__(message)
