"""A virtual clock and a scripted in-process client for the polling tests.

The scripted client stands in for ``ImportClient`` where a test needs exact control of what
each status request answers (regressions, 429s, failures); everything that crosses HTTP uses
the sandbox instead (test_sandbox.py, test_wait_all.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from importbridge import ImportJob, JobState, Provider, Setting


class VirtualClock:
    """Time that only moves when something sleeps; records every sleep."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, f"negative sleep {seconds}"
        self.sleeps.append(seconds)
        self.now += seconds


class FakeProvider(Provider):
    name = "fake"
    settings = (
        Setting(name="api_key", env="FAKE_API_KEY", secret=True),
        Setting(name="team_id", env="FAKE_TEAM_ID", context=True),
    )
    rate_limit = 5.0


class FakeConnection:
    def __init__(self, team: str = "team-42") -> None:
        self.settings = {"api_key": "sk-secret-do-not-leak", "team_id": team}


Answer = ImportJob | Exception | Callable[[float], ImportJob | Exception]


class ScriptedClient:
    """Answers status requests from a script (one entry per request; the last one repeats).

    An entry is a job, an exception to raise, or a function of the clock's time.
    """

    def __init__(self, clock: VirtualClock, script: Iterable[Answer], *, request_time: float = 0.0) -> None:
        self.provider = FakeProvider()
        self.connection: Any = FakeConnection()
        self.clock = clock
        self.script = list(script)
        self.request_time = request_time
        self.calls: list[tuple[float, str, dict[str, str]]] = []

    def get(self, job_id: str, **context: str) -> ImportJob:
        self.calls.append((self.clock.now, job_id, context))
        answer = self.script[min(len(self.calls) - 1, len(self.script) - 1)]
        self.clock.now += self.request_time
        if callable(answer) and not isinstance(answer, ImportJob):
            answer = answer(self.clock.now)
        if isinstance(answer, Exception):
            raise answer
        return answer


def job(
    state: str = "running", progress: float | None = None, job_id: str = "j1", **fields: Any
) -> ImportJob:
    return ImportJob(
        provider="fake",
        id=job_id,
        state=JobState(state),
        provider_state=state.upper(),
        progress=progress,
        **fields,
    )


class FleetClient:
    """Many jobs, each running linearly from ``start`` to its own finish time; thread-safe."""

    def __init__(
        self,
        clock: VirtualClock,
        finishes: dict[str, float],
        *,
        provider: Provider | None = None,
        team: str = "team-42",
    ):
        self.provider = provider or FakeProvider()
        self.connection: Any = FakeConnection(team)
        self.clock = clock
        self.start = clock.now
        self.finishes = finishes
        self.calls: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def get(self, job_id: str, **context: str) -> ImportJob:
        with self._lock:
            now = self.clock.now
            self.calls.append((now, job_id))
        finish = self.finishes[job_id]
        name = self.provider.name
        if now >= finish:
            return ImportJob(provider=name, id=job_id, state=JobState.COMPLETE, provider_state="done",
                             total=100, processed=100, succeeded=100, failed=0)  # fmt: skip
        done = int((now - self.start) / (finish - self.start) * 100)
        return ImportJob(provider=name, id=job_id, state=JobState.RUNNING, provider_state="busy",
                         total=100, processed=done)  # fmt: skip

    def close(self) -> None:
        pass
