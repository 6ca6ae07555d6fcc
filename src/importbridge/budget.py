"""How long the current request may take: a wait's deadline reaching into the transport.

``wait`` promises to end within its deadline, but the transport retries a 429 or a 503 on its
own (up to ``RetryPolicy.total``) and each attempt may wait on a slow server. While a wait polls,
it sets the seconds left before its deadline here (a context variable, so ``wait_all``'s worker
threads each carry their own job's budget). The transport then gives up retrying rather than
sleep past them, caps each attempt's connect and read timeouts by them (``attempt_timeout``),
and cuts off an answer still arriving at the deadline (``importbridge.wire``); the wait ends on
time with ``PollTimeout``.

A request made at the deadline itself (a wait's last poll) still gets ``GRACE`` seconds to
answer, so a job that finished during the last sleep is seen; the wait then overshoots its
deadline by at most that.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["GRACE", "attempt_timeout", "deadline", "limited", "remaining"]

#: seconds a request may take when it is made with (almost) no time left
GRACE = 0.5

_REMAINING: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "importbridge_retry_budget", default=None
)


def remaining() -> float | None:
    """Seconds the current request may take, retries included (None: only the transport's limits)."""
    return _REMAINING.get()


@contextmanager
def limited(seconds: float | None) -> Iterator[None]:
    """Within the block, requests end (retries included) once ``seconds`` have passed."""
    reset = _REMAINING.set(seconds)
    try:
        yield
    finally:
        _REMAINING.reset(reset)


def deadline(now: float) -> float | None:
    """When the current request must be over, on the clock ``now`` was read from (None: never)."""
    left = remaining()
    return None if left is None else now + max(left, GRACE)


def attempt_timeout(
    timeout: float | tuple[float | None, float | None] | None, deadline: float | None, now: float
) -> tuple[float | None, float | None]:
    """One attempt's (connect, read) timeouts: the configured ones (None: none), each cut to the
    time left before ``deadline``."""
    connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    if deadline is None:
        return connect, read
    left = max(deadline - now, 1e-3)  # zero would mean "non-blocking" to a socket
    return (left if connect is None else min(connect, left)), (left if read is None else min(read, left))
