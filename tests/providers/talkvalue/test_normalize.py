"""TalkValue payloads -> ImportJob: the docs' example, every ruling of DESIGN.md, and bad input."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import payload_checks
import pytest
from hypothesis import given
from hypothesis import strategies as st
from importbridge_talkvalue.normalize import SAMPLES, STATUS_WORDS, normalize

import importbridge
from importbridge import JobError, JobState, PayloadError, RowOutcome
from importbridge.testing import strategies as ibst

HERE = Path(__file__).parent
DOCS_PAYLOAD = json.loads((HERE / "payloads" / "docs_cli_get.json").read_text())
REPO = HERE.parents[2]
DOCS_PAGE = "002_1a09564561aed885.txt"

DOCS_EXPECTED = {
    "provider": "talkvalue",
    "id": "4218",
    "state": "partial",
    "provider_state": "PARTIAL_SUCCESS",
    "total": 1247,
    "processed": 1247,
    "succeeded": 1242,
    "failed": 5,
    "created": 1100,
    "updated": 120,
    "duplicates": 22,
    "skipped": 0,
    "progress": 1.0,
    "created_at": None,
    "started_at": "2026-05-15T10:42:01Z",
    "finished_at": "2026-05-15T10:43:27Z",
    "updated_at": None,
    "expires_at": None,
    "error": None,
    "rows": [
        {
            "row": 47,
            "outcome": "failed",
            "record_id": None,
            "error": {"code": "INVALID_EMAIL", "message": "Email could not be parsed"},
            "data": "alice@@acme.com",
            "table": None,
        }
    ],
    "rows_complete": False,  # one of five failed rows: a sample
    "tables": [],
    "mode": "UPDATE",
    "file_name": "registrants.csv",
}

COUNTS = ("newCount", "updatedCount", "duplicatedCount", "skipCount", "failedCount")


def buckets(*values: int) -> dict[str, int]:
    """new, updated, duplicated, skip and failed counts, in that order."""
    return dict(zip(COUNTS, values, strict=True))


def job(**fields: Any) -> dict[str, Any]:
    """A running job with every count, ``fields`` on top."""
    body = {
        "id": 7,
        "status": "RUNNING",
        "mode": "SKIP",
        "fileName": "leads.csv",
        "totalRows": 100,
        "processedRows": 40,
        "newCount": 20,
        "updatedCount": 5,
        "duplicatedCount": 5,
        "skipCount": 8,
        "failedCount": 2,
    }
    body.update(fields)
    return body


def failed_row(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "rowNum": n,
        "errorCode": "INVALID_EMAIL",
        "errorMessage": "bad",
        "rawValue": f"x{n}@@y",
        **fields,
    }


rejected = functools.partial(payload_checks.rejected, "talkvalue")


# -- the docs' example ----------------------------------------------------------------------


def test_docs_example_normalizes_to_the_contract() -> None:
    assert importbridge.to_dict(normalize(DOCS_PAYLOAD)) == DOCS_EXPECTED


def test_docs_example_through_the_registry_from_bytes() -> None:
    raw = (HERE / "payloads" / "docs_cli_get.json").read_bytes()
    assert importbridge.to_dict(importbridge.normalize("talkvalue", raw)) == DOCS_EXPECTED


def test_the_rest_body_is_the_envelopes_data() -> None:
    assert normalize(DOCS_PAYLOAD["data"]) == normalize(DOCS_PAYLOAD)


def _docs_dir() -> Path | None:
    for candidate in (Path("/work/shared/provider-docs"), REPO.parent / "shared" / "provider-docs"):
        if candidate.is_dir():
            return candidate
    return None


def test_the_json_example_on_the_docs_page_normalizes() -> None:
    docs = _docs_dir()
    if docs is None or not (docs / DOCS_PAGE).is_file():
        pytest.skip("provider docs folder not present")
    text = (docs / DOCS_PAGE).read_text(encoding="utf-8")
    decoder, examples, index = json.JSONDecoder(), [], text.find("{")
    while index != -1:
        try:
            value, end = decoder.raw_decode(text, index)
        except ValueError:
            index = text.find("{", index + 1)
            continue
        examples.append(value)
        index = text.find("{", end)
    jobs = [value for value in examples if isinstance(value, dict) and "data" in value]
    assert jobs, "no JSON response example found on the page"
    for example in jobs:
        assert importbridge.to_dict(normalize(example)) == DOCS_EXPECTED


# -- the samples ----------------------------------------------------------------------------


def test_samples_cover_every_status_word_and_shape() -> None:
    jobs = [normalize(sample) for sample in SAMPLES]
    assert {j.provider_state for j in jobs} == set(STATUS_WORDS)
    assert {j.state for j in jobs} == set(JobState)
    assert DOCS_PAYLOAD in SAMPLES
    assert DOCS_PAYLOAD["data"] in SAMPLES
    assert any("totalCount" in sample for sample in SAMPLES)
    assert any("importJobId" in sample for sample in SAMPLES)


@pytest.mark.parametrize("sample", SAMPLES, ids=range(len(SAMPLES)))
def test_samples_round_trip_and_are_not_mutated(sample: Any) -> None:
    before = copy.deepcopy(sample)
    normalized = normalize(sample)
    assert sample == before
    assert normalized.raw is sample
    assert importbridge.from_dict(importbridge.to_dict(normalized)) == normalized
    assert importbridge.normalize("talkvalue", json.dumps(sample).encode()) == normalized


# -- rulings ---------------------------------------------------------------------------------


def test_status_words_are_a_table() -> None:
    assert dict(STATUS_WORDS) == {
        "PENDING": JobState.PENDING,
        "RUNNING": JobState.RUNNING,
        "COMPLETED": JobState.COMPLETE,
        "PARTIAL_SUCCESS": JobState.PARTIAL,
        "FAILED": JobState.FAILED,
    }
    assert importbridge.get_provider("talkvalue").status_words == STATUS_WORDS


def test_counts_map_to_the_contract() -> None:
    j = normalize(job())
    assert (j.total, j.processed, j.created, j.updated, j.duplicates, j.skipped, j.failed) == (
        100,
        40,
        20,
        5,
        5,
        8,
        2,
    )
    assert j.succeeded == 20 + 5 + 5 + 8
    assert j.progress == 0.4
    assert (j.mode, j.file_name, j.id) == ("SKIP", "leads.csv", "7")


@pytest.mark.parametrize("missing", ["newCount", "updatedCount", "duplicatedCount", "skipCount"])
def test_succeeded_is_unknown_when_a_landed_bucket_is_missing(missing: str) -> None:
    payload = job()
    del payload[missing]
    assert normalize(payload).succeeded is None


@pytest.mark.parametrize(
    ("word", "fields", "state"),
    [
        ("COMPLETED", {"processedRows": 100, **buckets(98, 0, 0, 0, 2)}, JobState.PARTIAL),
        ("COMPLETED", {"processedRows": 100, **buckets(82, 10, 0, 8, 0)}, JobState.COMPLETE),
        ("PARTIAL_SUCCESS", {"processedRows": 100, **buckets(82, 0, 18, 0, 0)}, JobState.COMPLETE),
        (
            "PARTIAL_SUCCESS",
            {**dict.fromkeys(COUNTS, 0), "processedRows": 100, "failedCount": 100},
            JobState.FAILED,
        ),
        ("FAILED", {**dict.fromkeys(COUNTS, 0), "processedRows": 0}, JobState.FAILED),
        ("FAILED", {"processedRows": 60}, JobState.PARTIAL),
        ("FAILED", {"newCount": None, "processedRows": 60}, JobState.FAILED),
        ("PENDING", {"processedRows": 0, **buckets(0, 0, 0, 0, 0)}, JobState.PENDING),
    ],
)
def test_counts_decide_terminal_states(word: str, fields: dict[str, Any], state: JobState) -> None:
    j = normalize(job(status=word, **fields))
    assert j.state is state
    assert j.provider_state == word


def test_failed_rows_are_failed_rows() -> None:
    j = normalize(job(failedRows=[failed_row(3), failed_row(11, rawValue=None, errorCode=None)]))
    assert [(row.row, row.outcome, row.data) for row in j.rows] == [
        (3, RowOutcome.FAILED, "x3@@y"),
        (11, RowOutcome.FAILED, None),
    ]
    assert j.rows[0].error == JobError(code="INVALID_EMAIL", message="bad")
    assert j.rows[1].error == JobError(code=None, message="bad")


@pytest.mark.parametrize(
    ("status", "listed", "failed", "complete"),
    [
        ("COMPLETED", 2, 2, True),
        ("PARTIAL_SUCCESS", 1, 2, False),
        ("RUNNING", 2, 2, False),  # more may fail yet
        ("COMPLETED", 0, 0, True),
        ("COMPLETED", 0, None, False),
    ],
)
def test_rows_complete_only_when_failed_rows_number_failed_count(
    status: str, listed: int, failed: int | None, complete: bool
) -> None:
    payload = job(status=status, failedCount=failed, failedRows=[failed_row(n) for n in range(1, listed + 1)])
    assert normalize(payload).rows_complete is complete


def test_the_cli_envelope_and_the_rest_body_agree() -> None:
    body = job(failedRows=[failed_row(1)])
    assert normalize({"data": body}) == normalize(body)


def test_integration_field_names() -> None:
    rest = job(processStartedAt="2026-05-15T12:00:00Z")
    integration = {
        key: value
        for key, value in rest.items()
        if key not in ("totalRows", "processedRows", "processStartedAt")
    }
    integration.update(totalCount=100, processedCount=40, startedAt="2026-05-15T12:00:00Z")
    assert normalize(integration) == normalize(rest)
    assert normalize(integration).started_at == normalize(rest).started_at is not None


def test_the_submit_answer_is_a_pending_job() -> None:
    j = normalize({"importJobId": 4219, "status": "PENDING"})
    assert (j.id, j.state, j.total, j.succeeded) == ("4219", JobState.PENDING, None, None)


@pytest.mark.parametrize(
    ("fields", "progress"),
    [
        ({"totalRows": 200, "processedRows": 50}, 0.25),
        ({"totalRows": 200, "processedRows": None}, None),
        ({"totalRows": 0, "processedRows": 0, **dict.fromkeys(COUNTS, 0)}, None),
        ({"status": "COMPLETED", "totalRows": 0, "processedRows": 0, **dict.fromkeys(COUNTS, 0)}, 1.0),
    ],
)
def test_progress_is_processed_over_total(fields: dict[str, Any], progress: float | None) -> None:
    assert normalize(job(**fields)).progress == progress


def test_timestamps() -> None:
    j = normalize(job(processStartedAt="2026-05-15T10:42:01Z", completedAt="2026-05-15T12:43:27+02:00"))
    stamps = importbridge.to_dict(j)
    assert (stamps["started_at"], stamps["finished_at"]) == ("2026-05-15T10:42:01Z", "2026-05-15T10:43:27Z")


def test_unknown_fields_are_ignored() -> None:
    assert normalize(job(sourceId=3, owner={"id": 1})) == normalize(job())


# -- bad input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "path", "reason"),
    [
        (job(status="DONE"), "status", "known words: COMPLETED, FAILED, PARTIAL_SUCCESS, PENDING, RUNNING"),
        (job(status="completed"), "status", "unknown status word"),
        ({"id": 1}, "status", "missing required field"),
        ({"data": {"id": 1}}, "data.status", "missing required field"),
        ({"data": [1]}, "data", "expected an object"),
        (job(totalRows=True), "totalRows", "boolean"),
        (job(newCount=1.0), "newCount", "number 1.0"),
        (job(failedCount=-2), "failedCount", "-2"),
        (job(skipCount="8"), "skipCount", "string"),
        (
            job(totalCount=None, totalRows=None, processedRows=None, processedCount="4"),
            "processedCount",
            "string",
        ),
        (job(processedRows=101), "processedRows", "101 exceeds totalRows (100)"),
        (job(newCount=90), "failedCount", "(110) exceeds totalRows (100)"),
        (job(id=True), "id", "string or integer id"),
        (job(id=None, importJobId=[1]), "importJobId", "string or integer id"),
        (job(mode=1), "mode", "expected a string"),
        (job(fileName=[]), "fileName", "expected a string"),
        (job(completedAt="soon"), "completedAt", "does not parse"),
        (job(processStartedAt=None, startedAt=5), "startedAt", "date-time"),
        (job(failedRows={"rowNum": 1}), "failedRows", "expected an array"),
        (
            job(failedCount=1, failedRows=[failed_row(1), failed_row(2)]),
            "failedRows",
            "failedRows entries (2) exceeds failedCount (1)",
        ),
        (job(failedRows=[failed_row(1), 7]), "failedRows[1]", "expected an object"),
        (job(failedRows=[failed_row(1), failed_row(2, rowNum=-2)]), "failedRows[1].rowNum", "-2"),
        (job(failedRows=[failed_row(1, rowNum="1")]), "failedRows[0].rowNum", "string"),
        (job(failedRows=[failed_row(0)]), "failedRows[0].rowNum", "expected a row number from 1, got 0"),
        (job(processedRows=1, newCount=2), "failedCount", "exceeds processedRows (1)"),
        (job(failedRows=[failed_row(1, errorCode=400)]), "failedRows[0].errorCode", "expected a string"),
        (job(failedRows=[failed_row(1, errorMessage={})]), "failedRows[0].errorMessage", "expected a string"),
    ],
)
def test_bad_payloads_name_the_field_and_the_reason(payload: Any, path: str, reason: str) -> None:
    assert reason in rejected(path, payload).reason


@given(ibst.non_objects())
def test_non_objects_are_rejected(payload: Any) -> None:
    rejected("", payload)


BAD_COUNTS = st.sampled_from([True, False, 0.0, 3.0, 2.5, -1, -(2**80), "3", [], {}])


@given(st.sampled_from(["totalRows", "processedRows", *COUNTS]), BAD_COUNTS)
def test_a_count_that_is_not_a_non_negative_integer_is_rejected(field: str, value: Any) -> None:
    rejected(field, job(**{field: value}))


outcome = functools.partial(payload_checks.outcome, "talkvalue")


assert_well_formed = functools.partial(payload_checks.assert_well_formed, "talkvalue")


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
    for payload in (value, {"data": value}, job(failedRows=value), job(failedRows=[value])):
        result = outcome(payload)
        if isinstance(result, PayloadError):
            assert_well_formed(result)


FAILED_ROW = st.fixed_dictionaries(
    {},
    optional={
        "rowNum": st.none() | st.integers(min_value=1, max_value=10**6),
        "errorCode": st.none() | st.text(max_size=12),
        "errorMessage": st.none() | st.text(max_size=20),
        "rawValue": ibst.json_values(max_leaves=3),
    },
)


@given(
    st.lists(st.integers(min_value=0, max_value=50), min_size=5, max_size=5),
    st.integers(min_value=0, max_value=50),
    st.lists(FAILED_ROW, max_size=6),
    st.sampled_from(sorted(STATUS_WORDS)),
    st.booleans(),
)
def test_valid_generated_jobs_normalize_consistently(
    buckets: list[int], pending: int, rows: list[Any], word: str, envelope: bool
) -> None:
    counts = dict(zip(COUNTS, buckets, strict=True))
    processed = sum(buckets)
    body = {"id": 1, "status": word, "totalRows": processed + pending, "processedRows": processed, **counts}
    rows = rows[: buckets[4]]  # the sample never outnumbers failedCount
    body["failedRows"] = rows
    j = normalize({"data": body} if envelope else body)
    assert j.succeeded == sum(buckets[:4])
    assert j.failed == buckets[4]
    assert len(j.rows) == len(rows)
    assert j.rows_complete is (j.state.is_terminal and len(rows) == buckets[4])
    if STATUS_WORDS[word].is_terminal:
        landed, lost = j.succeeded > 0, j.failed > 0 or word == "FAILED"
        expected = {(True, True): "partial", (True, False): "complete", (False, True): "failed"}
        assert j.state.value == expected.get((landed, lost), "complete")
    else:
        assert j.state is STATUS_WORDS[word]
    assert importbridge.from_dict(importbridge.to_dict(j)) == j
