"""Micro's requests against the sandbox over real HTTP: submit, get, failed rows, idempotency, errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

import importbridge
from importbridge import (
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    JobExpired,
    JobNotFound,
    JobState,
)

pytestmark = pytest.mark.importbridge_sandbox(rate_limit=None, sync_threshold=100)

FAST = importbridge.RetryPolicy(base=0.01, cap=0.05, sleep=lambda _: None)


@pytest.fixture
def micro(importbridge_sandbox) -> Iterator[importbridge.ImportClient]:
    with importbridge.connect("micro", retry=FAST, **importbridge_sandbox.settings("micro")) as client:
        yield client


def orgs(n: int, start: int = 0) -> list[dict[str, str]]:
    return [{"name": f"Org {i}", "domain": f"org{i}.example.com"} for i in range(start, start + n)]


def test_a_small_clean_batch_completes_synchronously(micro, importbridge_sandbox) -> None:
    job = micro.submit(orgs(3))
    assert (job.id, job.state, job.succeeded, job.failed) == (None, JobState.COMPLETE, 3, 0)
    assert [row.outcome.value for row in job.rows] == ["created"] * 3
    assert list(micro.failed_rows(job)) == []
    assert importbridge_sandbox.state()["micro"]["records"] == 3


def test_bad_rows_are_failed_rows_with_their_numbers(micro) -> None:
    rows = [*orgs(2), {"name": ""}, {"name": "X", "email": "nope"}]
    job = micro.submit(rows)
    assert job.state is JobState.PARTIAL
    failed = list(micro.failed_rows(job))
    assert [(row.row, row.error.code) for row in failed] == [(3, "required"), (4, "invalid_email")]


def test_a_large_batch_is_async_and_its_failures_come_once_complete(micro, importbridge_sandbox) -> None:
    rows = [*orgs(149), {"name": ""}]
    job = micro.submit(rows)
    assert job.id is not None
    assert not job.done
    importbridge_sandbox.clock.advance(3600)
    done = micro.get(job.id)
    assert (done.state, done.succeeded, done.failed) == (JobState.PARTIAL, 149, 1)
    assert [row.row for row in micro.failed_rows(job.id)] == [150]


def test_failed_rows_of_a_running_job_ask_to_wait(micro) -> None:
    job = micro.submit(orgs(150))
    with pytest.raises(importbridge.WaitError, match="still running"):
        list(micro.failed_rows(job))


def test_dedupe_by_matches_existing_records(micro) -> None:
    micro.submit(orgs(2))
    job = micro.submit(
        [{"name": "Org 0 again", "domain": "ORG0.example.com"}], dedupe_by="domain", case_insensitive=True
    )
    assert job.rows[0].outcome.value == "updated"


def test_object_types_and_options_are_checked_before_sending(micro, importbridge_sandbox) -> None:
    assert micro.submit([{"name": "Ada"}], object_type="contact").succeeded == 1
    with pytest.raises(ConfigurationError, match="object_type"):
        micro.submit(orgs(1), object_type="planet")
    with pytest.raises(ConfigurationError, match="unknown submit option"):
        micro.submit(orgs(1), table="x")
    with pytest.raises(ConfigurationError, match="idempotency_key"):
        micro.submit(orgs(1), idempotency_key="k" * 256)
    assert importbridge_sandbox.state()["micro"]["records_by_type"] == {"contact": 1}


def test_every_import_carries_an_idempotency_key_and_a_replay_lands_once(micro, importbridge_sandbox) -> None:
    first = micro.submit(orgs(2), idempotency_key="order-42")
    again = micro.submit(orgs(2), idempotency_key="order-42")
    assert importbridge.to_dict(first) == importbridge.to_dict(again)
    micro.submit(orgs(1, start=5))
    state = importbridge_sandbox.state()["micro"]
    assert state["imports"] == 2
    assert state["records"] == 3
    assert len(state["idempotency_keys"]) == 2  # a generated key for the call that gave none
    with pytest.raises(ConflictError, match="idempotency_key_mismatch"):
        micro.submit(orgs(3), idempotency_key="order-42")


def test_credentials_are_checked(importbridge_sandbox) -> None:
    settings = importbridge_sandbox.settings("micro") | {"api_key": "wrong"}
    with importbridge.connect("micro", **settings) as client, pytest.raises(AuthenticationError) as caught:
        client.submit(orgs(1))
    assert caught.value.status == 403
    assert "wrong" not in str(caught.value)


def test_unknown_and_expired_jobs(micro, importbridge_sandbox) -> None:
    with pytest.raises(JobNotFound) as caught:
        micro.get("00000000-0000-0000-0000-000000000000")
    assert type(caught.value) is JobNotFound
    job = micro.submit(orgs(150))
    importbridge_sandbox.clock.advance(timedelta(days=8).total_seconds())
    created = importbridge.to_dict(job)["created_at"]
    with pytest.raises(JobExpired):
        # the sandbox's clock runs 8 days ahead of ours, so date the job as the server saw it
        micro.get(job.id, created_at=_days_ago(created, 8))


def _days_ago(iso: str, days: int) -> str:
    from datetime import datetime

    stamp = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return (stamp - timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"message": "Invalid API key"}, ("Invalid API key", None)),
        ({"message": "nope", "code": "idempotency_key_mismatch"}, ("nope", "idempotency_key_mismatch")),
        ({}, ("HTTP 500", None)),
        ("upstream broke", ("upstream broke", None)),
        (None, ("HTTP 502", None)),
    ],
)
def test_error_messages(body, expected) -> None:
    from importbridge_micro import api

    status = 502 if body is None else 500
    assert api.error_message(status, body) == expected
