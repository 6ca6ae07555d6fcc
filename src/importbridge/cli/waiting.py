"""Waiting from the command line: a progress display around a wait, and what a timeout or an
interrupt prints (the tokens that resume what is unfinished)."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from .exits import ExitCode
from .interrupts import resumable, resume_hint
from .output import emit_job
from .progress import Display, display

if TYPE_CHECKING:
    from importbridge.client import ImportClient
    from importbridge.errors import PollTimeout
    from importbridge.model import ImportJob

__all__ = ["report_timeout", "wait_all_with_progress", "wait_many", "wait_with_progress"]


def wait_with_progress(client: ImportClient, item: ImportJob | str, *, timeout: float | None) -> ImportJob:
    """``client.wait`` with a live display on stderr; ``PollTimeout`` propagates, and an interrupt
    carries the wait's token (``interrupts.Interrupted``)."""
    from importbridge.polling import poll

    poller = poll(client, item, timeout=timeout)  # what client.wait drives, with token() at hand
    with resumable(lambda: [poller.token()]), display() as show:
        _show_known(show, [item])
        for snapshot in poller:
            show(snapshot)
    job = poller.job
    assert job is not None  # the poller ends only on a terminal snapshot
    return job


def _show_known(show: Display, items: Sequence[ImportJob | str]) -> None:
    """Show the snapshots in hand at once: the wait only reports changes from them."""
    for item in items:
        if not isinstance(item, str):
            show(item)


def _key(item: ImportJob | str, client: ImportClient) -> tuple[str, str | None]:
    from importbridge.tokens import decode

    if isinstance(item, str):
        token = decode(item, key=client.token_key)
        return token.provider, token.job_id
    return item.provider, item.id


def wait_all_with_progress(
    client: ImportClient, items: Sequence[ImportJob | str], *, timeout: float | None
) -> dict[tuple[str, str | None], ImportJob]:
    """``importbridge.wait_all`` with a display: the finished jobs by (provider, id).

    An interrupt carries a token for each job that had not finished.
    """
    import importbridge

    ended: dict[tuple[str, str | None], ImportJob] = {}

    def unfinished() -> Iterator[str]:
        for item in items:
            if _key(item, client) not in ended:
                yield item if isinstance(item, str) else client.token(item)

    with resumable(lambda: list(unfinished())), display() as show:
        _show_known(show, items)
        for job in importbridge.wait_all(
            items, clients=[client], timeout=timeout, on_update=show, token_key=client.token_key
        ):
            ended[_key(job, client)] = job
    return ended


def wait_many(
    client: ImportClient, items: Sequence[str], *, timeout: float | None
) -> list[ImportJob]:
    """Wait for several jobs (ids or resume tokens) at once; returns them in the order given."""
    from importbridge.tokens import looks_like_token

    watched = [item if looks_like_token(item) else client.get(item) for item in items]
    ended = wait_all_with_progress(client, watched, timeout=timeout)
    return [ended[key] for key in dict.fromkeys(_key(item, client) for item in watched)]


def report_timeout(error: PollTimeout, *, as_json: bool) -> int:
    """Print the last snapshot (stdout) and the resume token (stderr); exit status 4."""
    if error.job is not None:
        emit_job(error.job, as_json=as_json)
    message = " ".join(str(error).split())
    print(f"importbridge: timed out: {message}", file=sys.stderr)
    # The token keeps the spent deadline (a resumed wait keeps its budget), so the hint gives a new one.
    for token in error.tokens:  # one per unfinished job (wait_all may leave several)
        print(resume_hint(token), file=sys.stderr, flush=True)
    return int(ExitCode.TIMED_OUT)
