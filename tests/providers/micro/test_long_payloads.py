"""Micro payloads long enough for the chunked path (``results`` decoded as a ``LongArray``): the
same job as the decoded dict gives, the same error for a bad entry in a late chunk, and counts
added up over the chunks."""

from __future__ import annotations

import functools
import json
from typing import Any

import payload_checks
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from importbridge_micro.normalize import ROW_ARRAYS, normalize

from importbridge import ImportJob, PayloadError, longarrays

ROWS = 8000
LATE = 5000  # in a late chunk of the ~ten

alike = functools.partial(payload_checks.assert_alike_when_long, "micro")

#: one results entry of each kind, and how it counts: (failed, updated)
OUTCOMES: dict[str, tuple[dict[str, Any], tuple[int, int]]] = {
    "created": ({"id": "7f000001-0000-4000-8000-000000000001", "created": True, "existing": False}, (0, 0)),
    "created, keys left out": ({"id": "7f000001-0000-4000-8000-000000000002"}, (0, 0)),
    "updated": ({"id": "7f000001-0000-4000-8000-000000000003", "created": False, "existing": True}, (0, 1)),
    "failed": ({"id": None, "error": {"code": "invalid_email", "message": "not an address"}}, (1, 0)),
    "failed, existing": ({"id": "x", "existing": True, "error": {"code": None, "message": "locked"}}, (1, 0)),
}
KINDS = list(OUTCOMES)


def payload(results: list[Any]) -> dict[str, Any]:
    return {"job_id": "imp_long", "status": "complete", "total": len(results), "results": results}


def mixed(count: int = ROWS) -> list[Any]:
    return [OUTCOMES[KINDS[n % 7 % len(KINDS)]][0] for n in range(count)]


def test_a_long_payload_gives_the_job_its_dict_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    job = alike(payload(mixed()), monkeypatch)
    assert isinstance(job, ImportJob)
    assert payload_checks.chunk_counts(job)[0] >= 5  # the chunked path, in many chunks
    assert len(job.rows) == ROWS
    assert job.rows[LATE].row == LATE + 1


@pytest.mark.parametrize(
    ("bad", "path"),
    [
        ({"id": True, "created": True}, "id"),
        ({"id": 5}, "id"),
        ({"id": "x", "existing": "yes"}, "existing"),
        ({"id": "x", "created": 1}, "created"),
        ({"id": None, "error": "boom"}, "error"),
        ({"id": None, "error": {"code": 5, "message": "m"}}, "error.code"),
        ({"id": None, "error": {"code": "c", "message": ["m"]}}, "error.message"),
        (7, ""),
        (None, ""),
    ],
)
def test_a_bad_entry_in_a_late_chunk_is_the_same_error(
    bad: Any, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = mixed()
    results[LATE] = bad
    error = alike(payload(results), monkeypatch)
    assert isinstance(error, PayloadError)
    assert error.path == f"results[{LATE}]" + (f".{path}" if path else "")


def test_a_total_below_the_results_is_the_same_error(monkeypatch: pytest.MonkeyPatch) -> None:
    error = alike({**payload(mixed()), "total": ROWS - 1}, monkeypatch)
    assert isinstance(error, PayloadError)


@settings(max_examples=40, deadline=None)
@given(
    runs=st.lists(st.tuples(st.sampled_from(KINDS), st.integers(1, 400)), min_size=1, max_size=12),
    chunk=st.integers(1, 8192),
)
def test_counts_add_up_over_the_chunks(runs: list[tuple[str, int]], chunk: int) -> None:
    results = [OUTCOMES[kind][0] for kind, size in runs for _ in range(size)]
    failed = sum(OUTCOMES[kind][1][0] * size for kind, size in runs)
    updated = sum(OUTCOMES[kind][1][1] * size for kind, size in runs)
    decoded = longarrays.decode(json.dumps(payload(results)), longarrays.paths(ROW_ARRAYS), chunk=chunk)
    # (below 64 characters a chunk there is no short read: the array is always cut; above, an
    # array shorter than a chunk is read whole and stays a list)
    assert isinstance(decoded["results"], longarrays.LongArray) or (
        chunk >= 64 and type(decoded["results"]) is list
    )
    job = normalize(decoded)
    assert (job.failed, job.updated, job.created) == (failed, updated, len(results) - failed - updated)
    assert (job.processed, job.succeeded) == (len(results), len(results) - failed)
