"""Waiting from the command line: a progress display around ``wait``, and what a timeout prints."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .exits import ExitCode
from .output import emit_job
from .progress import display

if TYPE_CHECKING:
    from importbridge.client import ImportClient
    from importbridge.errors import PollTimeout
    from importbridge.model import ImportJob

__all__ = ["report_timeout", "wait_many", "wait_with_progress"]


def wait_with_progress(client: ImportClient, item: ImportJob | str, *, timeout: float | None) -> ImportJob:
    """``client.wait`` with a live display on stderr; ``PollTimeout`` propagates."""
    with display() as show:
        return client.wait(item, timeout=timeout, on_update=show)


def _key(item: ImportJob | str, client: ImportClient) -> tuple[str, str | None]:
    from importbridge.tokens import decode

    if isinstance(item, str):
        token = decode(item, key=client.token_key)
        return token.provider, token.job_id
    return item.provider, item.id


def wait_many(
    client: ImportClient, items: Sequence[str], *, timeout: float | None
) -> list[ImportJob]:
    """Wait for several jobs (ids or resume tokens) at once; returns them in the order given."""
    import importbridge
    from importbridge.tokens import looks_like_token

    watched = [item if looks_like_token(item) else client.get(item) for item in items]
    with display() as show:
        ended = {
            _key(job, client): job
            for job in importbridge.wait_all(
                watched, clients=[client], timeout=timeout, on_update=show, token_key=client.token_key
            )
        }
    return [ended[key] for key in dict.fromkeys(_key(item, client) for item in watched)]


def report_timeout(error: PollTimeout, *, as_json: bool) -> int:
    """Print the last snapshot (stdout) and the resume token (stderr); exit status 4."""
    if error.job is not None:
        emit_job(error.job, as_json=as_json)
    message = " ".join(str(error).split())
    print(f"importbridge: timed out: {message}", file=sys.stderr)
    # The token keeps the spent deadline (a resumed wait keeps its budget), so the hint gives a new one.
    for token in error.tokens:  # one per unfinished job (wait_all may leave several)
        print(f"importbridge: resume with: importbridge resume {token} --timeout SECONDS",
              file=sys.stderr, flush=True)
    return int(ExitCode.TIMED_OUT)
