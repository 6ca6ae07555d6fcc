"""``ImportTrigger``: waits for an import in the triggerer's event loop, one ``poll_once`` at a time.

Its serialized form is the connection id, the resume token and the absolute deadline: nothing
secret (credentials come from the connection, in the triggerer) and nothing that changes while
it runs, so a trigger rebuilt from it (a triggerer restart, two triggerers running it) polls
the same job from the same token, never submits, and ends with the same event. The schedule is
importbridge's (``PollStep.next_poll_at``); a transient failure (the network, a 5xx, a 429) is
waited out with capped backoff until the deadline, never turned into a task failure.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from importbridge import ImportJob, to_dict
from importbridge.errors import ImportBridgeError, PollTimeout, ProviderError, RateLimited, TransportError

from .hooks import ImportBridgeHook

#: longest pause after a transient failure, seconds
MAX_BACKOFF = 60.0


def is_transient(error: ImportBridgeError) -> bool:
    """A failure worth another try later: the network, a rate limit, a provider's 5xx."""
    return isinstance(error, (TransportError, RateLimited)) or (
        isinstance(error, ProviderError) and error.status >= 500
    )


class ImportTrigger(BaseTrigger):
    """Fires once the job a resume token names is terminal, or at ``deadline`` (epoch seconds).

    Events (``event.payload``): ``{"status": "done", "job": to_dict(job)}``;
    ``{"status": "timeout", "token": ..., "job": ...}`` (resume it elsewhere); or
    ``{"status": "error", "error": <exception class>, "message": ...}`` for a failure that
    another try cannot fix (authentication, a job not found, a bad token or connection).
    """

    def __init__(self, *, conn_id: str, token: str, deadline: float) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.conn_id = conn_id
        self.token = token
        self.deadline = float(deadline)

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {"conn_id": self.conn_id, "token": self.token, "deadline": self.deadline},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        try:
            async with ImportBridgeHook(self.conn_id).shared_async_conn() as client:
                payload = await self._wait(client)
        except ImportBridgeError as error:
            payload = failure(error)
        yield TriggerEvent(payload)  # type: ignore[no-untyped-call]

    async def _wait(self, client: Any) -> dict[str, Any]:
        token, failures = self.token, 0
        while True:
            try:
                step = await client.poll_once(token)
            except PollTimeout as error:
                return {"status": "timeout", "token": error.token or token, "job": await _as_dict(error.job)}
            except ImportBridgeError as error:
                if not is_transient(error):
                    return failure(error)
                if time.time() >= self.deadline:  # still unreachable at the deadline: resumable
                    return {"status": "timeout", "token": token, "job": None}
                failures += 1
                pause = min(MAX_BACKOFF, 2.0**failures, max(0.0, self.deadline - time.time()))
                self.log.warning("importbridge: %s; polling again in %.0f s", error, pause)
                await asyncio.sleep(pause)
                continue
            failures, token = 0, step.token
            if step.done:
                return {"status": "done", "job": await _as_dict(step.job)}
            now = time.time()
            if now >= self.deadline:
                return {"status": "timeout", "token": token, "job": await _as_dict(step.job)}
            await asyncio.sleep(max(0.0, min(step.next_poll_at, self.deadline) - now))


async def _as_dict(job: ImportJob | None) -> dict[str, Any] | None:
    """``to_dict`` in a worker thread: its first call builds the converter (tens of milliseconds)."""
    return None if job is None else await asyncio.to_thread(to_dict, job)


def failure(error: ImportBridgeError) -> dict[str, Any]:
    """The event of a failure another try cannot fix (our messages never hold a secret)."""
    return {"status": "error", "error": type(error).__name__, "message": str(error)}
