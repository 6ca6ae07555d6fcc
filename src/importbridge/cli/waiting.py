"""Waiting from the command line: a progress display around ``wait``, and what a timeout prints."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from .exits import ExitCode
from .output import emit_job
from .progress import display

if TYPE_CHECKING:
    from importbridge.client import ImportClient
    from importbridge.errors import PollTimeout
    from importbridge.model import ImportJob

__all__ = ["report_timeout", "wait_with_progress"]


def wait_with_progress(client: ImportClient, item: ImportJob | str, *, timeout: float | None) -> ImportJob:
    """``client.wait`` with a live display on stderr; ``PollTimeout`` propagates."""
    with display() as show:
        return client.wait(item, timeout=timeout, on_update=show)


def report_timeout(error: PollTimeout, *, as_json: bool) -> int:
    """Print the last snapshot (stdout) and the resume token (stderr); exit status 4."""
    if error.job is not None:
        emit_job(error.job, as_json=as_json)
    message = " ".join(str(error).split())
    print(f"importbridge: timed out: {message}", file=sys.stderr)
    print(f"importbridge: resume with: importbridge resume {error.token}", file=sys.stderr, flush=True)
    return int(ExitCode.TIMED_OUT)
