"""TalkValue import job payloads -> ``ImportJob``.

Three shapes carry the same job record: the REST body of ``GET /path/import/{id}`` (the record
itself), the CLI's ``--json`` envelope ``{"data": {...}}``, and integration imports, which
name three fields ``totalCount`` / ``processedCount`` / ``startedAt`` instead of ``totalRows``
/ ``processedRows`` / ``processStartedAt``. The rulings applied here are written down in
docs/providers.md (TalkValue):

- PENDING -> pending, RUNNING -> running; COMPLETED / PARTIAL_SUCCESS / FAILED settled by the
  counts (the word FAILED counts as a job-level failure);
- new / updated / duplicated / skip / failed counts -> created / updated / duplicates /
  skipped / failed; succeeded = their sum when all four landed buckets are known;
- ``failedRows`` (a sample, never more than ``failedCount``) are failed rows (row = rowNum, data = rawValue);
  ``rows_complete`` only on a finished job whose ``failedRows`` number ``failedCount``;
- progress = processed / total; counts must not exceed the total.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from importbridge import (
    ImportJob,
    JobError,
    JobState,
    PayloadReader,
    RowOutcome,
    RowResult,
    settle_state,
)

from .words import STATUS_WORDS

__all__ = ["PROVIDER", "ROW_ARRAYS", "SAMPLES", "STATUS_WORDS", "normalize"]

PROVIDER = "talkvalue"

#: contract field -> the payload's names for it where there are several, REST name first
#: (integration imports name three fields differently; the POST answer says ``importJobId``)
_ALIASES: Mapping[str, tuple[str, str]] = MappingProxyType(
    {
        "id": ("id", "importJobId"),
        "total": ("totalRows", "totalCount"),
        "processed": ("processedRows", "processedCount"),
        "started_at": ("processStartedAt", "startedAt"),
    }
)

_FAILED_STATE = JobState.FAILED  # (a module constant: reading an Enum member off its class costs)
_FAILED = RowOutcome.FAILED
_LANDED_WORDS = "new + updated + duplicated + skip + failed counts"


def normalize(payload: Any) -> ImportJob:
    """Turn one TalkValue import job (REST body or CLI envelope) into an ``ImportJob``."""
    r = _record(PayloadReader(PROVIDER, payload))
    word, reported = r.status("status", STATUS_WORDS)
    id_key, total_key, processed_key, started_key = _names(r)
    count = r.count
    total = count(total_key)
    processed = count(processed_key)
    created = count("newCount")
    updated = count("updatedCount")
    duplicates = count("duplicatedCount")
    skipped = count("skipCount")
    failed = count("failedCount")
    succeeded = (
        None
        if created is None or updated is None or duplicates is None or skipped is None
        else created + updated + duplicates + skipped
    )
    r.at_most(processed_key, processed, total_key, total)
    if succeeded is not None and failed is not None:
        r.at_most("failedCount", succeeded + failed, total_key, total, what=_LANDED_WORDS)
        r.at_most("failedCount", succeeded + failed, processed_key, processed, what=_LANDED_WORDS)
    state = settle_state(reported, succeeded=succeeded, failed=failed, job_error=reported is _FAILED_STATE)
    entries = r.objects("failedRows")
    # every entry checked: the rows are built when someone reads them; an unusual entry:
    # built (and explained) row by row now
    rows: tuple[RowResult, ...] | Callable[[], tuple[RowResult, ...]] = (
        ()
        if not entries
        else functools.partial(_failed_rows, r, entries)
        if all(PayloadReader.fold(entries, _plain))
        else _failed_rows(r, entries)
    )
    r.at_most("failedRows", len(entries), "failedCount", failed, what="failedRows entries")
    return ImportJob.of(
        provider=PROVIDER,
        id=r.identifier(id_key),
        state=state,
        provider_state=word,
        total=total,
        processed=processed,
        succeeded=succeeded,
        failed=failed,
        created=created,
        updated=updated,
        duplicates=duplicates,
        skipped=skipped,
        progress=_progress(processed, total, state),
        started_at=r.datetime(started_key),
        finished_at=r.datetime("completedAt"),
        rows=rows,
        rows_complete=state.is_terminal and failed is not None and len(entries) == failed,
        mode=r.string("mode"),
        file_name=r.string("fileName"),
        raw=payload,
    )


#: whether a chunk of ``failedRows`` holds only entries ``_failed_rows`` takes as they are
_plain = functools.partial(PayloadReader.plain_rows, texts=("errorCode", "errorMessage"), row_number="rowNum")

#: ``Provider.row_arrays``: a long payload's ``failedRows`` (REST body or CLI envelope) in chunks
ROW_ARRAYS: Mapping[str, Callable[[list[Any]], object]] = MappingProxyType(
    {"failedRows": _plain, "data.failedRows": _plain}
)


def _record(r: PayloadReader) -> PayloadReader:
    """The job record: the payload itself, or the CLI envelope's ``data``."""
    if "status" not in r.data and "data" in r.data:
        record = r.child("data", required=True)
        assert record is not None  # required=True raises instead
        return record
    return r


def _names(r: PayloadReader) -> tuple[str, ...]:
    """Which payload name carries each aliased field here (the REST one unless only the other
    is), in the order of ``_ALIASES``."""
    if r.data.keys().isdisjoint(_OTHER_NAMES):  # the usual REST body: no other name at all
        return _REST_NAMES
    get = r.data.get
    return tuple(
        rest if get(rest) is not None or get(other) is None else other for rest, other in _ALIASES.values()
    )


_REST_NAMES = tuple(rest for rest, _ in _ALIASES.values())
_OTHER_NAMES = frozenset(other for _, other in _ALIASES.values())


def _progress(processed: int | None, total: int | None, state: JobState) -> float | None:
    """processed / total; a finished import of zero rows is done (1.0), else unknown."""
    if total:
        return None if processed is None else processed / total
    return 1.0 if total == 0 and state.is_terminal else None


def _failed_rows(r: PayloadReader, entries: Sequence[Mapping[str, Any]]) -> tuple[RowResult, ...]:
    """``failedRows`` as failed rows; exact types inline, anything odd read through a reader."""
    rows: list[RowResult] = []
    append = rows.append
    make = RowResult.of  # the constructor's checks, positionally: cheaper per row
    errors: dict[tuple[Any, Any], JobError] = {}  # rows share equal (immutable) errors
    for index, entry in enumerate(entries):
        number = entry.get("rowNum")
        code = entry.get("errorCode")
        message = entry.get("errorMessage")
        if (
            (number is None or (type(number) is int and number >= 1))
            and (code is None or type(code) is str)
            and (message is None or type(message) is str)
        ):
            error = errors.get((code, message))
            if error is None:
                error = errors[code, message] = JobError(code=code, message=message)
        else:
            item = r.item("failedRows", index)
            number = item.row_number("rowNum")
            error = JobError(code=item.string("errorCode"), message=item.string("errorMessage"))
        append(make(number, _FAILED, None, error, entry.get("rawValue")))
    return tuple(rows)


# The docs' example: ``talkvalue path import get 4218 --json``.
DOCS_EXAMPLE: dict[str, Any] = {
    "data": {
        "id": 4218,
        "status": "PARTIAL_SUCCESS",
        "mode": "UPDATE",
        "fileName": "registrants.csv",
        "totalRows": 1247,
        "processedRows": 1247,
        "newCount": 1100,
        "updatedCount": 120,
        "duplicatedCount": 22,
        "skipCount": 0,
        "failedCount": 5,
        "failedRows": [
            {
                "rowNum": 47,
                "errorCode": "INVALID_EMAIL",
                "errorMessage": "Email could not be parsed",
                "rawValue": "alice@@acme.com",
            }
        ],
        "processStartedAt": "2026-05-15T10:42:01Z",
        "completedAt": "2026-05-15T10:43:27Z",
    }
}

SAMPLES: tuple[Any, ...] = (
    DOCS_EXAMPLE,
    # the REST body of the same job (not wrapped)
    DOCS_EXAMPLE["data"],
    # the answer to POST /path/import
    {"importJobId": 4219, "status": "PENDING"},
    # queued, counts all zero
    {
        "id": 4219,
        "status": "PENDING",
        "mode": "SKIP",
        "fileName": "leads.csv",
        "totalRows": 300,
        "processedRows": 0,
        "newCount": 0,
        "updatedCount": 0,
        "duplicatedCount": 0,
        "skipCount": 0,
        "failedCount": 0,
        "failedRows": [],
    },
    # running, through the CLI envelope
    {
        "data": {
            "id": 4219,
            "status": "RUNNING",
            "mode": "SKIP",
            "fileName": "leads.csv",
            "totalRows": 300,
            "processedRows": 120,
            "newCount": 80,
            "updatedCount": 0,
            "duplicatedCount": 3,
            "skipCount": 35,
            "failedCount": 2,
            "failedRows": [
                {
                    "rowNum": 9,
                    "errorCode": "INVALID_EMAIL",
                    "errorMessage": "Email could not be parsed",
                    "rawValue": "bob(at)example.com",
                },
            ],
            "processStartedAt": "2026-05-15T11:00:02Z",
        }
    },
    # completed, every failed row listed (none)
    {
        "id": 4219,
        "status": "COMPLETED",
        "mode": "SKIP",
        "fileName": "leads.csv",
        "totalRows": 300,
        "processedRows": 300,
        "newCount": 200,
        "updatedCount": 0,
        "duplicatedCount": 10,
        "skipCount": 90,
        "failedCount": 0,
        "failedRows": [],
        "processStartedAt": "2026-05-15T11:00:02Z",
        "completedAt": "2026-05-15T11:01:30Z",
    },
    # failed before any row landed: every failed row listed
    {
        "id": 4220,
        "status": "FAILED",
        "mode": "UPDATE",
        "fileName": "broken.csv",
        "totalRows": 2,
        "processedRows": 2,
        "newCount": 0,
        "updatedCount": 0,
        "duplicatedCount": 0,
        "skipCount": 0,
        "failedCount": 2,
        "failedRows": [
            {"rowNum": 1, "errorCode": "MISSING_EMAIL", "errorMessage": "Email is required", "rawValue": ""},
            {"rowNum": 2, "errorCode": "MISSING_EMAIL", "errorMessage": "Email is required", "rawValue": ""},
        ],
        "processStartedAt": "2026-05-15T11:05:00Z",
        "completedAt": "2026-05-15T11:05:01Z",
    },
    # an integration import: totalCount / processedCount / startedAt
    {
        "id": 88,
        "status": "COMPLETED",
        "mode": "UPDATE",
        "totalCount": 50,
        "processedCount": 50,
        "newCount": 45,
        "updatedCount": 5,
        "duplicatedCount": 0,
        "skipCount": 0,
        "failedCount": 0,
        "startedAt": "2026-05-15T12:00:00Z",
        "completedAt": "2026-05-15T12:00:09Z",
    },
)
