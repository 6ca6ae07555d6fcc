"""Waiting for imports: ``wait``, ``poll``, the step API and resume tokens.

One job is watched by a ``_Watch``: it makes the status requests, keeps the state machine
(a snapshot that would move the job backwards is dropped, logged on the ``importbridge``
logger and counted; ``strict`` raises ``StateRegression``), feeds the schedule
(``importbridge.schedule``) and freezes itself into a resume token (``importbridge.tokens``).
``wait``, ``poll``, ``poll_once`` and ``importbridge.waitall`` are the ways of driving watches;
``importbridge.resuming`` adds what must connect clients itself (``resume``, ``wait_all``).

Time is injectable through ``PollPolicy(clock=..., sleep=...)``; nothing here reads the clock
or sleeps any other way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from .budget import limited
from .convert import format_datetime
from .errors import (
    ConfigurationError,
    PollTimeout,
    ProviderError,
    RateLimited,
    StateRegression,
    TokenError,
    TransportError,
    WaitError,
)
from .model import ImportJob, JobState
from .schedule import Memory, PollPolicy, job_progress, next_delay
from .tokens import (
    LATEST,
    ORIGIN_SETTING,
    Token,
    TokenKey,
    admit,
    connection_context,
    context_names,
    decode,
    encode,
    looks_like_token,
    origin,
    resolve_key,
)

if TYPE_CHECKING:
    from .provider import Provider
    from .transport import Connection

__all__ = [
    "PollPolicy",
    "PollStep",
    "Poller",
    "make_token",
    "poll",
    "poll_once",
    "wait",
    "Watch",
    "new_watch",
]

logger = logging.getLogger("importbridge")

OnUpdate = Callable[[ImportJob], None]
#: closer than this to the deadline counts as at it (epoch-sized floats barely move by less)
_TICK = 1e-3
#: consecutive transient failures (network, 5xx after the transport's own retries) a wait rides out
TRANSIENT_LIMIT = 3


class Client(Protocol):
    """What polling needs of a client (``ImportClient`` is one).

    A client may also have a ``token_key`` (a ``TokenKey`` or None) to sign and read resume
    tokens with; one that has none uses ``IMPORTBRIDGE_TOKEN_KEY``.
    """

    provider: Provider
    connection: Connection

    def get(self, job_id: str, **context: str) -> ImportJob: ...


@attrs.frozen(kw_only=True)
class PollStep:
    """One poll's answer, for schedulers that poll on their own timetable.

    ``job``: the latest snapshot (None only if a rate limit stopped the very first poll);
    ``done``: it is terminal; ``next_poll_at``: when to poll next, epoch seconds on the policy's
    clock (None once done); ``token``: pass it to the next ``poll_once``.
    """

    job: ImportJob | None
    done: bool
    next_poll_at: float | None
    token: str


def _signature(job: ImportJob) -> tuple[Any, ...]:
    """What counts as a change worth reporting: state and progress."""
    return (job.state, job.progress, job.total, job.processed, job.succeeded, job.failed)


def _job_context(client: Client, job: ImportJob | None) -> dict[str, str]:
    """The non-secret context a token needs: the provider's, plus the dates that date a 404.

    With only a job id in hand, that is the client's settings marked ``context``.
    """
    provider, connection = client.provider, client.connection
    if job is None:
        return {
            name: connection.settings[name]
            for name in connection_context(provider)
            if connection.settings.get(name)
        }
    context = dict(provider.job_context(connection, job))
    for name in ("created_at", "expires_at"):  # the client turns a 404 past these into JobExpired
        value = getattr(job, name)
        if value is not None:
            context.setdefault(name, format_datetime(value))
    return _declared(provider, context)


_warned: set[tuple[str, str]] = set()


def _declared(provider: Provider, context: Mapping[str, Any]) -> dict[str, str]:
    """The entries of ``context`` a token may carry; each undeclared key is warned about once."""
    allowed = context_names(provider)
    kept = {key: value for key, value in context.items() if key in allowed and isinstance(value, str)}
    for key in context.keys() - kept.keys():
        if (provider.name, str(key)) not in _warned:
            _warned.add((provider.name, str(key)))
            logger.warning(
                "%s: job_context returned %r, which is not a declared context key "
                "(Provider.context_keys) or not text; resume tokens leave it out",
                provider.name, str(key)[:40],
            )
    return kept


def _origin(client: Client) -> str | None:
    """The origin the client sends requests (and credentials) to, when it has a base URL."""
    base_url = client.connection.settings.get(ORIGIN_SETTING)
    return origin(base_url) if base_url else None


_NO_KEY = object()


def _token_key(client: Client) -> TokenKey | None:
    """The client's token key; a client without one of its own reads the environment's."""
    key = getattr(client, "token_key", _NO_KEY)
    if key is _NO_KEY:
        return resolve_key()
    return key if isinstance(key, TokenKey) else None


def _freeze(
    client: Client,
    job_id: str,
    context: Mapping[str, str],
    *,
    deadline: float | None,
    state: JobState | None,
    memory: Memory | None = None,
) -> str:
    """A resume token made by ``client``: its origin recorded, signed with its key if it has one.

    A deadline past what a token holds (``timeout=1e12``) is as good as none, and travels as none.
    """
    token = Token(
        provider=client.provider.name,
        job_id=job_id,
        context=context,
        origin=_origin(client),
        deadline=deadline if deadline is None or deadline <= LATEST else None,
        state=state,
        memory=memory if memory is not None else Memory(),
    )
    return encode(token, key=_token_key(client))


@attrs.define(kw_only=True, eq=False)
class _Watch:
    """One job being waited on: its requests, its state machine and its schedule memory."""

    client: Client
    job_id: str
    context: dict[str, str]
    policy: PollPolicy
    deadline: float | None
    memory: Memory
    job: ImportJob | None = None
    state: JobState | None = None
    regressions: int = 0
    retry_after: float | None = None
    failures: int = 0
    began: float | None = None  # when this process started watching (for the timeout message)

    @property
    def provider(self) -> str:
        return self.client.provider.name

    @property
    def done(self) -> bool:
        """Terminal, as last seen or (from a token) as remembered: terminal states absorb."""
        return self.state is not None and self.state.is_terminal

    def latest(self) -> ImportJob | None:
        """The last snapshot, else a stand-in carrying the state a token remembered."""
        if self.job is not None or self.state is None:
            return self.job
        return self._remembered(self.state)

    def fetch(self) -> ImportJob | None:
        """Ask once; return the snapshot if it changed what the caller knows, else None."""
        return self.absorb(self.call())

    def call(self) -> ImportJob | Exception:
        """The status request alone (safe in a worker thread): a snapshot or the error it raised."""
        left = None if self.deadline is None else max(0.0, self.deadline - self.policy.clock())
        try:
            with limited(left):  # the transport's own retries must not run past the deadline
                return self.client.get(self.job_id, **self.context)
        except (TransportError, ProviderError) as error:
            return error

    def absorb(self, outcome: ImportJob | Exception) -> ImportJob | None:
        """Count one request and apply its outcome; return the snapshot if it is news.

        A 429 is honoured (its ``Retry-After`` stretches the next sleep); up to
        ``TRANSIENT_LIMIT`` consecutive network or retryable provider failures are ridden out,
        and one at the deadline (whose retries the deadline cut short) ends in ``PollTimeout``.
        """
        self.memory.attempts += 1
        if isinstance(outcome, ImportJob):
            self.failures = 0
            return self.accept(outcome, self.policy.clock())
        if isinstance(outcome, RateLimited):
            self.retry_after = outcome.retry_after
            logger.info(
                "%s job %s: rate limited, retry after %s s", self.provider, self.job_id, outcome.retry_after
            )
            return None
        transient = isinstance(outcome, TransportError) or (
            isinstance(outcome, ProviderError) and outcome.retryable
        )
        self.failures += 1
        if transient and self.exhausted(self.policy.clock()):
            return None  # at the deadline a blip is a timeout (resumable), not the wait's error
        if not transient or self.failures >= TRANSIENT_LIMIT:
            raise outcome
        logger.warning("%s job %s: poll failed (%s); will retry", self.provider, self.job_id, outcome)
        return None

    def accept(self, snapshot: ImportJob, at: float) -> ImportJob | None:
        """Apply the state machine to a fetched snapshot; return it if it is news."""
        previous = self.job.state if self.job is not None else self.state
        if previous is not None and not previous.can_move_to(snapshot.state):
            self.regressions += 1
            message = (
                f"{self.provider} job {self.job_id}: ignored a snapshot moving it from {previous} "
                f"back to {snapshot.state} (provider said {snapshot.provider_state!r}; "
                f"regression #{self.regressions})"
            )
            logger.warning(message)
            if self.policy.strict:
                raise StateRegression(
                    message, previous=self.job or self._remembered(previous), snapshot=snapshot
                )
            return None
        self.memory.observe(at, *job_progress(snapshot))
        news = self.job is None or _signature(self.job) != _signature(snapshot)
        self.job, self.state = snapshot, snapshot.state
        return snapshot if news else None

    def _remembered(self, state: JobState) -> ImportJob:
        """A stand-in for the last snapshot when only a token's remembered state is known."""
        return ImportJob(provider=self.provider, id=self.job_id, state=state, provider_state=state.value)

    def delay(self, now: float) -> float:
        """Seconds until the next poll, never past the deadline."""
        delay = next_delay(self.policy, self.memory, now, retry_after=self.retry_after)
        self.retry_after = None
        if self.deadline is not None:
            delay = min(delay, max(0.0, self.deadline - now))
        return delay

    def out_of_attempts(self) -> bool:
        limit = self.policy.max_attempts
        return limit is not None and self.memory.attempts >= limit

    def exhausted(self, now: float) -> bool:
        """Whether the deadline or the attempt budget has run out."""
        return (self.deadline is not None and now >= self.deadline - _TICK) or self.out_of_attempts()

    def token(self) -> str:
        """The wait as a resume token."""
        context = {**self.context, **_job_context(self.client, self.job)} if self.job else self.context
        state = self.job.state if self.job is not None else self.state
        return _freeze(
            self.client, self.job_id, context, deadline=self.deadline, state=state, memory=self.memory
        )

    def timeout(self, now: float) -> PollTimeout:
        state = self.job.state if self.job is not None else self.state
        started = min((at for at in (self.memory.started, self.began) if at is not None), default=now)
        return PollTimeout(
            f"{self.provider} job {self.job_id} is still {state or 'unknown'} after "
            f"{now - started:.1f} s and {self.memory.attempts} polls; resume it with the token",
            job=self.job,
            token=self.token(),
        )


def _deadline(policy: PollPolicy, timeout: float | None, now: float, carried: float | None) -> float | None:
    """An explicit timeout wins, then a token's absolute deadline, then the policy's."""
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout < 0:
            raise ConfigurationError(f"timeout must be a number of seconds >= 0, got {timeout!r}")
        return now + timeout
    if carried is not None:
        return carried
    return now + policy.deadline if policy.deadline is not None else None


def _watch(
    client: Client, item: ImportJob | str | Token, *, timeout: float | None, policy: PollPolicy | None
) -> _Watch:
    """A watch for a job, a job id or a resume token (as text, or already decoded).

    A token is read with the client's key and admitted only if this client may act on it.
    """
    policy = policy or PollPolicy()
    now = policy.clock()
    name = client.provider.name
    if isinstance(item, ImportJob):
        if item.provider != name:
            raise ConfigurationError(
                f"{item.provider} job {item.id} cannot be waited on with a {name} client"
            )
        if item.id is None and not item.done:
            raise WaitError(f"{name} job has no id and is not finished: there is nothing to poll")
        memory = Memory(started=now)
        context = _job_context(client, item)
        return _Watch(
            client=client, job_id=str(item.id), context=context, policy=policy, began=now,
            deadline=_deadline(policy, timeout, now, None), memory=memory, job=item, state=item.state,
        )  # fmt: skip
    if isinstance(item, str) and looks_like_token(item):
        item = decode(item, key=_token_key(client))
    if isinstance(item, Token):
        token = admit(item, client.provider, _origin(client))
        return _Watch(
            client=client, job_id=token.job_id, context=dict(token.context), policy=policy, began=now,
            deadline=_deadline(policy, timeout, now, token.deadline), memory=token.memory, state=token.state,
        )  # fmt: skip
    if not isinstance(item, str) or not item:
        raise ConfigurationError(f"wait for a job, a job id or a resume token, got {item!r}")
    return _Watch(
        client=client, job_id=item, context=_job_context(client, None), policy=policy,
        began=now, deadline=_deadline(policy, timeout, now, None), memory=Memory(),
    )  # fmt: skip


#: the watch machinery, by public names, for ``importbridge.waitall`` (and an async waiter)
Watch = _Watch
new_watch = _watch
client_origin = _origin


class WatchView:
    """What a poller (sync or async) tells of its watch: ``job`` the latest snapshot,
    ``regressions`` how many backward snapshots were dropped, ``attempts`` the status requests
    made, ``token()`` a resume token for the wait so far."""

    _watch: _Watch

    @property
    def job(self) -> ImportJob | None:
        return self._watch.latest()

    @property
    def regressions(self) -> int:
        return self._watch.regressions

    @property
    def attempts(self) -> int:
        return self._watch.memory.attempts

    def token(self) -> str:
        return self._watch.token()


class Poller(WatchView, Iterator[ImportJob]):
    """Iterates a job's new snapshots until it is terminal; what ``poll()`` returns (see
    ``WatchView`` for what it tells of the wait)."""

    def __init__(self, watch: _Watch) -> None:
        self._watch = watch
        self._steps = self._run()

    def __next__(self) -> ImportJob:
        return next(self._steps)

    def _run(self) -> Iterator[ImportJob]:
        watch, policy = self._watch, self._watch.policy
        if watch.job is not None and watch.job.done:
            return
        if watch.job is not None:  # a fresh snapshot in hand: the first poll can wait its interval
            policy.sleep(watch.delay(policy.clock()))
        while True:
            if watch.out_of_attempts():  # e.g. a token that arrives with its budget spent
                raise watch.timeout(policy.clock())
            news = watch.fetch()
            if news is not None:
                yield news
            if watch.done:
                return
            now = policy.clock()
            if watch.exhausted(now):
                raise watch.timeout(now)
            policy.sleep(watch.delay(now))


def poll(
    client: Client, item: ImportJob | str, *, timeout: float | None = None, policy: PollPolicy | None = None
) -> Poller:
    """Each new snapshot (a change of state or progress) of a job until it is terminal.

    ``item`` is a job, a job id or a resume token. Raises ``PollTimeout`` at the deadline.
    """
    return Poller(_watch(client, item, timeout=timeout, policy=policy))


def wait(
    client: Client,
    item: ImportJob | str,
    *,
    timeout: float | None = None,
    on_update: OnUpdate | None = None,
    policy: PollPolicy | None = None,
) -> ImportJob:
    """Poll until the job is terminal and return it: complete, partial and failed are all answers.

    ``on_update(job)`` is called in this thread, in order, for each change of state or progress.
    ``timeout`` (seconds) overrides the deadline a token carries or the policy sets; at the
    deadline ``PollTimeout`` is raised with the last snapshot and a token to resume. The
    deadline bounds sleeps and requests alike: no sleep runs past it, each request's timeouts
    are cut to the time left (``importbridge.budget``), so it is overshot by at most the
    ``budget.GRACE`` given to the one request made at the deadline.
    """
    return _finish(poll(client, item, timeout=timeout, policy=policy), on_update)


def _finish(poller: Poller, on_update: OnUpdate | None) -> ImportJob:
    """Drive ``poller`` to the job's end, reporting each change to ``on_update``."""
    for snapshot in poller:
        if on_update is not None:
            on_update(snapshot)
    job = poller.job
    assert job is not None  # the poller returns only on a terminal snapshot
    return job


def poll_once(client: Client, token: str, *, policy: PollPolicy | None = None) -> PollStep:
    """Poll a token's job once and say when to poll next: for Airflow, Celery, cron.

    Raises ``PollTimeout`` once the token's deadline or attempt budget has run out.
    """
    if not isinstance(token, str) or not looks_like_token(token.strip()):
        decode(token, key=_token_key(client))  # raises the TokenError that explains what is wrong
    watch = _watch(client, token.strip(), timeout=None, policy=policy)
    watch.fetch()
    now = watch.policy.clock()
    job = watch.latest()
    if watch.done:
        return PollStep(job=job, done=True, next_poll_at=None, token=watch.token())
    if watch.exhausted(now):
        raise watch.timeout(now)
    return PollStep(job=job, done=False, next_poll_at=now + watch.delay(now), token=watch.token())


def make_token(client: Client, job: ImportJob, *, deadline: float | None = None) -> str:
    """A resume token for ``job``: provider, id, non-secret context, and an optional deadline
    (absolute, epoch seconds). ``client.wait(token)`` or ``importbridge.resume(token)`` finish it."""
    if not isinstance(job, ImportJob):
        raise TokenError(f"a token is made from an ImportJob, got {type(job).__name__}")
    if job.provider != client.provider.name:
        raise TokenError(f"{job.provider} job {job.id}: this client talks to {client.provider.name}")
    if job.id is None:
        raise TokenError(f"{job.provider} job has no id (a synchronous import): there is nothing to resume")
    return _freeze(client, job.id, _job_context(client, job), deadline=deadline, state=job.state)
