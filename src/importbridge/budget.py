"""How long the current request may keep retrying: a wait's deadline reaching into the transport.

``wait`` promises never to overshoot its deadline by more than one request's time, but the
transport retries a 429 or a 503 on its own (up to ``RetryPolicy.total``). While a wait polls,
it sets the seconds left before its deadline here; the transport then gives up retrying rather
than sleep past them, and the wait ends on time with ``PollTimeout``. A context variable, so
``wait_all``'s worker threads each carry their own job's budget.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["limited", "remaining"]

_REMAINING: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "importbridge_retry_budget", default=None
)


def remaining() -> float | None:
    """Seconds the current request may spend on retries (None: only the transport's own limit)."""
    return _REMAINING.get()


@contextmanager
def limited(seconds: float | None) -> Iterator[None]:
    """Within the block, requests stop retrying once ``seconds`` would be exceeded."""
    reset = _REMAINING.set(seconds)
    try:
        yield
    finally:
        _REMAINING.reset(reset)
