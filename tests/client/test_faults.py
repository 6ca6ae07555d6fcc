"""Soak under the sandbox's fault mode (30%, seeded): nothing lost, nothing doubled.

Faults: 429, 500, 502, 503, a reset before or after the request is handled, a slow answer, a
truncated body. Micro imports carry an Idempotency-Key, so every one must land exactly once;
Qobra and TalkValue imports cannot be resent safely, so each submit must either land once or
raise ``SubmitOutcomeUnknown`` (and the sandbox must show no more imports than that allows).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import importbridge
from importbridge import ImportJob, SubmitOutcomeUnknown

OPERATIONS = 100
# immediate retries: the sandbox draws faults per request, not per second
POLICY = importbridge.RetryPolicy(tries=12, base=0.001, cap=0.01, sleep=lambda _: None)
SANDBOX = {"faults": 0.3, "rate_limit": None, "slow_seconds": 0.01, "sync_threshold": 100}

pytestmark = pytest.mark.slow


def run_soak(
    sb: Any, provider: str, submit: Callable[[importbridge.ImportClient, int], ImportJob]
) -> tuple[list[ImportJob], int]:
    """``OPERATIONS`` submits under faults: (the jobs returned, how many outcomes were unknown)."""
    jobs: list[ImportJob] = []
    unknown = 0
    with importbridge.connect(provider, retry=POLICY, timeout=(2.0, 5.0), **sb.settings(provider)) as client:
        for n in range(OPERATIONS):
            try:
                jobs.append(submit(client, n))
            except SubmitOutcomeUnknown:
                unknown += 1
    sb.faults.rate = 0.0
    assert sum(sb.state()[provider]["faults"].values()) >= OPERATIONS * 0.3  # the faults really happened
    return jobs, unknown


@pytest.mark.importbridge_sandbox(seed=11, **SANDBOX)
def test_every_micro_import_lands_exactly_once(importbridge_sandbox) -> None:
    def submit(client: importbridge.ImportClient, n: int) -> ImportJob:
        return client.submit([{"name": f"org-{n}-{k}", "domain": f"o{n}-{k}.example.com"} for k in range(3)])

    jobs, unknown = run_soak(importbridge_sandbox, "micro", submit)
    assert unknown == 0
    assert [job.succeeded for job in jobs] == [3] * OPERATIONS
    state = importbridge_sandbox.state()["micro"]
    assert state["imports"] == OPERATIONS
    assert state["records"] == 3 * OPERATIONS
    assert state["rows_submitted"] == 3 * OPERATIONS
    replays = sum(entry["replays"] for entry in state["idempotency_keys"].values())
    assert replays > 0  # some answers were lost and replayed, not re-imported


@pytest.mark.importbridge_sandbox(seed=12, **SANDBOX)
def test_every_qobra_submit_lands_once_or_is_reported_unknown(importbridge_sandbox) -> None:
    def submit(client: importbridge.ImportClient, n: int) -> ImportJob:
        return client.submit([{"id": f"{n}-{k}", "amount": str(k)} for k in range(2)], table="deals")

    jobs, unknown = run_soak(importbridge_sandbox, "qobra", submit)
    check_lands_once_or_unknown(importbridge_sandbox, "qobra", jobs, unknown, rows_per_submit=2)


@pytest.mark.importbridge_sandbox(seed=13, **SANDBOX)
def test_every_talkvalue_submit_lands_once_or_is_reported_unknown(importbridge_sandbox) -> None:
    def submit(client: importbridge.ImportClient, n: int) -> ImportJob:
        rows = [{"email": f"p{n}-{k}@example.com", "first_name": f"P{k}"} for k in range(2)]
        return client.submit(rows, source_id=1)

    jobs, unknown = run_soak(importbridge_sandbox, "talkvalue", submit)
    check_lands_once_or_unknown(importbridge_sandbox, "talkvalue", jobs, unknown, rows_per_submit=2)


def check_lands_once_or_unknown(
    sb: Any, provider: str, jobs: list[ImportJob], unknown: int, rows_per_submit: int
) -> None:
    assert len(jobs) + unknown == OPERATIONS
    assert 0 < unknown < OPERATIONS / 2  # the doubt is real but rare
    ids = [job.id for job in jobs]
    assert len(set(ids)) == len(ids)  # no two submits were answered with one import
    state = sb.state()[provider]
    assert len(jobs) <= state["imports"] <= len(jobs) + unknown
    assert state["rows_submitted"] == rows_per_submit * state["imports"]  # no import was sent twice
    with importbridge.connect(provider, **sb.settings(provider)) as client:
        for job in jobs:  # every import we were told about exists
            assert client.get(str(job.id)).id == job.id


@pytest.mark.importbridge_sandbox(seed=14, **SANDBOX)
def test_submit_many_under_faults_lands_every_talkvalue_row_once(importbridge_sandbox) -> None:
    sb = importbridge_sandbox
    rows = [{"email": f"p{n}@example.com"} for n in range(400)]
    with importbridge.connect("talkvalue", retry=POLICY, **sb.settings("talkvalue")) as client:
        jobs = client.submit_many(rows, chunk_size=20, source_id=1)
    sb.faults.rate = 0.0
    state = sb.state()["talkvalue"]
    assert len(jobs) == 20
    assert (state["imports"], state["rows_submitted"], state["records"]) == (20, 400, 400)
    assert state["faults"]
