"""Both engines against the sandbox with random faults: the same snapshots, nothing doubled.

Micro's import is idempotent (``Idempotency-Key``), so every submit ends in one import
however many times a fault made the engine send it; every GET ends in the job's snapshot.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

import importbridge
from importbridge import ImportJob, sandbox
from importbridge.flows import Flow, Request

from .support import Engine

ROWS = [{"name": f"Company {n}", "domain": f"company{n}.example.com"} for n in range(150)]


def submit_flow(team: str, rows: Sequence[Mapping[str, Any]], key: str) -> Flow[ImportJob]:
    response = yield Request(
        "POST",
        f"/v2/prism/{team}/organization/import",
        json={"objects": [{"default": dict(row)} for row in rows]},
        headers={"Idempotency-Key": key},
        idempotent=True,
    )
    return importbridge.normalize("micro", response.data)


def get_flow(team: str, job_id: str) -> Flow[ImportJob]:
    response = yield Request("GET", f"/v2/prism/{team}/imports/{job_id}")
    return importbridge.normalize("micro", response.data)


@pytest.mark.parametrize("seed", [1, 2])
def test_faults_change_nothing_but_the_number_of_attempts(engine_kind: str, seed: int) -> None:
    with sandbox.run(frozen=True, rate_limit=None, faults=0.3, seed=seed, slow_seconds=0.05) as sb:
        settings = sb.settings("micro")
        retry = importbridge.RetryPolicy(sleep=lambda seconds: None, tries=12)
        engine = Engine(engine_kind, settings, provider=importbridge.get_provider("micro"), retry=retry)
        team = settings["team_id"]
        keys = [str(uuid.uuid4()) for _ in range(6)]
        jobs = [engine.run(submit_flow(team, ROWS, key)) for key in keys]
        sb.clock.advance(60)
        finished = [engine.run(get_flow(team, str(job.id))) for job in jobs for _ in range(3)]
        state = sb.state()
    assert sum(state["micro"]["faults"].values()) > 0
    assert state["micro"]["imports"] == len(keys)  # nothing doubled
    assert state["micro"]["records"] == len(ROWS) * len(keys)  # no row lost, none doubled
    assert {job.state for job in finished} == {importbridge.JobState.COMPLETE}
    assert [job.id for job in finished] == [job.id for job in jobs for _ in range(3)]
