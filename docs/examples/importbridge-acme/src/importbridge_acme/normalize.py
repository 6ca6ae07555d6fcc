"""Acme's status payload -> ``importbridge.ImportJob``, using only importbridge's public API.

Every read goes through a small typed accessor that raises ``importbridge.PayloadError`` with
the field's path, so bad input never escapes as a ``KeyError`` or ``TypeError``. The payload is
only read, never changed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from importbridge import (
    ImportJob,
    JobError,
    JobState,
    PayloadError,
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


def _fail(path: str, reason: str) -> PayloadError:
    return PayloadError(NAME, path, reason)


def _object(value: object, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _fail(path, f"expected an object, got {type(value).__name__}")
    return value


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _fail(path, f"expected an array, got {type(value).__name__}")
    return value


def _absent_as(value: object, default: object) -> object:
    """A missing or null field reads as ``default``; anything else is checked as it is."""
    return default if value is None else value


def _text(obj: Mapping[str, Any], key: str, path: str, *, required: bool = False) -> str | None:
    value = obj.get(key)
    if value is None:
        if required:
            raise _fail(f"{path}.{key}", "missing")
        return None
    if not isinstance(value, str):
        raise _fail(f"{path}.{key}", f"expected a string, got {type(value).__name__}")
    return value


def _count(obj: Mapping[str, Any], key: str, path: str, *, minimum: int = 0) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(f"{path}.{key}", f"expected an integer >= {minimum}, got {value!r}")
    return value


def _percent(obj: Mapping[str, Any], key: str, path: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(f"{path}.{key}", f"expected a number, got {type(value).__name__}")
    if not (math.isfinite(value) and 0 <= value <= 100):
        raise _fail(f"{path}.{key}", f"expected a percentage from 0 to 100, got {value!r}")
    return value / 100


def _timestamp(obj: Mapping[str, Any], key: str, path: str) -> datetime | None:
    text = _text(obj, key, path)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        return parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError):  # OverflowError: year 1 with a positive offset
        raise _fail(f"{path}.{key}", f"not an ISO-8601 timestamp: {text!r}") from None


def _error(value: object, path: str) -> JobError | None:
    if value is None:
        return None
    obj = _object(value, path)
    return JobError(code=_text(obj, "code", path), message=_text(obj, "message", path))


def _rejection(value: object, path: str) -> RowResult:
    entry = _object(value, path)
    return RowResult(
        row=_count(entry, "line", path, minimum=1),
        outcome=RowOutcome.FAILED,
        error=JobError(code=_text(entry, "code", path), message=_text(entry, "reason", path)),
        data=entry.get("record"),
    )


def normalize(payload: object) -> ImportJob:
    """One ``{"load": {...}}`` status payload as an ``ImportJob``."""
    load = _object(_object(payload, "").get("load"), "load")
    phase = _text(load, "phase", "load", required=True)
    assert phase is not None
    if phase not in STATUS_WORDS:
        raise _fail("load.phase", f"unknown phase {phase!r}; expected one of {sorted(STATUS_WORDS)}")
    rows = _object(_absent_as(load.get("rows"), {}), "load.rows")
    accepted = _count(rows, "accepted", "load.rows")
    rejected = _count(rows, "rejected", "load.rows")
    rejections = [
        _rejection(entry, f"load.rejections[{index}]")
        for index, entry in enumerate(_list(_absent_as(load.get("rejections"), []), "load.rejections"))
    ]
    error = _error(load.get("abort"), "load.abort")
    return ImportJob(
        provider=NAME,
        id=_text(load, "id", "load", required=True),
        state=settle_state(
            STATUS_WORDS[phase], succeeded=accepted, failed=rejected, job_error=error is not None
        ),
        provider_state=phase,
        total=_count(rows, "total", "load.rows"),
        processed=None if accepted is None or rejected is None else accepted + rejected,
        succeeded=accepted,
        failed=rejected,
        progress=_percent(load, "percent", "load"),
        created_at=_timestamp(load, "submitted_at", "load"),
        started_at=_timestamp(load, "started_at", "load"),
        finished_at=_timestamp(load, "finished_at", "load"),
        error=error,
        rows=rejections,
        rows_complete=rejected is not None and len(rejections) == rejected,
        file_name=_text(load, "file", "load"),
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
