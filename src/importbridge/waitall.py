"""``wait_all``: many jobs of any providers, one process, bounded threads, polite to rate limits.

Design: the scheduling is ``importbridge.fleet.Fleet`` (shared with the async face): a heap of
jobs by when each is next due, a ``TokenBucket`` per provider and credential at the provider's
documented ``rate_limit``. The generator's own thread takes the due jobs from it and hands the
status request alone to a ``ThreadPoolExecutor`` of ``concurrency`` workers. Answers come back
to the generator's thread, which runs the state-machine guard and ``on_update`` and yields
finished jobs.

Clients are shared: one per provider and context (the ``clients`` given are used first), so
1,000 jobs share a handful of pooled sessions. When nothing is in flight the generator sleeps
with the policy's ``sleep`` until the next job is due, so virtual clocks work here too.
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .errors import ConfigurationError, TokenError
from .fleet import HEADROOM, Fleet
from .model import ImportJob
from .polling import Client, OnUpdate, Watch, client_origin, new_watch
from .schedule import PollPolicy
from .tokens import Token, TokenKey, admit, connection_settings, decode, looks_like_token, resolve_key

if TYPE_CHECKING:
    from .client import ImportClient
    from .provider import Provider

__all__ = ["HEADROOM", "wait_all"]

logger = logging.getLogger("importbridge")

#: makes a client from an admitted token's context settings (a team id, ...), overridden by
#: settings, its tokens signed with the key
Connector = Callable[[Token, Mapping[str, Any], "TokenKey | None"], "ImportClient"]


class _Clients:
    """One client per provider and context: the caller's first, then ones connected here.

    A token is matched to a given client whose origin and context settings (e.g. Micro's team)
    agree with the token's, else to the provider's first given client (providers read the team
    from the token's context), else to a client connected from the environment with that
    context. ``key`` reads the tokens, and signs those of the clients connected here.
    """

    def __init__(self, given: Any, key: TokenKey | None, connect: Connector | None) -> None:
        self.key = key
        self._connect = connect
        if given is None:
            given = ()
        elif isinstance(given, Mapping):
            given = given.values()
        self._given: dict[str, list[Client]] = {}
        for client in given:
            self._given.setdefault(client.provider.name, []).append(client)
        self._made: dict[tuple[str, tuple[tuple[str, str], ...]], ImportClient] = {}

    def for_job(self, job: ImportJob) -> Client:
        return self.for_token(Token(provider=job.provider, job_id="-"))

    def for_token(self, token: Token) -> Client:
        """The client for a decoded token, once its context is admitted (before any connecting)."""
        given = self._given.get(token.provider, [])
        if given:
            admit(token, given[0].provider)
            carried = _carried(given[0].provider, token.context)
            matching = (
                c for c in given
                if all(c.connection.settings.get(k) == v for k, v in carried)
                and token.origin in (None, client_origin(c))
            )  # fmt: skip
            return next(matching, given[0])
        from .plugins import get_provider

        provider = get_provider(token.provider)
        carried = _carried(provider, admit(token, provider).context)
        key = (token.provider, carried)
        if key not in self._made:
            if self._connect is None:
                raise ConfigurationError(f"wait_all: no client given for provider {token.provider!r}")
            stand_in = Token(provider=token.provider, job_id="-", context=dict(carried))
            self._made[key] = self._connect(stand_in, {}, self.key)
        return self._made[key]

    def close(self) -> None:
        for client in self._made.values():
            client.close()


def _carried(provider: Provider, context: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The context entries that are connection settings of ``provider`` (e.g. a team id), as a key."""
    return tuple(sorted(connection_settings(provider, context).items()))


def _watches(
    items: Iterable[ImportJob | str], clients: _Clients, timeout: float | None, policy: PollPolicy
) -> list[Watch]:
    """A watch per distinct job; a job or token named twice is watched once."""
    watches: dict[tuple[str, str], Watch] = {}
    for index, item in enumerate(items):
        watched: ImportJob | Token
        if isinstance(item, ImportJob):
            watched, client = item, clients.for_job(item)
        elif isinstance(item, str) and looks_like_token(item.strip()):
            watched = decode(item, key=clients.key)
            client = clients.for_token(watched)
        elif isinstance(item, str):
            raise TokenError(f"wait_all item {index}: expected a job or a resume token, got {item[:24]!r}")
        else:
            raise ConfigurationError(
                f"wait_all item {index}: expected a job or a resume token, got {type(item).__name__}"
            )
        watch = new_watch(client, watched, timeout=timeout, policy=policy)
        watches.setdefault((watch.provider, watch.job_id), watch)
    return list(watches.values())


def wait_all(
    items: Iterable[ImportJob | str],
    *,
    clients: Iterable[Client] | Mapping[str, Client] | None = None,
    concurrency: int = 16,
    timeout: float | None = None,
    on_update: OnUpdate | None = None,
    policy: PollPolicy | None = None,
    token_key: TokenKey | str | bytes | None = None,
    connect: Connector | None = None,
) -> Iterator[ImportJob]:
    """Yield each job once, as it reaches a terminal state (in the order they finish).

    ``items``: ``ImportJob``s and resume tokens, of any providers. ``clients``: clients to use
    (an iterable, or a mapping whose values are clients); a provider with none given is
    connected from the environment (a token's context settings included). ``concurrency``:
    worker threads, i.e. status requests in flight at once. ``on_update(job)`` runs in the
    caller's thread on each change of state or progress. ``timeout``: seconds for the whole
    batch (tokens otherwise keep their own deadlines). Jobs still unfinished at their deadline
    end the generator with ``PollTimeout`` once every other job is done: its ``job``/``token``
    name the first of them and its ``tokens`` attribute lists a token for each. Tokens are
    read with ``token_key`` (default: ``IMPORTBRIDGE_TOKEN_KEY``), and each is refused
    (``TokenError``) if it carries undeclared context or was made for another origin than its
    client's. ``connect(token, settings, key)`` makes the clients not given
    (``importbridge.wait_all`` passes one that connects from the environment); without it each
    provider needs a client.
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigurationError(f"concurrency must be a positive integer, got {concurrency!r}")
    key = resolve_key(token_key)
    clients_ = _Clients(clients, key, connect)
    return _run(items, clients_, concurrency, timeout, on_update, policy or PollPolicy())


def _run(
    items: Iterable[ImportJob | str],
    clients: _Clients,
    concurrency: int,
    timeout: float | None,
    on_update: OnUpdate | None,
    policy: PollPolicy,
) -> Iterator[ImportJob]:
    """Drive a ``Fleet`` with a thread pool: each status request runs in a worker thread."""
    executor = concurrent.futures.ThreadPoolExecutor(concurrency, thread_name_prefix="importbridge-wait")
    in_flight: dict[concurrent.futures.Future[ImportJob | Exception], Watch] = {}
    try:
        fleet = Fleet(_watches(items, clients, timeout, policy), policy, concurrency)
        yield from fleet.finished
        while fleet.active:
            now = policy.clock()
            for watch in fleet.due(now):
                in_flight[executor.submit(watch.call)] = watch
            if not in_flight:
                policy.sleep(fleet.idle(now))
                continue
            finished, _ = concurrent.futures.wait(
                in_flight, timeout=fleet.patience(now), return_when=concurrent.futures.FIRST_COMPLETED
            )
            for future in finished:
                watch = in_flight.pop(future)
                news = watch.absorb(future.result())
                if news is not None and on_update is not None:
                    on_update(news)
                job = fleet.answered(watch)
                if job is not None:
                    yield job
    finally:
        for future in in_flight:
            future.cancel()
        executor.shutdown(wait=True, cancel_futures=True)
        clients.close()
    error = fleet.timeout_error()
    if error is not None:
        raise error


