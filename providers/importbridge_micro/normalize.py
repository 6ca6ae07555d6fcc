"""Micro (Prism) import payloads -> ``ImportJob``.

One shape serves the POST ``/import`` answer (sync: ``job_id: null`` and inline ``results``;
async: ``status: processing``) and ``GET /imports/{jobId}``. The rulings applied here are
written down in docs/providers.md (Micro):

- status words: processing -> running; complete / failed -> terminal, settled by the counts;
  a job-level ``error`` object (or the word ``failed``) counts as a job-level failure;
- a missing count is unknown (null); where ``results`` are present, missing counts are
  derived from them; every count, stated or derived, must not exceed ``total``;
- the n-th ``results`` entry is row n; an ``error`` makes it failed, else ``existing: true``
  makes it updated, else it was created;
- ``rows_complete`` once ``results`` are present on a finished job; progress = processed / total.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from itertools import compress, repeat
from operator import is_not
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

PROVIDER = "micro"

_FAILED_STATE = JobState.FAILED  # (a module constant: reading an Enum member off its class costs)
_CREATED = RowOutcome.CREATED
_UPDATED = RowOutcome.UPDATED
_FAILED = RowOutcome.FAILED


def normalize(payload: Any) -> ImportJob:
    """Turn one Micro import job payload into an ``ImportJob`` (``raw`` is the payload)."""
    r = PayloadReader(PROVIDER, payload)
    word, reported = r.status("status", STATUS_WORDS)
    total = r.count("total", required=True)
    processed = r.count("processed")
    succeeded = r.count("succeeded")
    failed = r.count("failed")
    error = _job_error(r.child("error"))
    rows: tuple[RowResult, ...] | Callable[[], tuple[RowResult, ...]] = ()
    created = updated = None
    derived = ""
    has_results = r.has("results")
    if has_results:
        results = r.objects("results")
        counted = _summed(PayloadReader.fold(results, _counted))
        if counted is None:  # an unusual entry: build (and explain) row by row now
            rows, rejected, updated = _rows(r, results)
        else:  # every entry checked: build the rows when someone reads them
            rejected, updated = counted
            rows = functools.partial(_built, r, results)
        created = len(results) - rejected - updated
        r.at_most("results", created + updated, "succeeded", succeeded, what="landed results entries")
        if processed is None:
            processed, derived = len(results), "results"
        if succeeded is None:
            succeeded = len(results) - rejected
        if failed is None:
            failed = rejected
    r.at_most(derived or "processed", processed, "total", total, what=derived and "results entries")
    if succeeded is not None and failed is not None:
        r.at_most("succeeded", succeeded + failed, "total", total, what="succeeded + failed")
        r.at_most("succeeded", succeeded + failed, "processed", processed, what="succeeded + failed")
    state = settle_state(
        reported,
        succeeded=succeeded,
        failed=failed,
        job_error=reported is _FAILED_STATE or error is not None,
    )
    return ImportJob.of(
        provider=PROVIDER,
        id=r.string("job_id"),
        state=state,
        provider_state=word,
        total=total,
        processed=processed,
        succeeded=succeeded,
        failed=failed,
        created=created,
        updated=updated,
        progress=_progress(processed, total, state),
        created_at=r.datetime("created_at"),
        updated_at=r.datetime("updated_at"),
        expires_at=r.datetime("expires_at"),
        error=error,
        rows=rows,
        rows_complete=has_results and state.is_terminal,
        raw=payload,
    )


def _progress(processed: int | None, total: int | None, state: JobState) -> float | None:
    """processed / total; a finished import of zero rows is done (1.0), else unknown."""
    if total:
        return None if processed is None else processed / total
    return 1.0 if total == 0 and state.is_terminal else None


def _job_error(reader: PayloadReader | None) -> JobError | None:
    if reader is None:
        return None
    return JobError(code=reader.string("code"), message=reader.string("message"))


def _summed(parts: list[Any]) -> tuple[int, int] | None:
    """The (failed, updated) of every chunk of ``results`` added up; None if any was unusual."""
    if len(parts) == 1:
        return parts[0]  # type: ignore[no-any-return]
    if None in parts:
        return None
    return sum(part[0] for part in parts), sum(part[1] for part in parts)


def _counted(results: list[Mapping[str, Any]]) -> tuple[int, int] | None:
    """(failed, updated) for ``results`` whose every entry is a plain object with exactly the
    JSON types ``_rows`` builds from without a question; None for anything else.

    Column by column, so the checks run in C: a payload's rows are validated (and counted)
    at a fraction of what building them costs.
    """
    if not results:
        return 0, 0
    get: Callable[[Any, str], Any] = dict.get
    if not (
        set(map(type, results)) <= _OBJECT
        and set(map(type, map(get, results, repeat("id")))) <= _TEXT
        and set(map(type, map(get, results, repeat("created")))) <= _FLAG
    ):
        return None
    existing: list[Any] = list(map(get, results, repeat("existing")))
    problems: list[Any] = list(map(get, results, repeat("error")))
    if not (set(map(type, existing)) <= _FLAG and set(map(type, problems)) <= _PROBLEM):
        return None
    failing = list(map(is_not, problems, repeat(None)))
    errors: list[Any] = list(compress(problems, failing))
    if not (
        set(map(type, map(get, errors, repeat("code")))) <= _TEXT
        and set(map(type, map(get, errors, repeat("message")))) <= _TEXT
    ):
        return None
    return len(errors), existing.count(True) - list(compress(existing, failing)).count(True)


#: ``Provider.row_arrays``: a long payload's ``results`` are decoded in chunks, each counted by ``_counted``
ROW_ARRAYS: Mapping[str, Callable[[list[Any]], object]] = MappingProxyType({"results": _counted})

_OBJECT = frozenset({dict})
_TEXT = frozenset({str, type(None)})
_FLAG = frozenset({bool, type(None)})
_PROBLEM = frozenset({dict, type(None)})


def _built(r: PayloadReader, results: Sequence[Mapping[str, Any]]) -> tuple[RowResult, ...]:
    return _rows(r, results)[0]


def _rows(r: PayloadReader, results: Sequence[Mapping[str, Any]]) -> tuple[tuple[RowResult, ...], int, int]:
    """One RowResult per entry, and how many failed and were updated.

    The loop handles the exact JSON types inline (a hot path: 10,000 rows are common); any
    other entry goes through ``_checked_row``, which is the specification and names the bad field.
    """
    rows: list[RowResult] = []
    append = rows.append
    make = RowResult.of  # the constructor's checks, positionally: cheaper per row
    errors: dict[tuple[Any, Any], JobError] = {}  # rows share equal (immutable) errors
    rejected = updated = 0
    for n, entry in enumerate(results, 1):
        record_id = entry.get("id")
        existing = entry.get("existing")
        created = entry.get("created")
        problem = entry.get("error")
        if (
            (record_id is not None and type(record_id) is not str)
            or (existing is not None and type(existing) is not bool)
            or (created is not None and type(created) is not bool)
            or (problem is not None and type(problem) is not dict)
        ):
            row = _checked_row(r.item("results", n - 1), n)
        elif problem is None:
            if existing:
                updated += 1
                append(make(n, _UPDATED, record_id))
            else:
                append(make(n, _CREATED, record_id))
            continue
        else:
            code = problem.get("code")
            message = problem.get("message")
            if (code is None or type(code) is str) and (message is None or type(message) is str):
                shared = errors.get((code, message))
                if shared is None:
                    shared = errors[code, message] = JobError(code=code, message=message)
                rejected += 1
                append(make(n, _FAILED, record_id, shared))
                continue
            row = _checked_row(r.item("results", n - 1), n)
        rejected += row.outcome is _FAILED
        updated += row.outcome is _UPDATED
        append(row)
    return tuple(rows), rejected, updated


def _checked_row(item: PayloadReader, n: int) -> RowResult:
    """The n-th result read field by field: every type checked, errors with their path."""
    record_id = item.string("id")
    existing = item.boolean("existing")
    item.boolean("created")
    error = _job_error(item.child("error"))
    outcome = _FAILED if error is not None else _UPDATED if existing else _CREATED
    return RowResult(row=n, outcome=outcome, record_id=record_id, error=error)


# The docs' example (identical on the TypeScript, Python and REST pages).
DOCS_EXAMPLE: dict[str, Any] = {
    "job_id": "job_id",
    "status": "complete",
    "total": 0,
    "created_at": "2019-12-27T18:11:19.117Z",
    "error": {"code": "code", "message": "message"},
    "expires_at": "2019-12-27T18:11:19.117Z",
    "failed": 0,
    "processed": 0,
    "results": [
        {
            "id": "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e",
            "created": True,
            "error": {"code": "code", "message": "message"},
            "existing": True,
        }
    ],
    "succeeded": 0,
    "updated_at": "2019-12-27T18:11:19.117Z",
}

SAMPLES: tuple[Any, ...] = (
    DOCS_EXAMPLE,
    # a small batch answered synchronously: job_id null, results inline, no counts stated
    {
        "job_id": None,
        "status": "complete",
        "total": 3,
        "results": [
            {"id": "0b7a1c52-4e1f-4a53-9a43-6f1d8f0e2a11", "created": True, "existing": False},
            {"id": "5c2d9e3b-8f4a-4c7e-b1d2-3e4f5a6b7c8d", "created": False, "existing": True},
            {
                "id": None,
                "created": False,
                "existing": False,
                "error": {"code": "invalid_email", "message": "email is not an address"},
            },
        ],
        "created_at": "2026-05-15T10:42:01Z",
        "updated_at": "2026-05-15T10:42:01Z",
    },
    # a sync batch where every row landed, counts stated
    {
        "job_id": None,
        "status": "complete",
        "total": 2,
        "processed": 2,
        "succeeded": 2,
        "failed": 0,
        "results": [
            {"id": "7f000001-0000-4000-8000-000000000001", "created": True, "existing": False},
            {"id": "7f000001-0000-4000-8000-000000000002", "created": True, "existing": False},
        ],
    },
    # an async job just accepted (202): only the required fields
    {"job_id": "imp_01HZX3", "status": "processing", "total": 5000},
    # an async job under way
    {
        "job_id": "imp_01HZX3",
        "status": "processing",
        "total": 5000,
        "processed": 1200,
        "succeeded": 1190,
        "failed": 10,
        "created_at": "2026-05-15T10:42:01Z",
        "updated_at": "2026-05-15T10:42:31Z",
        "expires_at": "2026-05-22T10:42:01Z",
    },
    # an async job finished: results populated
    {
        "job_id": "imp_01HZX4",
        "status": "complete",
        "total": 2,
        "processed": 2,
        "succeeded": 1,
        "failed": 1,
        "results": [
            {"id": "7f000001-0000-4000-8000-000000000003", "created": True},
            {"id": None, "error": {"code": "missing_dedupe_key", "message": "domain is required"}},
        ],
        "created_at": "2026-05-15T10:42:01.250Z",
        "updated_at": "2026-05-15T10:44:10.500Z",
        "expires_at": "2026-05-22T10:42:01.250Z",
    },
    # a job-level failure before any row landed
    {
        "job_id": "imp_01HZX5",
        "status": "failed",
        "total": 800,
        "processed": 0,
        "error": {"code": "internal_error", "message": "import worker crashed"},
    },
    # a job-level failure after some rows landed: partial by the counts
    {
        "job_id": "imp_01HZX6",
        "status": "failed",
        "total": 800,
        "processed": 300,
        "succeeded": 300,
        "failed": 0,
        "error": {"code": "quota_exceeded", "message": "monthly quota reached"},
    },
    # an import of zero rows
    {"job_id": None, "status": "complete", "total": 0, "results": []},
)
