"""The ``Provider`` base class: what a provider plugin implements.

A provider translates one SaaS provider's dialect: its status payloads into ``ImportJob``
(``normalize``, needed), and, when it declares the ``client`` capability, the HTTP requests
that submit, fetch and page through its imports. The core calls these methods and knows no
provider by name; a third-party plugin subclasses ``Provider`` exactly as the built-ins do.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import attrs

if TYPE_CHECKING:
    from .flows import Flow, FlowContext
    from .model import ImportJob, JobState, RowResult
    from .transport import Connection

__all__ = ["Capability", "Provider", "Setting"]

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")


class Capability:
    """Capability names a provider can declare (plain strings, so plugins may add their own)."""

    NORMALIZE = "normalize"
    CLIENT = "client"
    SANDBOX = "sandbox"
    #: submit deduplicates by the ``request_id`` option (an idempotency key), so resending is safe
    IDEMPOTENT_SUBMIT = "idempotent_submit"


@attrs.frozen(kw_only=True)
class Setting:
    """One connection setting: a ``connect()`` keyword, read from ``env`` when not given.

    ``secret`` settings are redacted everywhere (reprs, logs, errors, tokens).
    ``context`` settings are carried in resume tokens (they must not be secret; ``base_url`` never
    travels in a token, whatever it is marked: a token must not choose where credentials go).
    """

    name: str
    env: str
    default: str | None = None
    secret: bool = False
    required: bool = True
    context: bool = False
    help: str = ""

    def __attrs_post_init__(self) -> None:
        if self.secret and self.context:
            raise ValueError(f"setting {self.name!r}: a secret cannot travel in resume tokens")


class Provider:
    """Base class for provider adapters. Subclass, set ``name``, implement ``normalize``.

    Class attributes describe the provider to the core:

    - ``name``: the registry name (lowercase, ``[a-z][a-z0-9_-]*``), stable forever.
    - ``capabilities``: which of ``Capability``'s abilities it implements.
    - ``settings``: what ``connect()`` needs (credentials, base URL, ...).
    - ``retention``: how long the provider keeps finished jobs (None: unknown).
    - ``rate_limit``: requests per second per credential (None: not documented).
    - ``batch_size``: rows per submit that ``submit_many`` uses by default.
    - ``status_words``: the provider's status words and the ``JobState`` each maps to.
    - ``context_keys``: keys other than settings that ``job_context`` returns; a resume token
      carries only these, the settings marked ``context`` and the job's dates.
    """

    name: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[str]] = frozenset({Capability.NORMALIZE})
    settings: ClassVar[tuple[Setting, ...]] = ()
    retention: ClassVar[timedelta | None] = None
    rate_limit: ClassVar[float | None] = None
    batch_size: ClassVar[int] = 1000
    status_words: ClassVar[Mapping[str, JobState]] = {}
    context_keys: ClassVar[tuple[str, ...]] = ()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    # -- payloads -----------------------------------------------------------------------------

    def normalize(self, payload: Any) -> ImportJob:
        """Turn one decoded status payload (any JSON value) into an ``ImportJob``.

        Must raise ``importbridge.PayloadError`` (and nothing else) for anything the provider
        could not have sent, must ignore unknown extra fields, and must not mutate ``payload``.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement normalize()")

    def row_arrays(self) -> Mapping[str, Callable[[list[Any]], object]]:
        """Where a payload's long arrays of rows are, and the check each chunk of one gets.

        Keys are paths into the payload: ``"results"``, ``"data.failedRows"``, and ``[]`` for
        every element of an array (``"tables[].errors"``). For a payload given as text of
        ``LONG_TEXT`` bytes or more, ``importbridge.normalize`` decodes each such array in chunks,
        calls its function on every chunk (a list of the decoded entries) and keeps only the
        answers and the text: ``normalize`` then finds a ``LongArray`` there, whose entries are
        decoded again when read. ``PayloadReader.fold(entries, check)`` with the same function
        hands back those answers (or computes them, for a list). The default names none: every
        array is decoded at once, as ``json.loads`` would.
        """
        return {}

    def sample_payloads(self) -> Sequence[Any]:
        """Valid payloads for the conformance suite: at least one per status word (it checks)."""
        return ()

    # -- the client capability ----------------------------------------------------------------

    def auth_headers(self, settings: Mapping[str, str]) -> dict[str, str]:
        """HTTP headers that authenticate a request, built from the resolved settings.

        Any header names will do: the transport sends them to ``base_url``'s origin only (a
        redirect elsewhere is refused, never followed).
        """
        return {}

    def error_message(self, status: int, body: Any) -> tuple[str, str | None]:
        """The provider's own (message, code) from a decoded error body (JSON or text)."""
        if isinstance(body, Mapping):
            message = body.get("message") or body.get("detail") or body.get("title")
            code = body.get("code") or body.get("errorCode")
            return (str(message) if message else f"HTTP {status}", str(code) if code else None)
        return (str(body)[:200] if body else f"HTTP {status}", None)

    # Each client operation comes two ways. The flow (``submit_flow``, ``get_flow``,
    # ``failed_rows_flow``, ``find_submit_flow``) describes the HTTP conversation and does no
    # I/O: the sync and async engines both carry it out. The older method of the same name
    # (``submit(conn, ...)`` ...) is what plugins written before flows override, calling
    # ``conn.transport`` themselves; by default it drives the flow with the sync engine, so
    # a provider that writes flows has it for free. ``importbridge.flows.has_flows`` says
    # which way a provider goes for each operation.

    def submit_flow(
        self, ctx: FlowContext, records: Sequence[Mapping[str, Any]], options: Mapping[str, Any]
    ) -> Flow[ImportJob]:
        """Send one batch of records as one import; return its first snapshot.

        ``options`` are the caller's keywords, plus ``request_id`` from ``submit_many`` (a
        stable id per batch: use it as the idempotency key or to find the submit later) and
        ``object_type`` from the command line's ``--object-type`` when given. Refuse unknown
        options with ``ConfigurationError``.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement submit()")

    def get_flow(self, ctx: FlowContext, job_id: str, context: Mapping[str, str]) -> Flow[ImportJob]:
        """Fetch one job's current snapshot. ``context`` holds the job's token context."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get()")

    def failed_rows_flow(self, ctx: FlowContext, job: ImportJob) -> Flow[None]:
        """Emit every rejected row of ``job`` (``Emit``), row numbers 1-based as the provider counts.

        A job not yet finished is fetched again first; if it is still unfinished the flow
        raises ``WaitError`` (rows are known once it finishes). A job without rows emits none.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement failed_rows()")

    def find_submit_flow(self, ctx: FlowContext, request_id: str) -> Flow[ImportJob | None]:
        """After a submit sent with option ``request_id`` ended in doubt: the import it created,
        or None when it surely created none. ``submit_many`` uses it to settle a lost answer
        without importing twice; the default cannot tell (``NotImplementedError``)."""
        raise NotImplementedError(f"{type(self).__name__} cannot find a submit by its request id")

    def submit(
        self, conn: Connection, records: Sequence[Mapping[str, Any]], options: Mapping[str, Any]
    ) -> ImportJob:
        """Send one batch of records as one import and return its first snapshot (``submit_flow``)."""
        return conn.run(self.submit_flow(conn.context, records, options))

    def get(self, conn: Connection, job_id: str, context: Mapping[str, str]) -> ImportJob:
        """Fetch one job's current snapshot (``get_flow``)."""
        return conn.run(self.get_flow(conn.context, job_id, context))

    def failed_rows(self, conn: Connection, job: ImportJob) -> Iterator[RowResult]:
        """Stream every rejected row of a job, with its row number and error (``failed_rows_flow``)."""
        return conn.stream(self.failed_rows_flow(conn.context, job))

    def find_submit(self, conn: Connection, request_id: str) -> ImportJob | None:
        """The import a doubtful submit with ``request_id`` created, or None (``find_submit_flow``)."""
        return conn.run(self.find_submit_flow(conn.context, request_id))

    def job_context(self, conn: Connection, job: ImportJob) -> dict[str, str]:
        """Non-secret facts a resume token must carry to poll ``job`` from another process.

        The default carries every setting marked ``context``. Any other key returned must be
        declared in ``context_keys`` (an undeclared one is left out of tokens, with a warning):
        tokens can be forged, so their readers accept only declared context.
        """
        return {
            setting.name: conn.settings[setting.name]
            for setting in self.settings
            if setting.context and conn.settings.get(setting.name)
        }
