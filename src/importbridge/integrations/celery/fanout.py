"""One summary of many batches' final jobs: states by the terminal rule, counts summed.

The chord's body calls ``summarize``; the caller streams each batch's rejected rows with
``failed_rows(summary)`` (fetched from the provider, batch by batch, never held whole).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from importbridge import JobState, RowOutcome, RowResult, connect, from_dict, settle_state

__all__ = ["failed_rows", "summarize"]

COUNTS = ("total", "processed", "succeeded", "failed")


def _sum(values: list[int | None]) -> int | None:
    """A sum, unknown (None) when any batch did not say."""
    return None if any(value is None for value in values) else sum(v for v in values if v is not None)


def summarize(results: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``{"state", "total", "processed", "succeeded", "failed", "batches"}`` for the waits' results.

    A batch that landed rows counts as landed, one that rejected rows (or failed) as rejected;
    the whole is complete, partial or failed by the contract's terminal rule. ``batches`` keeps
    each batch's job (``to_dict``) and token, in order.
    """
    jobs = [from_dict(result["job"]) for result in results]
    landed = sum(1 for job in jobs if job.state in (JobState.COMPLETE, JobState.PARTIAL))
    rejected = sum(1 for job in jobs if job.state in (JobState.PARTIAL, JobState.FAILED))
    state = settle_state(JobState.COMPLETE, succeeded=landed, failed=rejected)
    summary: dict[str, Any] = {"state": state.value}
    for name in COUNTS:
        summary[name] = _sum([getattr(job, name) for job in jobs])
    summary["batches"] = [{"token": result.get("token"), "job": dict(result["job"])} for result in results]
    return summary


def failed_rows(summary: Mapping[str, Any], **settings: Any) -> Iterator[tuple[int, RowResult]]:
    """Every rejected row of the summary's batches, as ``(batch index, row)``, streamed.

    ``settings`` are ``connect()`` keywords; credentials otherwise come from the environment.
    """
    for index, batch in enumerate(summary["batches"]):
        job = from_dict(batch["job"])
        if job.failed == 0 or job.state is JobState.COMPLETE:
            continue
        if job.rows_complete:  # every row outcome came with the job (a small Micro import)
            yield from ((index, row) for row in job.rows if row.outcome is RowOutcome.FAILED)
            continue
        with connect(job.provider, **settings) as client:
            for row in client.failed_rows(job):
                yield index, row
