"""``wait_all``'s scheduling, without I/O: one logic for the sync (threads) and async (tasks) faces.

A ``Fleet`` holds every unfinished job's ``Watch`` in a heap ordered by when it is next due
(each job keeps its own schedule, as ``wait`` would). A driver asks it which watches to send
now (``due``: at most ``concurrency`` in flight, each taking a token from its credential's
``TokenBucket`` first; a job whose token is not free yet goes back to when it will be, so
other providers' jobs keep moving), how long it may wait for an answer (``patience``), and
hands each answer back (``answered``), which yields the job once it is terminal or schedules
its next poll. Jobs past their deadline are set aside; ``timeout_error`` says which.

The drivers only do the I/O: ``waitall`` sends ``Watch.call`` to a thread pool, ``aiowaiting``
runs the async client's ``get`` as tasks.
"""

from __future__ import annotations

import hashlib
import heapq
import itertools
from collections.abc import Iterable, Sequence

from .errors import PollTimeout
from .model import ImportJob
from .polling import Client, Watch
from .ratelimit import TokenBucket
from .schedule import PollPolicy

__all__ = ["HEADROOM", "Fleet", "timed_out_error"]

#: fraction of a provider's documented rate limit that wait_all uses (clock skew, float edges)
HEADROOM = 0.9


class Fleet:
    """The jobs of one ``wait_all``: which to ask next, when, and what each answer means."""

    def __init__(self, watches: Iterable[Watch], policy: PollPolicy, concurrency: int) -> None:
        self.policy = policy
        self.concurrency = concurrency
        self.in_flight = 0
        self.timed_out: list[Watch] = []
        self._buckets: dict[tuple[str, str], TokenBucket | None] = {}
        self._counter = itertools.count()
        self._heap: list[tuple[float, int, Watch]] = []
        self.finished: list[ImportJob] = []  # terminal before any poll: yield these first
        now = policy.clock()
        for watch in watches:
            if watch.done:
                job = watch.latest()
                assert job is not None  # done implies a known state
                self.finished.append(job)
                continue
            self._push(now + watch.delay(now) if watch.job is not None else now, watch)

    @property
    def active(self) -> bool:
        """Whether any job is still scheduled or being asked."""
        return bool(self._heap) or self.in_flight > 0

    def due(self, now: float) -> list[Watch]:
        """The watches to ask now (counted as in flight until ``answered``)."""
        sent: list[Watch] = []
        while self._heap and self._heap[0][0] <= now and self.in_flight < self.concurrency:
            _, _, watch = heapq.heappop(self._heap)
            if watch.deadline is not None and now > watch.deadline:  # held past it by the bucket
                self.timed_out.append(watch)
                continue
            bucket = self._bucket(watch)
            wait = bucket.reserve() if bucket is not None else 0.0
            if wait > 0:
                self._push(now + wait, watch)
                continue
            self.in_flight += 1
            sent.append(watch)
        return sent

    def idle(self, now: float) -> float:
        """With nothing in flight: how long to sleep until the next job is due."""
        return max(0.0, self._heap[0][0] - now) if self._heap else 0.0

    def patience(self, now: float) -> float | None:
        """How long to wait for answers before the next job is due (None: until one comes)."""
        if self._heap and self.in_flight < self.concurrency:
            return max(0.0, self._heap[0][0] - now)
        return None

    def answered(self, watch: Watch) -> ImportJob | None:
        """The watch has absorbed its answer: its job if terminal, else it is scheduled again."""
        self.in_flight -= 1
        if watch.done:
            job = watch.latest()
            assert job is not None  # done implies a known state
            return job
        now = self.policy.clock()
        if watch.retry_after is not None:
            bucket = self._bucket(watch)
            if bucket is not None:
                bucket.hold(watch.retry_after)
        if watch.exhausted(now):
            self.timed_out.append(watch)
        else:
            self._push(now + watch.delay(now), watch)
        return None

    def timeout_error(self) -> PollTimeout | None:
        """The ``PollTimeout`` ending the wait, if jobs did not finish in time."""
        return timed_out_error(self.timed_out, self.policy.clock()) if self.timed_out else None

    def _push(self, due: float, watch: Watch) -> None:
        heapq.heappush(self._heap, (due, next(self._counter), watch))

    def _bucket(self, watch: Watch) -> TokenBucket | None:
        """The token bucket of the watch's credential (None: the provider documents no rate limit)."""
        key = _credential(watch.client)
        if key not in self._buckets:
            rate = watch.client.provider.rate_limit
            self._buckets[key] = TokenBucket(rate * HEADROOM, clock=self.policy.clock) if rate else None
        return self._buckets[key]


def timed_out_error(timed_out: Sequence[Watch], now: float) -> PollTimeout:
    """The ``PollTimeout`` ending a ``wait_all`` whose ``timed_out`` jobs did not finish in time."""
    earliest = timed_out[0].timeout(now)
    return PollTimeout(
        f"{len(timed_out)} of the jobs did not finish in time; the first: {earliest}",
        job=earliest.job,
        token=earliest.token,
        tokens=[watch.token() for watch in timed_out],
    )


def _credential(client: Client) -> tuple[str, str]:
    """Who the provider counts requests against: its name and a digest of the client's secrets.

    Limits are per credential (Micro: per API key), so clients of two teams on one key share a
    bucket. A digest, so the bucket table holds no secret.
    """
    provider, settings = client.provider, client.connection.settings
    secrets = [str(settings.get(setting.name) or "") for setting in provider.settings if setting.secret]
    return provider.name, hashlib.sha256("\0".join(secrets).encode()).hexdigest()
