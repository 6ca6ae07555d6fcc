"""``connect()`` and ``ImportClient``: submit, get, failed rows and resumable bulk submits.

The client knows no provider: it resolves settings, opens a ``Transport``, and carries out the
provider plugin's flows (``submit_flow`` / ``get_flow`` / ...) with the sync engine, or, for a
plugin written before flows, hands a ``Connection`` to its ``submit`` / ``get`` / ``failed_rows``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .errors import (
    CheckpointError,
    ConfigurationError,
    ImportBridgeError,
    JobExpired,
    JobNotFound,
    ProviderError,
    SubmitOutcomeUnknown,
)
from .plugins import get_provider
from .provider import Capability, Provider
from .settings import resolve
from .tokenkey import TokenKey, resolve_key
from .transport import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, Connection, RetryPolicy, Transport

if TYPE_CHECKING:
    from .checkpoint import Checkpoint
    from .model import ImportJob, RowResult
    from .polling import PollPolicy, PollStep

__all__ = ["ImportClient", "connect"]

_SKIP = object()  # a doubtful batch the caller says had landed
_CANNOT_TELL = object()  # the provider cannot look a submit up by its request id

#: the option through which ``submit_many`` hands each batch its stable request id
REQUEST_ID = "request_id"
OnUnknown = Literal["raise", "resubmit", "skip"]
#: operations whose flows emit items (rows) rather than return one result
STREAMED = frozenset({"failed_rows"})
#: how often submit_many sends one batch whose earlier sends provably did not land
RESENDS = 4


def connect(
    provider: str | Provider,
    *,
    timeout: float | tuple[float, float] = DEFAULT_TIMEOUT,
    retry: RetryPolicy | None = None,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    token_key: TokenKey | str | bytes | None = None,
    **settings: str | None,
) -> ImportClient:
    """A client for ``provider``; each setting comes from its keyword, else its env var, else its default.

    ``timeout`` is (connect, read) seconds; ``retry`` a ``RetryPolicy``; ``max_response_bytes``
    caps an answer's decoded size. A missing credential raises ``ConfigurationError`` naming the
    environment variable to set. ``token_key`` (else ``IMPORTBRIDGE_TOKEN_KEY``) signs the
    client's resume tokens, and then only tokens signed with it are read.
    """
    adapter = get_provider(provider)
    if Capability.CLIENT not in adapter.capabilities:
        raise ConfigurationError(f"provider {adapter.name!r} cannot submit or fetch imports (no client)")
    resolved = resolve(adapter, settings)
    key = resolve_key(token_key)
    transport = Transport(
        adapter, resolved, timeout=timeout, retry=retry, max_response_bytes=max_response_bytes
    )
    return ImportClient(Connection(adapter, resolved, transport), token_key=key)


class ImportClient:
    """Talks to one provider account. Thread-safe for ``get`` (one pooled session).

    ``token_key`` (else ``IMPORTBRIDGE_TOKEN_KEY``; shown as ``TokenKey(***)``) signs the
    resume tokens the client makes and is required of those it reads.
    """

    def __init__(self, connection: Connection, *, token_key: TokenKey | str | bytes | None = None) -> None:
        self.connection = connection
        self.provider: Provider = connection.provider
        self.token_key: TokenKey | None = resolve_key(token_key)

    def __repr__(self) -> str:
        return f"<ImportClient {self.provider.name} {self.connection.settings!r}>"

    def _call(self, operation: str, *args: Any) -> Any:
        """The provider's ``operation``: its flow carried out by the sync engine when it has one,
        else the older method that calls ``conn.transport`` itself."""
        from .flows import OPERATIONS, has_flows  # here: connect() itself runs no flow

        provider, connection = self.provider, self.connection
        if not has_flows(provider, operation):
            return getattr(provider, operation)(connection, *args)
        flow = getattr(provider, OPERATIONS[operation])(connection.context, *args)
        return connection.stream(flow) if operation in STREAMED else connection.run(flow)

    # -- one import ---------------------------------------------------------------------------

    def submit(self, records: Iterable[Mapping[str, Any]], **options: Any) -> ImportJob:
        """Send ``records`` (one mapping per row) as one import; returns its first snapshot."""
        return self._call("submit", _rows(records), options)  # type: ignore[no-any-return]

    def get(self, job_id: str, **context: str) -> ImportJob:
        """The job's current snapshot. ``context`` (e.g. from a token) may carry ``created_at`` or
        ``expires_at``, which turn a 404 past the provider's retention into ``JobExpired``."""
        try:
            return self._call("get", str(job_id), context)  # type: ignore[no-any-return]
        except JobNotFound as error:
            raise self._expired(error, context.get("created_at"), context.get("expires_at")) from None

    def failed_rows(self, job: ImportJob | str) -> Iterator[RowResult]:
        """Every rejected row of ``job`` (a job or a job id), streamed as the provider serves them.

        The first row is fetched at once, so a missing job or an unfinished one raises here;
        the rest stream straight from the provider's iterator (no extra layer per row).
        """
        snapshot = self.get(job) if isinstance(job, str) else job
        rows = iter(self._call("failed_rows", snapshot))
        try:
            first = next(rows)
        except StopIteration:
            return iter(())
        except JobNotFound as error:
            raise self._expired(error, snapshot.created_at, snapshot.expires_at) from None
        return itertools.chain((first,), rows)

    def _expired(
        self, error: JobNotFound, created: datetime | str | None, expires: datetime | str | None
    ) -> JobNotFound:
        """``error`` as ``JobExpired`` when the job is known to be past the provider's retention."""
        from .convert import parse_datetime

        now = datetime.now(timezone.utc)
        try:
            created_at = parse_datetime(created) if isinstance(created, str) else created
            expires_at = parse_datetime(expires) if isinstance(expires, str) else expires
        except ValueError:
            return error
        retention = self.provider.retention
        past = (expires_at is not None and expires_at <= now) or (
            created_at is not None and retention is not None and created_at + retention <= now
        )
        if isinstance(error, JobExpired) or not past:
            return error
        return JobExpired(
            error.provider,
            error.status,
            f"{error.message} (the job is past the provider's retention of {retention or 'its expiry'})",
            code=error.code,
        )

    # -- many rows ----------------------------------------------------------------------------

    def submit_many(
        self,
        records: Iterable[Mapping[str, Any]],
        *,
        chunk_size: int | None = None,
        checkpoint: str | os.PathLike[str] | None = None,
        on_unknown: OnUnknown = "raise",
        on_submit: Callable[[int, ImportJob], None] | None = None,
        restart: bool = False,
        run_id: str | None = None,
        **options: Any,
    ) -> list[ImportJob]:
        """Submit ``records`` in provider-sized batches; one job per batch, in order.

        With ``checkpoint`` (a file path) each batch's job is journaled before the next batch is
        sent, so a run killed at any point and started again with the same arguments skips what
        landed and sends the rest: no row lost, none doubled. Each batch carries a request id
        (option ``request_id``) derived from the run (``run_id``, else the checkpoint's absolute
        path) and the batch, so even a rerun whose journal was lost sends the same ids. A batch
        whose answer was lost, in this run or by a kill, is settled without importing twice:
        resent under the same id when the provider deduplicates (``Capability.IDEMPOTENT_SUBMIT``),
        else looked up (``Provider.find_submit``) and resent only if it surely did not land.
        When the provider cannot tell, ``on_unknown`` decides: ``"raise"``
        ``SubmitOutcomeUnknown`` (check the provider, then rerun with ``"resubmit"`` if it did
        not land or ``"skip"`` if it did). A damaged journal raises ``CheckpointError`` before
        anything is sent; ``restart=True`` sets it aside and starts over (same request ids).
        ``on_submit(index, job)`` follows each batch.
        """
        size = self.provider.batch_size if chunk_size is None else chunk_size
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ConfigurationError(f"chunk_size must be a positive integer, got {chunk_size!r}")
        if on_unknown not in ("raise", "resubmit", "skip"):
            raise ConfigurationError(f"on_unknown must be raise, resubmit or skip, got {on_unknown!r}")
        if REQUEST_ID in options or "idempotency_key" in options:
            raise ConfigurationError("submit_many sets each batch's request id itself; do not pass one")
        if run_id is not None and (not isinstance(run_id, str) or not run_id):
            raise ConfigurationError(f"run_id must be a non-empty string, got {run_id!r}")
        if restart and checkpoint is None:
            raise ConfigurationError("restart=True starts a checkpoint over; pass checkpoint= too")
        import uuid

        from . import checkpoint as journaling
        from .convert import to_dict
        from .model import ImportJob

        options_digest = journaling.digest(options)
        key = run_id if run_id is not None or checkpoint is None else str(Path(checkpoint).resolve())
        run = None if key is None else journaling.run_id(key, self.provider.name, size, options_digest)
        journal = None
        if checkpoint is not None:
            header = {"provider": self.provider.name, "chunk_size": size, "options": options_digest,
                      "run": run}
            journal = journaling.Checkpoint.open(checkpoint, header, restart=restart)
        # a journal can lose its last lines (or all of them) without a trace; a provider that can
        # look a submit up is asked about the first batch the journal does not hold, and the next,
        # until one did not land: batches go out in order, so none after it did either
        probing = journal is not None and Capability.IDEMPOTENT_SUBMIT not in self.provider.capabilities
        jobs: list[ImportJob] = []
        iterator = iter(records)
        for index in itertools.count():
            chunk = _rows(itertools.islice(iterator, size))
            if not chunk:
                break
            rows_digest = journaling.digest(chunk)
            done = journal.jobs.get(index) if journal else None
            intent = journal.intents.get(index) if journal else None
            if intent is not None and intent.digest != rows_digest:
                raise CheckpointError(
                    f"checkpoint {checkpoint}: batch {index} holds other rows than last time; "
                    "rerun with the same records in the same order, or use a new checkpoint",
                    path=str(checkpoint),
                )
            if done is not None:
                jobs.append(done)
                continue
            attempt = journal.attempt(index) if journal else 0
            if intent is not None:  # sent by an earlier run that never recorded the answer
                request_id = intent.request_id
                settled = self._settle(request_id, index, on_unknown)
                if settled is _SKIP:
                    continue  # on_unknown="skip": the caller checked, the batch had landed
            else:
                request_id = (
                    str(uuid.uuid4()) if run is None
                    else journaling.request_id(run, index, rows_digest, attempt)
                )
                settled = self._find(request_id) if probing else None
                if journal is not None:
                    journal.record_intent(journaling.Intent(
                        chunk=index, rows=len(chunk), digest=rows_digest, attempt=attempt,
                        request_id=request_id,
                    ))
            job = (
                settled
                if isinstance(settled, ImportJob)
                else self._send(chunk, options, request_id, index, journal)
            )
            probing = probing and isinstance(settled, ImportJob)
            if journal is not None:
                journal.record_job(index, job, to_dict(job))
            jobs.append(job)
            if on_submit is not None:
                on_submit(index, job)
        return jobs

    def _send(
        self,
        chunk: Sequence[Mapping[str, Any]],
        options: Mapping[str, Any],
        request_id: str,
        index: int,
        journal: Checkpoint | None,
    ) -> ImportJob:
        """Submit one batch; a lost answer is looked up by request id before anything is resent."""
        batch_options = {**options, REQUEST_ID: request_id}
        for attempt in range(1, RESENDS + 1):
            try:
                return self._call("submit", chunk, batch_options)  # type: ignore[no-any-return]
            except SubmitOutcomeUnknown:
                from .model import ImportJob

                found = self._find(request_id)
                if isinstance(found, ImportJob):
                    return found  # it landed: the answer alone was lost
                if found is _CANNOT_TELL or attempt == RESENDS:
                    raise
                # it surely did not land: send it again
            except ProviderError as error:
                if error.status < 500 and journal is not None:
                    journal.record_void(index)  # refused outright: nothing landed
                raise
        raise AssertionError("unreachable")  # the loop returns or raises

    def _settle(self, request_id: str, index: int, on_unknown: OnUnknown) -> ImportJob | object | None:
        """A batch left in doubt by an earlier run: its job if found, None to send it, or _SKIP."""
        if Capability.IDEMPOTENT_SUBMIT in self.provider.capabilities:
            return None  # resent under the same request id, the provider answers without re-importing
        found = self._find(request_id)
        if found is not _CANNOT_TELL:
            return found
        if on_unknown == "resubmit":
            return None
        if on_unknown == "skip":
            return _SKIP
        raise SubmitOutcomeUnknown(
            f"{self.provider.name}: batch {index} was sent by an earlier run (request id {request_id}) "
            "but its outcome was never recorded; check the provider, then rerun with "
            "on_unknown='resubmit' (it did not land) or on_unknown='skip' (it did)",
            provider=self.provider.name,
            request_id=request_id,
        )

    def _find(self, request_id: str) -> ImportJob | object | None:
        """``Provider.find_submit``, or _CANNOT_TELL when the provider cannot look it up."""
        try:
            return self._call("find_submit", request_id)  # type: ignore[no-any-return]
        except (NotImplementedError, ImportBridgeError):
            return _CANNOT_TELL

    # -- waiting (importbridge.polling) -------------------------------------------------------

    def wait(
        self,
        item: ImportJob | str,
        *,
        timeout: float | None = None,
        on_update: Callable[[ImportJob], None] | None = None,
        policy: PollPolicy | None = None,
    ) -> ImportJob:
        """Poll ``item`` until it is terminal (see ``importbridge.polling.wait``)."""
        from . import polling

        return polling.wait(self, item, timeout=timeout, on_update=on_update, policy=policy)

    def poll(
        self, item: ImportJob | str, *, timeout: float | None = None, policy: PollPolicy | None = None
    ) -> Iterator[ImportJob]:
        """Each new snapshot of ``item`` until it is terminal (see ``importbridge.polling.poll``)."""
        from . import polling

        return polling.poll(self, item, timeout=timeout, policy=policy)

    def poll_once(self, token: str) -> PollStep:
        """One poll of the job a token names (see ``importbridge.polling.poll_once``)."""
        from . import polling

        return polling.poll_once(self, token)

    def token(self, job: ImportJob) -> str:
        """A resume token for ``job``, free of secrets (see ``importbridge.polling.make_token``)."""
        from . import polling

        return polling.make_token(self, job)

    # -- lifetime -----------------------------------------------------------------------------

    def close(self) -> None:
        """Release the pooled connections."""
        self.connection.transport.close()

    def __enter__(self) -> ImportClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _rows(records: Iterable[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
    """``records`` as a list, each checked to be a mapping with string keys."""
    if isinstance(records, (str, bytes, Mapping)):
        raise ConfigurationError(
            f"records must be an iterable of mappings (one per row), got a {type(records).__name__}"
        )
    rows = list(records)
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            raise ConfigurationError(f"records row {number}: expected a mapping, got {type(row).__name__}")
    return rows
