"""What a task does with a trigger's event: the operator's and the sensor's shared last step."""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from typing import Any, Literal

from airflow.sdk.exceptions import AirflowException

from importbridge import ImportJob, from_dict
from importbridge.errors import ConfigurationError

from .hooks import ImportBridgeHook

OnPartial = Literal["fail", "warn", "succeed"]
ON_PARTIAL = ("fail", "warn", "succeed")
#: rejected rows named in the log of a partial or failed import
SHOWN_ROWS = 5


def check_on_partial(value: str) -> OnPartial:
    if value not in ON_PARTIAL:
        raise ConfigurationError(f"on_partial must be one of {', '.join(ON_PARTIAL)}, got {value!r}")
    return value  # type: ignore[return-value]


def finish(
    hook: ImportBridgeHook,
    event: Mapping[str, Any],
    on_partial: OnPartial,
    log: Any,
    rejected_rows: str | None = None,
) -> dict[str, Any]:
    """The job's ``to_dict`` (the task's XCom) for a complete job, else the task's failure; the
    rejected rows of a partial or failed one written to ``rejected_rows`` when given."""
    status = event.get("status")
    if status == "error":
        raise AirflowException(f"importbridge: {event.get('error')}: {event.get('message')}")
    if status == "timeout":
        raise AirflowException(
            "importbridge: the import was still running at its deadline; "
            f"resume it with token {event['token']}"
        )
    data = dict(event["job"])
    job = from_dict(data)
    where = f"{job.provider} import {job.id}"
    counts = f"{job.succeeded} of {job.total} rows imported, {job.failed} rejected"
    if job.state == "complete":
        log.info("importbridge: %s complete: %s", where, counts)
        return data
    rejected = _first_rejected(hook, job)
    if rejected_rows:
        log.info("importbridge: %d rejected rows written to %s", write_rejected(hook, job, rejected_rows),
                 rejected_rows)
    if job.state == "partial" and on_partial != "fail":
        (log.warning if on_partial == "warn" else log.info)(
            "importbridge: %s partial: %s; first rejected rows: %s", where, counts, rejected)
        return data
    raise AirflowException(f"importbridge: {where} {job.state}: {counts}; first rejected rows: {rejected}")


def write_rejected(hook: ImportBridgeHook, job: ImportJob, target: str) -> int:
    """Every rejected row of ``job`` as JSON lines (row, code, message, data) at ``target``, a path
    or an object-store URI (Airflow's ``ObjectStoragePath``), streamed; returns the count."""
    from airflow.sdk import ObjectStoragePath

    path: Any = ObjectStoragePath(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with hook.get_conn() as client, path.open("w") as out:
        for row in client.failed_rows(job):
            error = row.error
            out.write(json.dumps({"row": row.row, "code": error.code if error else None,
                                  "message": error.message if error else None, "data": row.data}) + "\n")
            count += 1
    return count


def _first_rejected(hook: ImportBridgeHook, job: Any) -> str:
    """The first rejected rows, as ``row N (code: message)``; what could not be read, said so."""
    try:
        with hook.get_conn() as client:
            rows = list(itertools.islice(client.failed_rows(job), SHOWN_ROWS))
    except Exception as error:  # the outcome stands even when its detail cannot be fetched
        return f"(not available: {type(error).__name__}: {error})"
    return "; ".join(
        f"row {row.row} ({row.error.code}: {row.error.message})" if row.error else f"row {row.row}"
        for row in rows
    ) or "(none listed)"
