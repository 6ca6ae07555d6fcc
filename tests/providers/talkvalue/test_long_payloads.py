"""TalkValue payloads long enough for the chunked path (``failedRows``, in the REST body or the
CLI envelope's ``data``, decoded as a ``LongArray``): the same job as the decoded dict gives, and
the same error for a bad entry in a late chunk."""

from __future__ import annotations

import functools
from typing import Any

import payload_checks
import pytest

from importbridge import ImportJob, PayloadError

ROWS = 8000
LATE = 5000  # in a late chunk of the ~ten

alike = functools.partial(payload_checks.assert_alike_when_long, "talkvalue")

#: where the record sits: the REST body is the record, the CLI wraps it in ``data``
ENVELOPES = {"REST": "", "CLI": "data"}


def entry(n: int) -> dict[str, Any]:
    codes = ("INVALID_EMAIL", "MISSING_EMAIL", None)
    return {"rowNum": n + 1, "errorCode": codes[n % 3], "errorMessage": f"row {n + 1}", "rawValue": "x@"}


def payload(failed_rows: list[Any], envelope: str) -> dict[str, Any]:
    record = {
        "id": 4218,
        "status": "PARTIAL_SUCCESS",
        "mode": "UPDATE",
        "fileName": "registrants.csv",
        "totalRows": 20_000,
        "processedRows": 20_000,
        "newCount": 11_000,
        "updatedCount": 1_000,
        "duplicatedCount": 0,
        "skipCount": 0,
        "failedCount": ROWS,
        "failedRows": failed_rows,
        "processStartedAt": "2026-05-15T10:42:01Z",
        "completedAt": "2026-05-15T10:43:27Z",
    }
    return {envelope: record} if envelope else record


def rows() -> list[Any]:
    return [entry(n) for n in range(ROWS)]


@pytest.mark.parametrize("envelope", ENVELOPES.values(), ids=ENVELOPES)
def test_a_long_payload_gives_the_job_its_dict_gives(envelope: str, monkeypatch: pytest.MonkeyPatch) -> None:
    job = alike(payload(rows(), envelope), monkeypatch)
    assert isinstance(job, ImportJob)
    assert payload_checks.chunk_counts(job)[0] >= 5  # the chunked path, in many chunks
    assert len(job.rows) == ROWS
    assert job.rows_complete
    assert job.rows[LATE].row == LATE + 1


@pytest.mark.parametrize("envelope", ENVELOPES.values(), ids=ENVELOPES)
@pytest.mark.parametrize(
    ("bad", "path"),
    [
        ({"rowNum": 0, "errorCode": "E"}, "rowNum"),
        ({"rowNum": True, "errorCode": "E"}, "rowNum"),
        ({"rowNum": "7", "errorCode": "E"}, "rowNum"),
        ({"rowNum": 7.0, "errorCode": "E"}, "rowNum"),
        ({"rowNum": 7, "errorCode": 5}, "errorCode"),
        ({"rowNum": 7, "errorMessage": {"text": "no"}}, "errorMessage"),
        ("row 7", ""),
        (None, ""),
    ],
)
def test_a_bad_entry_in_a_late_chunk_is_the_same_error(
    bad: Any, path: str, envelope: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    failed_rows = rows()
    failed_rows[LATE] = bad
    error = alike(payload(failed_rows, envelope), monkeypatch)
    assert isinstance(error, PayloadError)
    where = f"{envelope}.failedRows" if envelope else "failedRows"
    assert error.path == f"{where}[{LATE}]" + (f".{path}" if path else "")


def test_more_entries_than_failed_rows_is_the_same_error(monkeypatch: pytest.MonkeyPatch) -> None:
    error = alike({**payload(rows(), ""), "failedCount": ROWS - 1}, monkeypatch)
    assert isinstance(error, PayloadError)
    assert error.path == "failedRows"
