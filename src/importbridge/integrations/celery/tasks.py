"""The Celery tasks: submit once under a key-derived request id, wait by countdown re-queues.

Nothing sleeps in a worker: the wait task polls once (``poll_once``) and sends itself again
with a countdown from ``next_poll_at``, carrying only the resume token, so between polls a
waiting import holds no worker slot. A countdown is capped below the broker's visibility
timeout: on Redis and SQS a message held unacknowledged past it is delivered again, and the
task would run twice.

Tasks are ``acks_late`` and ``reject_on_worker_lost``: a worker killed mid-task leaves its
message to be delivered again. The submit task's request id is derived from the caller's key
and the records (never from the Celery task id alone), so a re-delivered submit sends the same
id: a deduplicating provider (Micro) replays its first answer, one that can look a submit up
(TalkValue) is asked first and re-attached to the import it already made, and one that cannot
tell (Qobra) raises ``SubmitOutcomeUnknown`` instead of importing twice.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any, NoReturn

import attrs
from celery import Celery, chain, chord
from celery.exceptions import Ignore

from importbridge import (
    Capability,
    ConfigurationError,
    ImportBridgeError,
    ImportJob,
    ProviderError,
    RateLimited,
    SubmitOutcomeUnknown,
    TokenError,
    TransportError,
    connect,
    to_dict,
)
from importbridge.checkpoint import digest, request_id, run_id
from importbridge.integrations.celery.fanout import summarize
from importbridge.polling import make_token
from importbridge.resuming import connect_for
from importbridge.tokens import decode, resolve_key

__all__ = ["ImportTasks", "create_app", "register_tasks", "submit_request_id"]

#: the brokers' usual visibility timeout (Redis, SQS: one hour) when the app does not set one
DEFAULT_VISIBILITY_TIMEOUT = 3600.0
#: a countdown is at most this share of the visibility timeout, and never longer than MAX_COUNTDOWN
CAP_SHARE = 0.5
MAX_COUNTDOWN = 300.0
#: transient failures (network, 429, 5xx) in a row a wait rides out before it fails
TRANSIENT_LIMIT = 3
TRANSIENT_DELAY = 5.0


def submit_request_id(key: str, provider: str, records: Sequence[Mapping[str, Any]],
                      options: Mapping[str, Any]) -> str:
    """The request id of a submit: ``submit_many``'s for one batch under ``run_id=key``.

    The same key, provider, records and options give the same id on every delivery."""
    run = run_id(key, provider, max(1, len(records)), digest(dict(options)))
    return request_id(run, 0, digest(list(records)), 0)


def _visibility_timeout(app: Celery) -> float:
    options = app.conf.broker_transport_options or {}
    return float(options.get("visibility_timeout", DEFAULT_VISIBILITY_TIMEOUT))


def _bad(error: Exception) -> bool:
    """Errors a retry cannot fix: the task fails at once with ours."""
    transient = isinstance(error, (RateLimited, TransportError)) or (
        isinstance(error, ProviderError) and error.retryable
    )
    return not transient or isinstance(error, SubmitOutcomeUnknown)


@attrs.frozen(kw_only=True)
class ImportTasks:
    """The tasks ``register_tasks`` added to an app, and the fan-out that chains them."""

    app: Any
    submit: Any
    wait: Any
    gather: Any
    countdown_cap: float

    def submit_and_wait(
        self,
        provider: str,
        records: Sequence[Mapping[str, Any]],
        *,
        batch_size: int,
        key: str,
        options: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Split ``records`` into batches, submit each as a task (batch ``i`` under key
        ``f"{key}/{i}"``), wait for each, and gather every final job into one summary with a
        chord. Returns the chord's ``AsyncResult``; ``.get()`` gives the summary."""
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
            raise ConfigurationError(f"batch_size must be a positive integer, got {batch_size!r}")
        if not isinstance(key, str) or not key:
            raise ConfigurationError(f"key must be a non-empty string naming this call, got {key!r}")
        rows = list(records)
        batches = [rows[start:start + batch_size] for start in range(0, len(rows), batch_size)]
        header = [
            chain(
                self.submit.s(provider, batch, key=f"{key}/{index}", options=dict(options or {}),
                              timeout=timeout),
                self.wait.s(),
            )
            for index, batch in enumerate(batches)
        ]
        if not header:
            return self.gather.delay([])
        return chord(header)(self.gather.s())


def register_tasks(
    app: Celery, *, countdown_cap: float | None = None, prefix: str = "importbridge"
) -> ImportTasks:
    """Register ``<prefix>.submit``, ``<prefix>.wait`` and ``<prefix>.gather`` on ``app``.

    ``countdown_cap`` (seconds) bounds each wait's countdown; by default half the broker's
    visibility timeout (``broker_transport_options["visibility_timeout"]``, else one hour), at
    most 300 s. A cap at or past the visibility timeout is refused (``ConfigurationError``).
    """
    visibility = _visibility_timeout(app)
    cap = min(MAX_COUNTDOWN, visibility * CAP_SHARE) if countdown_cap is None else countdown_cap
    if not isinstance(cap, (int, float)) or isinstance(cap, bool) or not 0 < cap < visibility:
        raise ConfigurationError(
            f"countdown_cap must be above 0 and below the broker's visibility timeout ({visibility:g} s), "
            f"got {countdown_cap!r}: a countdown past it is delivered again and runs twice"
        )
    common = {"bind": True, "acks_late": True, "reject_on_worker_lost": True, "max_retries": 0}

    @app.task(name=f"{prefix}.submit", **common)  # type: ignore[untyped-decorator]
    def submit(task: Any, provider: str, records: list[dict[str, Any]], *, key: str,
               options: dict[str, Any] | None = None, timeout: float | None = None) -> dict[str, Any]:
        """Submit ``records`` once; returns ``{"token": str | None, "job": to_dict(job)}``."""
        if not isinstance(key, str) or not key:
            raise ConfigurationError(f"the submit task needs a non-empty key naming the import, got {key!r}")
        if not isinstance(records, list) or not records:
            raise ConfigurationError("the submit task needs a non-empty list of records")
        options = dict(options or {})
        # delivered again after a worker died, or retried after an error: it may have landed
        maybe_sent = bool((task.request.delivery_info or {}).get("redelivered")) or task.request.retries > 0
        with connect(provider) as client:
            try:
                job = _submit_once(client, records, options, key, maybe_sent)
            except ImportBridgeError as error:
                # a 503 or a refused connection after the transport's retries: tried again a few
                # times, under the same request id and looked up first where the provider can
                if _bad(error) or task.request.retries >= TRANSIENT_LIMIT:
                    raise
                raise task.retry(countdown=TRANSIENT_DELAY, max_retries=TRANSIENT_LIMIT, exc=error) from error
            deadline = None if timeout is None else time.time() + timeout
            final = job.id is None or job.state.is_terminal
            token = None if final else make_token(client, job, deadline=deadline)
        return {"token": token, "job": to_dict(job)}

    @app.task(name=f"{prefix}.wait", **common)  # type: ignore[untyped-decorator]
    def wait(task: Any, item: str | dict[str, Any], transient: int = 0) -> dict[str, Any]:
        """Poll once; re-queue with a countdown until terminal. Returns ``{"token", "job"}``."""
        if isinstance(item, dict) and item.get("token") is None and "job" in item:
            return item  # a job finished at submit (Micro's small imports): nothing to wait for
        token = item.get("token") if isinstance(item, dict) else item
        if not isinstance(token, str):
            raise TokenError(f"the wait task takes a resume token, got {type(token).__name__}")
        key = resolve_key()
        parsed = decode(token, key=key)  # a malformed token: TokenError, the task fails
        try:
            with connect_for(parsed, {}, key) as client:
                step = client.poll_once(token)
        except ImportBridgeError as error:  # PollTimeout included: the token's budget is spent
            if _bad(error) or transient + 1 >= TRANSIENT_LIMIT:
                raise
            _again(task, token, TRANSIENT_DELAY, transient + 1)
        job = step.job
        if job is not None and not step.done:  # a finished job is the task's result, not progress
            task.update_state(state="PROGRESS", meta={
                "provider": job.provider, "id": job.id, "state": job.state.value,
                "progress": job.progress, "token": step.token,
            })
        if step.done and job is not None:
            return {"token": step.token, "job": to_dict(job)}
        countdown = min(cap, max(0.0, (step.next_poll_at or 0.0) - time.time()))
        _again(task, step.token, countdown, 0)

    @app.task(name=f"{prefix}.gather", acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]
    def gather(results: list[dict[str, Any]]) -> dict[str, Any]:
        """One summary of every batch's final job (the chord's body)."""
        return summarize(results)

    return ImportTasks(app=app, submit=submit, wait=wait, gather=gather, countdown_cap=float(cap))


def _again(task: Any, token: str, countdown: float, transient: int) -> NoReturn:
    """Send this wait again (same task id, so a chord or chain still follows it) and end this run."""
    again = task.signature_from_request(args=(token,), kwargs={"transient": transient}, countdown=countdown)
    again.apply_async()
    raise Ignore()


def _find(client: Any, request_id: str) -> ImportJob | bool | None:
    """The import ``request_id`` made, None if surely none, False if the provider cannot tell."""
    try:
        return client.provider.find_submit(client.connection, request_id)  # type: ignore[no-any-return]
    except NotImplementedError:
        return False


def _submit_once(client: Any, records: list[dict[str, Any]], options: dict[str, Any], key: str,
                 redelivered: bool) -> ImportJob:
    """Submit under the key's request id; a delivery that may have sent it already looks first."""
    provider = client.provider
    if redelivered and Capability.IDEMPOTENT_SUBMIT not in provider.capabilities:
        rid = submit_request_id(key, provider.name, records, options)
        found = _find(client, rid)
        if isinstance(found, ImportJob):
            return found  # the earlier delivery's import: re-attach to it
        if found is False:
            raise SubmitOutcomeUnknown(
                f"{provider.name}: the submit task for key {key!r} was delivered again (request id {rid}) "
                "and the provider cannot tell whether the first delivery's import landed; check the "
                "provider, then submit under a new key if it did not",
                provider=provider.name,
                request_id=rid,
            )
    jobs = client.submit_many(records, chunk_size=len(records), run_id=key, **options)
    return jobs[0]  # type: ignore[no-any-return]


def create_app(broker_url: str, backend_url: str | None = None, *, visibility_timeout: float = 3600.0,
               countdown_cap: float | None = None, name: str = "importbridge",
               transport_options: Mapping[str, Any] | None = None) -> tuple[Celery, ImportTasks]:
    """A ready-made app (JSON only, late acks, one prefetched task per slot) with the tasks registered.

    ``transport_options`` are added to ``broker_transport_options`` (e.g. Redis's
    ``unacked_restore_interval``: how often a worker looks for a dead worker's messages).
    """
    app = Celery(name, broker=broker_url, backend=backend_url or broker_url)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={"visibility_timeout": visibility_timeout, **(transport_options or {})},
        result_backend_transport_options={"visibility_timeout": visibility_timeout},
        broker_connection_retry_on_startup=True,
        result_extended=True,
    )
    return app, register_tasks(app, countdown_cap=countdown_cap)
