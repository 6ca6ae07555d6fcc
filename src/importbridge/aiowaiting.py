"""Waiting, async face: ``wait``, ``poll``, ``poll_once`` and ``wait_all`` on an event loop.

One logic, two faces: a job is watched by the same ``Watch`` as the sync face
(``importbridge.polling``): the same state machine, schedule (``importbridge.schedule``),
deadline, transient-failure rule and resume tokens. Only the status request is awaited and
the sleeps are ``asyncio.sleep`` (or the policy's own ``sleep`` when a test injected a virtual
clock's, which returns at once). ``wait_all`` spaces requests by the same per-credential token
buckets as the sync ``wait_all`` (``importbridge.waitall``); its scheduler is the sync one's, with a task
per status request in flight instead of a worker thread.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import TYPE_CHECKING

from .budget import limited
from .errors import ConfigurationError, ProviderError, TokenError, TransportError
from .fleet import Fleet
from .model import ImportJob
from .polling import OnUpdate, PollStep, Watch, WatchView, new_watch
from .schedule import PollPolicy
from .tokens import TokenKey, decode, looks_like_token

if TYPE_CHECKING:
    from .aio import AsyncImportClient

__all__ = ["AsyncPoller", "poll", "poll_once", "wait", "wait_all"]


async def sleep(policy: PollPolicy, seconds: float) -> None:
    """The policy's sleep, awaited: ``asyncio.sleep`` unless a test injected its own."""
    if policy.sleep is time.sleep:
        await asyncio.sleep(seconds)
    else:
        policy.sleep(seconds)


async def fetch(watch: Watch) -> ImportJob | None:
    """Ask once (within the wait's deadline); the snapshot if it is news (``Watch.absorb``)."""
    client: AsyncImportClient = watch.client  # type: ignore[assignment]
    left = None if watch.deadline is None else max(0.0, watch.deadline - watch.policy.clock())
    outcome: ImportJob | Exception
    try:
        with limited(left):  # a context variable: this task's requests see this wait's budget
            outcome = await client.get(watch.job_id, **watch.context)
    except (TransportError, ProviderError) as error:
        outcome = error
    return watch.absorb(outcome)


class AsyncPoller(WatchView):
    """Iterates (``async for``) a job's new snapshots until it is terminal.

    ``job``, ``regressions``, ``attempts`` and ``token()`` as on the sync ``Poller`` (``WatchView``).
    """

    def __init__(self, watch: Watch) -> None:
        self._watch = watch
        self._steps = self._run()

    def __aiter__(self) -> AsyncPoller:
        return self

    async def __anext__(self) -> ImportJob:
        return await self._steps.__anext__()

    async def _run(self) -> AsyncIterator[ImportJob]:
        watch, policy = self._watch, self._watch.policy
        if watch.job is not None and watch.job.done:
            return
        if watch.job is not None:  # a fresh snapshot in hand: the first poll can wait its interval
            await sleep(policy, watch.delay(policy.clock()))
        while True:
            if watch.out_of_attempts():
                raise watch.timeout(policy.clock())
            news = await fetch(watch)
            if news is not None:
                yield news
            if watch.done:
                return
            now = policy.clock()
            if watch.exhausted(now):
                raise watch.timeout(now)
            await sleep(policy, watch.delay(now))


def poll(
    client: AsyncImportClient,
    item: ImportJob | str,
    *,
    timeout: float | None = None,
    policy: PollPolicy | None = None,
) -> AsyncPoller:
    """Each new snapshot of a job (a job, a job id or a resume token) until it is terminal."""
    return AsyncPoller(new_watch(client, item, timeout=timeout, policy=policy))  # type: ignore[arg-type]


async def wait(
    client: AsyncImportClient,
    item: ImportJob | str,
    *,
    timeout: float | None = None,
    on_update: OnUpdate | None = None,
    policy: PollPolicy | None = None,
) -> ImportJob:
    """Poll until the job is terminal and return it (see ``importbridge.polling.wait``)."""
    poller = poll(client, item, timeout=timeout, policy=policy)
    async for snapshot in poller:
        if on_update is not None:
            on_update(snapshot)
    job = poller.job
    assert job is not None  # the poller returns only on a terminal snapshot
    return job


async def poll_once(client: AsyncImportClient, token: str, *, policy: PollPolicy | None = None) -> PollStep:
    """Poll a token's job once and say when to poll next (see ``importbridge.polling.poll_once``)."""
    if not isinstance(token, str) or not looks_like_token(token.strip()):
        decode(token)  # raises the TokenError that explains what is wrong
    watch = new_watch(client, token.strip(), timeout=None, policy=policy)  # type: ignore[arg-type]
    await fetch(watch)
    now = watch.policy.clock()
    job = watch.latest()
    if watch.done:
        return PollStep(job=job, done=True, next_poll_at=None, token=watch.token())
    if watch.exhausted(now):
        raise watch.timeout(now)
    return PollStep(job=job, done=False, next_poll_at=now + watch.delay(now), token=watch.token())


async def wait_all(
    items: Iterable[ImportJob | str],
    *,
    clients: Iterable[AsyncImportClient] | Mapping[str, AsyncImportClient],
    concurrency: int = 100,
    timeout: float | None = None,
    on_update: OnUpdate | None = None,
    policy: PollPolicy | None = None,
    token_key: TokenKey | None = None,
) -> AsyncIterator[ImportJob]:
    """Yield each job once, as it reaches a terminal state (see ``importbridge.waitall``).

    ``clients``: one async client per provider the items name. ``concurrency``: status
    requests in flight at once. Jobs unfinished at their deadline end the iteration with
    ``PollTimeout`` once every other job is done (``tokens`` lists a token for each).
    """
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ConfigurationError(f"concurrency must be a positive integer, got {concurrency!r}")
    policy = policy or PollPolicy()
    by_provider = {
        c.provider.name: c for c in (clients.values() if isinstance(clients, Mapping) else clients)
    }
    watches: dict[tuple[str, str], Watch] = {}
    for index, item in enumerate(items):
        if isinstance(item, ImportJob):
            name = item.provider
        elif isinstance(item, str) and looks_like_token(item.strip()):
            item = item.strip()
            name = decode(item, key=token_key).provider
        else:
            raise TokenError(f"wait_all item {index}: expected a job or a resume token, got {item!r:.40}")
        client = by_provider.get(name)
        if client is None:
            raise ConfigurationError(f"wait_all item {index}: no client given for provider {name!r}")
        watch = new_watch(client, item, timeout=timeout, policy=policy)  # type: ignore[arg-type]
        watches.setdefault((watch.provider, watch.job_id), watch)

    fleet = Fleet(watches.values(), policy, concurrency)  # the sync face's scheduling, with tasks
    in_flight: dict[asyncio.Future[ImportJob | None], Watch] = {}
    try:
        for known in fleet.finished:
            yield known
        while fleet.active:
            now = policy.clock()
            for watch in fleet.due(now):
                in_flight[asyncio.ensure_future(fetch(watch))] = watch
            if not in_flight:
                await sleep(policy, fleet.idle(now))
                continue
            finished, _ = await asyncio.wait(
                in_flight, timeout=fleet.patience(now), return_when=asyncio.FIRST_COMPLETED
            )
            for task in finished:
                watch = in_flight.pop(task)
                news = task.result()
                if news is not None and on_update is not None:
                    on_update(news)
                ended = fleet.answered(watch)
                if ended is not None:
                    yield ended
    finally:
        for task in in_flight:
            task.cancel()
        if in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)
    error = fleet.timeout_error()
    if error is not None:
        raise error
