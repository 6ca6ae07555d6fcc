"""Showing jobs move while the command waits: live bars on a terminal, status lines otherwise.

On a terminal (stderr) each job gets a rich progress bar: rows done of total, rows per second,
time left. Piped or redirected, one plain line is written per change of state or row count, so
logs stay readable. ``NO_COLOR`` turns colour off. rich is imported only for a live display.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from importbridge.model import ImportJob

__all__ = ["Display", "LiveBars", "StatusLines", "display", "rows_done"]


class Display(Protocol):
    """Something that shows one more snapshot of a job."""

    def __call__(self, job: ImportJob) -> None: ...


def rows_done(job: ImportJob) -> int:
    """Rows attempted so far, from the counts or else from the progress fraction."""
    if job.processed is not None:
        return job.processed
    if job.total is not None and job.progress is not None:
        return round(job.total * job.progress)
    if job.done and job.total is not None:
        return job.total
    return 0


def label(job: ImportJob) -> str:
    """How a job is named on screen."""
    return f"{job.provider} {job.id}" if job.id is not None else f"{job.provider} (sync)"


def _of_total(job: ImportJob) -> str:
    if job.total is None and job.processed is None and job.progress is not None:
        return f"{job.progress:.0%}"  # the provider reports a percentage, not rows
    total = "?" if job.total is None else str(job.total)
    return f"{rows_done(job)}/{total} rows"


class StatusLines:
    """One line per change, for logs and pipes."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self._seen: dict[tuple[str, str | None], tuple[Any, ...]] = {}
        self._lock = threading.Lock()

    def __call__(self, job: ImportJob) -> None:
        key = (job.provider, job.id)
        signature = (job.state, rows_done(job), job.total, job.progress)
        with self._lock:
            if self._seen.get(key) == signature:
                return
            self._seen[key] = signature
            self._stream.write(f"{label(job)}: {job.state.value}, {_of_total(job)}\n")
            self._stream.flush()


class LiveBars:
    """A rich progress bar per job (rows done of total, rate, ETA)."""

    def __init__(self, stream: IO[str]) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            ProgressColumn,
            Task,
            TextColumn,
            TimeRemainingColumn,
        )
        from rich.text import Text

        class CountColumn(ProgressColumn):
            """Rows done of total; a percentage for providers that report no row counts."""

            def render(self, task: Task) -> Text:
                if task.fields.get("rows"):
                    total = "?" if task.total is None else f"{task.total:,.0f}"
                    return Text(f"{task.completed:,.0f}/{total} rows", style="progress.download")
                return Text(f"{task.percentage:.0f}%" if task.total else "", style="progress.percentage")

        class RateColumn(ProgressColumn):
            """Rows per second, once rich has seen enough progress to say."""

            def render(self, task: Task) -> Text:
                speed = task.finished_speed or task.speed
                shown = task.fields.get("rows") and speed is not None
                return Text(f"{speed:,.0f} rows/s" if shown else "", style="progress.data.speed")

        console = Console(file=stream, no_color=bool(os.environ.get("NO_COLOR")))
        self._progress = Progress(
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            CountColumn(),
            RateColumn(),
            TimeRemainingColumn(),
            console=console,
            refresh_per_second=8,
        )
        self._tasks: dict[tuple[str, str | None], Any] = {}
        self._lock = threading.Lock()

    def start(self) -> None:
        self._progress.start()

    def stop(self) -> None:
        self._progress.stop()

    def __call__(self, job: ImportJob) -> None:
        key = (job.provider, job.id)
        description = f"{label(job)} [{job.state.value}]"
        done, total, rows = _measure(job)
        with self._lock:
            task = self._tasks.get(key)
            if task is None:
                task = self._tasks[key] = self._progress.add_task(description, total=total, rows=rows)
            self._progress.update(task, description=description, completed=done, total=total, rows=rows)


def _measure(job: ImportJob) -> tuple[float, float | None, bool]:
    """(done, total, counted in rows?) for a bar: rows when the provider counts them, else the
    progress fraction as a percentage, else an indeterminate bar (total None)."""
    if job.total is not None:
        return rows_done(job), job.total, True
    if job.progress is not None:
        return job.progress * 100, 100.0, False
    if job.done:
        return 100.0, 100.0, False
    return 0.0, None, job.processed is not None


def _live_possible(stream: IO[str]) -> bool:
    try:
        import rich  # noqa: F401
    except ImportError:
        return False
    return stream.isatty() and os.environ.get("TERM") != "dumb"


@contextmanager
def display(stream: IO[str] | None = None) -> Iterator[Display]:
    """A display for the duration of a wait: live bars on a terminal, status lines otherwise."""
    out = stream or sys.stderr
    if not _live_possible(out):
        yield StatusLines(out)
        return
    bars = LiveBars(out)
    bars.start()
    try:
        yield bars
    finally:
        bars.stop()
