"""submit_and_wait: batches across the fleet, gathered by a chord into one summary; progress
through Celery's task state; the countdown cap."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from celery import Celery

import importbridge
from importbridge import sandbox
from importbridge.integrations.celery import ImportTasks, create_app, failed_rows, register_tasks

from .conftest import Workers, close_app, worker_env

TIMEOUT = 90


@pytest.fixture(scope="module")
def fleet(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ImportTasks, Any]]:
    """Two workers; sandbox jobs run at 100 rows/s so a wait re-queues itself a few times."""
    with sandbox.run(rate_limit=None, speed=100) as sb:
        workers = Workers(worker_env(redis_url, sb.env), tmp_path_factory.mktemp("workers"))
        workers.start("a")
        workers.start("b")
        try:
            app, tasks = create_app(redis_url, visibility_timeout=8, countdown_cap=2)
            yield tasks, sb
            close_app(app)
        finally:
            workers.stop()


def _state(sb: Any) -> dict[str, Any]:
    return requests.get(f"{sb.url}/_sandbox/state", timeout=10).json()  # type: ignore[no-any-return]


def test_batches_gathered_into_one_summary(fleet: tuple[ImportTasks, Any]) -> None:
    tasks, sb = fleet
    before = _state(sb)["talkvalue"]["imports"]
    records = [{"email": f"fan{n}@example.com", "name": f"fan {n}"} for n in range(230)]
    for n in (7, 120, 229):
        records[n]["email"] = "not an email"  # rejected by the sandbox: INVALID_EMAIL
    summary = tasks.submit_and_wait("talkvalue", records, batch_size=60, key="fan-1",
                                    options={"source_id": 1}).get(timeout=TIMEOUT)
    assert len(summary["batches"]) == 4
    assert _state(sb)["talkvalue"]["imports"] - before == 4
    assert summary["total"] == 230
    assert summary["failed"] == 3
    assert summary["succeeded"] == 227
    assert summary["state"] == "partial"  # some batches rejected rows, every one landed some
    states = [batch["job"]["state"] for batch in summary["batches"]]
    assert states == ["partial", "complete", "partial", "partial"]
    rejected = list(failed_rows(summary, **sb.settings("talkvalue")))
    # rows are numbered from 1 within each batch
    assert sorted((index, row.row) for index, row in rejected) == [(0, 8), (2, 1), (3, 50)]
    assert all(row.error is not None and row.data for _, row in rejected)


def test_the_same_key_again_imports_nothing_twice(fleet: tuple[ImportTasks, Any]) -> None:
    """A call repeated under its key (a retried view, a re-run job) replays Micro's imports."""
    tasks, sb = fleet
    records = [{"name": f"org {n}", "domain": f"again{n}.example"} for n in range(300)]
    first = tasks.submit_and_wait("micro", records, batch_size=150, key="again").get(timeout=TIMEOUT)
    imports = _state(sb)["micro"]["imports"]
    second = tasks.submit_and_wait("micro", records, batch_size=150, key="again").get(timeout=TIMEOUT)
    assert _state(sb)["micro"]["imports"] == imports
    assert first["state"] == second["state"] == "complete"
    assert first["succeeded"] == second["succeeded"] == 300


def test_no_records_is_an_empty_complete_summary(fleet: tuple[ImportTasks, Any]) -> None:
    tasks, _ = fleet
    summary = tasks.submit_and_wait("micro", [], batch_size=10, key="none").get(timeout=TIMEOUT)
    assert summary == {"state": "complete", "total": 0, "processed": 0, "succeeded": 0, "failed": 0,
                       "batches": []}


def test_progress_shows_in_the_task_state(fleet: tuple[ImportTasks, Any]) -> None:
    tasks, _ = fleet
    records = [{"name": f"org {n}", "domain": f"slow{n}.example"} for n in range(800)]
    result = (tasks.submit.s("micro", records, key="progress") | tasks.wait.s()).delay()
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + TIMEOUT
    while not result.ready() and time.monotonic() < deadline:
        if result.state == "PROGRESS":
            seen.append(dict(result.info))
        time.sleep(0.05)
    job = importbridge.from_dict(result.get(timeout=TIMEOUT)["job"])
    assert job.state is importbridge.JobState.COMPLETE
    assert seen, "the wait task never reported progress"
    assert {info["state"] for info in seen} <= {"pending", "running"}
    assert all(info["provider"] == "micro" and info["id"] == job.id for info in seen)
    assert all(info["token"].startswith("ib") for info in seen)


@pytest.mark.parametrize("cap", [8, 20, 0, -1])
def test_a_countdown_cap_at_or_past_the_visibility_timeout_is_refused(cap: float) -> None:
    app = Celery("cap", broker="memory://", broker_transport_options={"visibility_timeout": 8})
    with pytest.raises(importbridge.ConfigurationError, match="visibility timeout"):
        register_tasks(app, countdown_cap=cap)


def test_the_default_cap_is_below_the_visibility_timeout() -> None:
    assert register_tasks(Celery("a", broker="memory://")).countdown_cap == 300
    short = Celery("b", broker="memory://", broker_transport_options={"visibility_timeout": 30})
    assert register_tasks(short).countdown_cap == 15


def test_a_batch_that_fails_fails_the_summary(fleet: tuple[ImportTasks, Any]) -> None:
    tasks, _ = fleet
    result = tasks.submit_and_wait("nosuch", [{"a": n} for n in range(4)], batch_size=2, key="fails")
    with pytest.raises(Exception, match="unknown provider 'nosuch'"):  # the batch's own error
        result.get(timeout=TIMEOUT)
