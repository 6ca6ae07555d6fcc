"""Rows built on first access (``ImportJob(rows=builder)``) behave exactly like rows given whole."""

from __future__ import annotations

import copy
import gc
import json
import pickle
import re

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import importbridge
from importbridge import ImportJob, JobState, RowResult
from importbridge.testing import strategies


def _jobs(job: ImportJob) -> tuple[ImportJob, ImportJob, list[int]]:
    """``job`` rebuilt twice: its rows given whole, and given as a builder (calls counted)."""
    calls: list[int] = []
    rows = job.rows

    def build() -> tuple[RowResult, ...]:
        calls.append(1)
        return rows

    fields = {field.name: getattr(job, field.name) for field in attrs.fields(ImportJob)}
    eager = ImportJob(**fields)
    deferred = ImportJob(**{**fields, "rows": build})
    return eager, deferred, calls


@given(strategies.import_jobs())
def test_a_deferred_job_is_equal_hashes_prints_and_serializes_alike(job: ImportJob) -> None:
    eager, deferred, calls = _jobs(job)
    assert calls == []  # nothing built yet
    assert deferred == eager
    assert calls == [1]
    assert repr(deferred) == repr(eager)
    assert importbridge.to_dict(deferred) == importbridge.to_dict(eager)
    assert deferred.rows is deferred.rows  # built once, kept
    assert calls == [1]


@given(strategies.import_jobs())
def test_every_way_out_of_a_deferred_job_builds_its_rows(job: ImportJob) -> None:
    for leave in (
        lambda j: pickle.loads(pickle.dumps(j)),
        copy.deepcopy,
        lambda j: attrs.evolve(j, mode="SKIP"),
        lambda j: importbridge.from_json(importbridge.to_json(j)),
    ):
        eager, deferred, _ = _jobs(job)
        left = leave(deferred)
        assert type(left.rows) is tuple
        assert left.rows == leave(eager).rows


def test_rows_of_a_large_payload_are_built_only_when_read() -> None:
    results = [{"id": f"r{n}", "created": True} for n in range(20_000)]
    results[7] = {"id": None, "error": {"code": "bad", "message": "no"}}
    payload = json.dumps({"job_id": None, "status": "complete", "total": 20_000, "results": results})
    gc.collect()
    before = len(gc.get_objects())
    job = importbridge.normalize("micro", payload)
    assert len(gc.get_objects()) - before < 1000  # no row object exists yet
    assert (job.failed, job.created, job.state) == (1, 19_999, JobState.PARTIAL)
    rows = job.rows
    assert len(rows) == 20_000
    assert (rows[7].row, rows[7].outcome, rows[8].row) == (8, importbridge.RowOutcome.FAILED, 9)
    again = importbridge.normalize("micro", json.loads(payload))
    assert hash(again) == hash(job)  # hashing builds the rows too
    assert again == job


@given(st.sampled_from(["micro", "talkvalue", "qobra"]), st.integers(0, 40))
def test_a_bad_entry_still_fails_in_normalize_not_on_access(provider: str, bad: int) -> None:
    if provider == "micro":
        entries = [{"id": f"r{n}", "created": True} for n in range(41)]
        entries[bad] = {"id": 5}
        payload = {"status": "complete", "total": 41, "results": entries}
        where = f"results[{bad}].id"
    elif provider == "qobra":
        lines: list[dict[str, object]] = [{"line_number": n, "details": "x"} for n in range(1, 42)]
        lines[bad] = {"line_number": -1}
        error = {"title": "ParsingError", "parsing_error_details": lines}
        table = {"type": "api", "status": "finished", "progress": 100, "error": error}
        payload = {
            "data_import": {
                "id": "i",
                "created_at": "2024-06-25T09:58:32Z",
                "status": "finished",
                "progress": 100,
                "data_tables_details": [table],
            }
        }
        where = f"parsing_error_details[{bad}].line_number"
    else:
        entries = [{"rowNum": n, "errorCode": "E", "errorMessage": "m"} for n in range(1, 42)]
        entries[bad] = {"rowNum": -1}
        payload = {"status": "FAILED", "failedCount": 41, "failedRows": entries}
        where = f"failedRows[{bad}].rowNum"
    with pytest.raises(importbridge.PayloadError, match=re.escape(where)):
        importbridge.normalize(provider, payload)
