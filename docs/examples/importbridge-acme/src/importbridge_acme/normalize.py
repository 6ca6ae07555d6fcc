"""Acme's status payload -> ``importbridge.ImportJob``, using only importbridge's public API.

``importbridge.PayloadReader`` does the strict reading: every accessor checks the type,
treats a missing field or ``null`` as "not said", and raises ``importbridge.PayloadError``
naming the provider and the field's path. The payload is only read, never changed, and
fields this module does not ask for are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
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

NAME = "acme"

# Acme's phases and what each means; terminal ones are then settled by the counts.
STATUS_WORDS: Mapping[str, JobState] = {
    "QUEUED": JobState.PENDING,
    "LOADING": JobState.RUNNING,
    "DONE": JobState.COMPLETE,
    "DONE_WITH_ERRORS": JobState.PARTIAL,
    "ABORTED": JobState.FAILED,
}


def _rejection(entry: PayloadReader) -> RowResult:
    line = entry.count("line")
    if line == 0:
        raise entry.error("line", "line numbers start at 1")
    return RowResult(
        row=line,
        outcome=RowOutcome.FAILED,
        error=JobError(code=entry.string("code"), message=entry.string("reason")),
        data=entry.get("record"),
    )


def _abort(load: PayloadReader) -> JobError | None:
    abort = load.child("abort")
    return None if abort is None else JobError(code=abort.string("code"), message=abort.string("message"))


def normalize(payload: object) -> ImportJob:
    """One ``{"load": {...}}`` status payload as an ``ImportJob``."""
    load = PayloadReader(NAME, payload).child("load", required=True)
    assert load is not None  # required=True raises instead of returning None
    phase, word_state = load.status("phase", STATUS_WORDS)
    rows = load.child("rows") or PayloadReader(NAME, {}, load.where("rows"))
    total, accepted, rejected = rows.count("total"), rows.count("accepted"), rows.count("rejected")
    processed = None if accepted is None or rejected is None else accepted + rejected
    rows.at_most("accepted", processed, "total", total, what="accepted + rejected")
    error = _abort(load)
    rejections = [_rejection(entry) for entry in load.items("rejections")]
    return ImportJob(
        provider=NAME,
        id=load.identifier("id", required=True),
        state=settle_state(word_state, succeeded=accepted, failed=rejected, job_error=error is not None),
        provider_state=phase,
        total=total,
        processed=processed,
        succeeded=accepted,
        failed=rejected,
        progress=load.percent("percent"),
        created_at=load.datetime("submitted_at"),
        started_at=load.datetime("started_at"),
        finished_at=load.datetime("finished_at"),
        error=error,
        rows=rejections,
        rows_complete=rejected is not None and len(rejections) == rejected,
        file_name=load.string("file"),
        raw=payload,
    )


# Valid payloads, one per phase, for the conformance suite and the docs.
SAMPLES: tuple[dict[str, Any], ...] = (
    {"load": {"id": "ld_01HX1", "phase": "QUEUED", "submitted_at": "2024-05-01T10:00:00Z"}},
    {
        "load": {
            "id": "ld_01HX2",
            "phase": "LOADING",
            "rows": {"total": 1000, "accepted": 410, "rejected": 2},
            "percent": 41.2,
            "submitted_at": "2024-05-01T10:00:00Z",
            "started_at": "2024-05-01T10:00:02Z",
        }
    },
    {
        "load": {
            "id": "ld_01HX3",
            "phase": "DONE",
            "rows": {"total": 2, "accepted": 2, "rejected": 0},
            "percent": 100,
            "submitted_at": "2024-05-01T10:00:00Z",
            "finished_at": "2024-05-01T10:00:09Z",
            "rejections": [],
        }
    },
    {
        "load": {
            "id": "ld_01HX4",
            "phase": "DONE_WITH_ERRORS",
            "file": "contacts.csv",
            "rows": {"total": 3, "accepted": 2, "rejected": 1},
            "percent": 100,
            "submitted_at": "2024-05-01T10:00:00+02:00",
            "finished_at": "2024-05-01T08:00:09Z",
            "rejections": [
                {"line": 2, "code": "invalid_email", "reason": "bad email", "record": {"email": "nope"}}
            ],
            "abort": None,
        }
    },
    {
        "load": {
            "id": "ld_01HX5",
            "phase": "ABORTED",
            "rows": {"total": 50000},
            "abort": {"code": "quota_exceeded", "message": "monthly row quota exhausted"},
        }
    },
)
