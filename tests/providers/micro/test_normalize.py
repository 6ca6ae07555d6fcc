"""Micro payloads -> ImportJob: the docs' example, every ruling of DESIGN.md, and bad input."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from types import MappingProxyType
from typing import Any

import payload_checks
import pytest
from hypothesis import given
from hypothesis import strategies as st
from importbridge_micro.normalize import SAMPLES, STATUS_WORDS, normalize

import importbridge
from importbridge import JobState, PayloadError, RowOutcome
from importbridge.testing import strategies as ibst

HERE = Path(__file__).parent
DOCS_PAYLOAD = json.loads((HERE / "payloads" / "docs_get_import.json").read_text())
REPO = HERE.parents[2]
DOCS_PAGES = ("000_db1263f7a8e67aed.txt", "001_7970b48bfdfe1c20.txt", "003_6629a99dc19c426e.txt")

STAMP = "2019-12-27T18:11:19.117000Z"
DOCS_EXPECTED = {
    "provider": "micro",
    "id": "job_id",
    "state": "failed",
    "provider_state": "complete",
    "total": 0,
    "processed": 0,
    "succeeded": 0,
    "failed": 0,
    "created": 0,
    "updated": 0,
    "duplicates": None,
    "skipped": None,
    "progress": 1.0,
    "created_at": STAMP,
    "started_at": None,
    "finished_at": None,
    "updated_at": STAMP,
    "expires_at": STAMP,
    "error": {"code": "code", "message": "message"},
    "rows": [
        {
            "row": 1,
            "outcome": "failed",
            "record_id": "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e",
            "error": {"code": "code", "message": "message"},
            "data": None,
            "table": None,
        }
    ],
    "rows_complete": True,
    "tables": [],
    "mode": None,
    "file_name": None,
}


def job(**fields: Any) -> dict[str, Any]:
    """A minimal valid payload with ``fields`` on top."""
    return {"job_id": "imp_1", "status": "processing", "total": 10, **fields}


def result(**fields: Any) -> dict[str, Any]:
    return {"id": "7f000001-0000-4000-8000-000000000001", **fields}


rejected = functools.partial(payload_checks.rejected, "micro")


# -- the docs' example ----------------------------------------------------------------------


def test_docs_example_normalizes_to_the_contract() -> None:
    assert importbridge.to_dict(normalize(DOCS_PAYLOAD)) == DOCS_EXPECTED


def test_docs_example_through_the_registry_from_bytes() -> None:
    raw = (HERE / "payloads" / "docs_get_import.json").read_bytes()
    assert importbridge.to_dict(importbridge.normalize("micro", raw)) == DOCS_EXPECTED


def _json_objects(text: str) -> list[Any]:
    """Every top-level JSON object embedded in a docs page."""
    decoder = json.JSONDecoder()
    found, index = [], text.find("{")
    while index != -1:
        try:
            value, end = decoder.raw_decode(text, index)
        except ValueError:
            index = text.find("{", index + 1)
            continue
        found.append(value)
        index = text.find("{", end)
    return found


def _docs_dir() -> Path | None:
    for candidate in (Path("/work/shared/provider-docs"), REPO.parent / "shared" / "provider-docs"):
        if candidate.is_dir():
            return candidate
    return None


def test_every_json_example_on_the_docs_pages_normalizes() -> None:
    docs = _docs_dir()
    if docs is None:
        pytest.skip("provider docs folder not present")
    examples = [
        value
        for page in DOCS_PAGES
        if (docs / page).is_file()
        for value in _json_objects((docs / page).read_text(encoding="utf-8"))
        if isinstance(value, dict) and "status" in value
    ]
    if not examples:
        pytest.skip("no Micro docs page with a JSON example found")
    for example in examples:
        assert importbridge.to_dict(normalize(example)) == DOCS_EXPECTED


# -- the samples ----------------------------------------------------------------------------


def test_samples_cover_every_status_word_and_shape() -> None:
    jobs = [normalize(sample) for sample in SAMPLES]
    assert {j.provider_state for j in jobs} == set(STATUS_WORDS)
    assert {j.state for j in jobs} == set(JobState) - {JobState.PENDING}
    assert any(j.id is None and j.rows for j in jobs)  # sync with results
    assert any(j.state is JobState.RUNNING and j.processed for j in jobs)  # async under way
    assert DOCS_PAYLOAD in SAMPLES


@pytest.mark.parametrize("sample", SAMPLES, ids=range(len(SAMPLES)))
def test_samples_round_trip_and_are_not_mutated(sample: Any) -> None:
    before = copy.deepcopy(sample)
    normalized = normalize(sample)
    assert sample == before
    assert normalized.raw is sample
    assert importbridge.from_dict(importbridge.to_dict(normalized)) == normalized
    assert importbridge.normalize("micro", json.dumps(sample).encode()) == normalized


# -- rulings ---------------------------------------------------------------------------------


def test_status_words_are_a_table() -> None:
    assert dict(STATUS_WORDS) == {
        "processing": JobState.RUNNING,
        "complete": JobState.COMPLETE,
        "failed": JobState.FAILED,
    }
    assert importbridge.get_provider("micro").status_words == STATUS_WORDS


def test_a_missing_count_is_unknown_not_zero() -> None:
    j = normalize(job())
    assert (j.total, j.processed, j.succeeded, j.failed) == (10, None, None, None)
    assert j.progress is None
    assert j.state is JobState.RUNNING


def test_missing_counts_are_derived_from_results() -> None:
    payload = job(
        job_id=None,
        status="complete",
        total=4,
        results=[
            result(created=True),
            result(existing=True),
            result(id=None, error={"code": "bad", "message": "no"}),
            result(created=True, existing=False),
        ],
    )
    j = normalize(payload)
    assert (j.processed, j.succeeded, j.failed, j.created, j.updated) == (4, 3, 1, 2, 1)
    assert (j.duplicates, j.skipped) == (None, None)
    assert j.state is JobState.PARTIAL
    assert j.id is None


def test_stated_counts_win_over_results() -> None:
    payload = job(
        status="complete", total=5, processed=5, succeeded=5, failed=0, results=[result(created=True)]
    )
    j = normalize(payload)
    assert (j.processed, j.succeeded, j.failed) == (5, 5, 0)
    assert j.created == 1


def test_nth_result_is_row_n_with_its_outcome() -> None:
    payload = job(
        status="complete",
        results=[
            result(id="a", created=True, existing=False),
            result(id="b", created=False, existing=True),
            result(id=None, error={"code": "invalid_email", "message": "not an address"}),
            result(id="d", created=True, existing=True, error={"code": "c"}),
            result(id="e"),
        ],
    )
    rows = normalize(payload).rows
    assert [row.row for row in rows] == [1, 2, 3, 4, 5]
    assert [row.outcome for row in rows] == [
        RowOutcome.CREATED,
        RowOutcome.UPDATED,
        RowOutcome.FAILED,
        RowOutcome.FAILED,  # an error wins over the flags
        RowOutcome.CREATED,  # landed, matched no record: created
    ]
    assert [row.record_id for row in rows] == ["a", "b", None, "d", "e"]
    assert rows[2].error == importbridge.JobError(code="invalid_email", message="not an address")
    assert rows[3].error == importbridge.JobError(code="c", message=None)
    assert all(row.data is None and row.table is None for row in rows)


def test_existing_wins_over_created_when_both_are_true() -> None:
    rows = normalize(job(status="complete", results=[result(created=True, existing=True)])).rows
    assert rows[0].outcome is RowOutcome.UPDATED


@pytest.mark.parametrize(
    ("status", "results", "complete"),
    [
        ("complete", [], True),
        ("failed", [], True),
        ("processing", [], False),
        ("complete", None, False),
    ],
)
def test_rows_complete_once_results_are_present_on_a_finished_job(
    status: str, results: Any, complete: bool
) -> None:
    payload = job(status=status, total=0) if results is None else job(status=status, total=0, results=results)
    assert normalize(payload).rows_complete is complete


@pytest.mark.parametrize(
    ("fields", "progress"),
    [
        ({"total": 200, "processed": 50}, 0.25),
        ({"total": 200}, None),
        ({"total": 0, "status": "processing"}, None),
        ({"total": 0, "status": "complete"}, 1.0),
        ({"total": 3, "processed": 3, "status": "complete"}, 1.0),
    ],
)
def test_progress_is_processed_over_total(fields: dict[str, Any], progress: float | None) -> None:
    assert normalize(job(**fields)).progress == progress


@pytest.mark.parametrize(
    ("fields", "state"),
    [
        ({"status": "complete", "total": 5, "succeeded": 5, "failed": 0}, JobState.COMPLETE),
        ({"status": "complete", "total": 5, "succeeded": 3, "failed": 2}, JobState.PARTIAL),
        ({"status": "complete", "total": 5, "succeeded": 0, "failed": 5}, JobState.FAILED),
        ({"status": "failed", "total": 5, "succeeded": 2, "failed": 0}, JobState.PARTIAL),
        ({"status": "failed", "total": 5}, JobState.FAILED),
        ({"status": "complete", "total": 0}, JobState.COMPLETE),
        ({"status": "complete", "total": 5, "succeeded": 0, "error": {"code": "x"}}, JobState.FAILED),
        ({"status": "processing", "total": 5, "succeeded": 0, "failed": 5}, JobState.RUNNING),
    ],
)
def test_counts_decide_terminal_states(fields: dict[str, Any], state: JobState) -> None:
    j = normalize(job(**fields))
    assert j.state is state
    assert j.provider_state == fields["status"]


def test_job_level_error_and_timestamps() -> None:
    j = normalize(
        job(
            status="failed",
            error={"code": "internal_error", "message": "worker crashed"},
            created_at="2026-05-15T10:42:01Z",
            updated_at="2026-05-15T12:42:01+02:00",
            expires_at="2026-05-22T10:42:01",
        )
    )
    assert j.error == importbridge.JobError(code="internal_error", message="worker crashed")
    stamps = importbridge.to_dict(j)
    assert stamps["created_at"] == stamps["updated_at"] == "2026-05-15T10:42:01Z"
    assert stamps["expires_at"] == "2026-05-22T10:42:01Z"  # naive means UTC
    assert (j.started_at, j.finished_at) == (None, None)


def test_unknown_fields_are_ignored() -> None:
    payload = job(new_field={"nested": [1, 2]}, results=[result(created=True, score=0.3)])
    assert normalize(payload) == normalize(job(results=[result(created=True)]))


def test_odd_but_valid_entries_read_through_the_reader_give_the_same_rows() -> None:
    """A result given as another Mapping type takes the checked path; the outcome is the same."""
    plain = SAMPLES[1]
    wrapped = dict(plain, results=[MappingProxyType(entry) for entry in plain["results"]])
    assert normalize(wrapped) == normalize(plain)


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "path", "reason"),
    [
        ({"status": "complete"}, "total", "missing required field"),
        (job(total=True), "total", "non-negative integer, got boolean True"),
        (job(total=3.0), "total", "got number 3.0"),
        (job(processed=-1), "processed", "got -1"),
        (job(succeeded="3"), "succeeded", "got string '3'"),
        (job(status="done"), "status", "known words: complete, failed, processing"),
        (job(status=None), "status", "is null"),
        ({"job_id": "x", "total": 1}, "status", "missing required field"),
        (job(job_id=7), "job_id", "expected a string"),
        (job(processed=11), "processed", "11 exceeds total (10)"),
        (job(succeeded=6, failed=5), "succeeded", "succeeded + failed (11) exceeds total (10)"),
        (job(processed=4, succeeded=3, failed=2), "succeeded", "succeeded + failed (5) exceeds processed"),
        (job(succeeded=0, results=[result(created=True)]), "results", "landed results entries (1) exceeds"),
        (job(total=1, results=[result(), result()]), "results", "results entries (2) exceeds total (1)"),
        (job(created_at="yesterday"), "created_at", "does not parse"),
        (job(expires_at=1700000000), "expires_at", "expected an ISO-8601 date-time string"),
        (job(error="boom"), "error", "expected an object"),
        (job(error={"code": 500}), "error.code", "expected a string"),
        (job(results={"0": {}}), "results", "expected an array"),
        (job(results=[result(), "row"]), "results[1]", "expected an object"),
        (job(results=[result(), result(), result(), result(id=5)]), "results[3].id", "expected a string"),
        (job(results=[result(created="yes")]), "results[0].created", "expected a boolean"),
        (job(results=[result(existing=1)]), "results[0].existing", "expected a boolean"),
        (job(results=[result(error=[])]), "results[0].error", "expected an object"),
        (job(results=[result(), result(error={"message": 1})]), "results[1].error.message", "string"),
    ],
)
def test_bad_payloads_name_the_field_and_the_reason(payload: Any, path: str, reason: str) -> None:
    assert reason in rejected(path, payload).reason


@given(ibst.non_objects())
def test_non_objects_are_rejected(payload: Any) -> None:
    rejected("", payload)


BAD_COUNTS = st.sampled_from([True, False, 0.0, 3.0, 2.5, -1, -(2**80), "3", [], {}]) | st.floats(
    allow_nan=True
).filter(lambda value: not value.is_integer() if value == value else True)


@given(st.sampled_from(["total", "processed", "succeeded", "failed"]), BAD_COUNTS)
def test_a_count_that_is_not_a_non_negative_integer_is_rejected(field: str, value: Any) -> None:
    rejected(field, job(**{field: value}))


@given(st.integers(min_value=0, max_value=2**200), st.integers(min_value=0, max_value=2**200))
def test_huge_counts_are_exact_or_rejected_by_name(total: int, processed: int) -> None:
    payload = job(total=total, processed=processed)
    if processed > total:
        rejected("processed", payload)
    else:
        j = normalize(payload)
        assert (j.total, j.processed) == (total, processed)
        assert j.progress is None or 0.0 <= j.progress <= 1.0


outcome = functools.partial(payload_checks.outcome, "micro")


assert_well_formed = functools.partial(payload_checks.assert_well_formed, "micro")


@given(st.sampled_from(SAMPLES).flatmap(ibst.replaced_values))
def test_mutated_payloads_raise_only_payload_errors_naming_provider_and_path(mutated: Any) -> None:
    before = copy.deepcopy(mutated)
    result = outcome(mutated)
    if isinstance(result, PayloadError):
        assert_well_formed(result)
    else:
        assert result.raw is mutated
    assert mutated == before


@given(ibst.json_values(max_leaves=20))
def test_arbitrary_json_raises_only_payload_errors(value: Any) -> None:
    for payload in (value, {"status": "complete", "total": 3, "results": value}, job(error=value)):
        result = outcome(payload)
        if isinstance(result, PayloadError):
            assert_well_formed(result)


ERROR = st.fixed_dictionaries({}, optional={"code": st.none() | st.text(), "message": st.none() | st.text()})

RESULT = st.fixed_dictionaries(
    {},
    optional={
        "id": st.none() | st.uuids().map(str),
        "created": st.none() | st.booleans(),
        "existing": st.none() | st.booleans(),
        "error": st.none() | ERROR,
    },
)


@given(st.lists(RESULT, max_size=30), st.sampled_from(sorted(STATUS_WORDS)), st.integers(0, 5))
def test_valid_generated_jobs_normalize_consistently(results: list[Any], status: str, extra: int) -> None:
    payload = {"job_id": None, "status": status, "total": len(results) + extra, "results": results}
    j = normalize(payload)
    assert len(j.rows) == j.processed == len(results)
    assert j.failed == sum(1 for entry in results if entry.get("error") is not None)
    assert j.succeeded == len(results) - j.failed == (j.created or 0) + (j.updated or 0)
    assert j.rows_complete is (status != "processing")
    assert j.state.is_terminal is (status != "processing")
    assert importbridge.from_dict(importbridge.to_dict(j)) == j
    wrapped = dict(payload, results=[MappingProxyType(entry) for entry in results])
    assert normalize(wrapped) == j  # the fast loop and the checked reader agree
