"""Ctrl-C and SIGTERM: end the command cleanly, and never lose a wait that was under way.

The import goes on at the provider whatever happens to the command, so an interrupted wait
prints what resumes it (on stderr) before it exits 128 + the signal's number: 130 for Ctrl-C
(SIGINT), 143 for SIGTERM, as shells report a process ended by the signal.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from types import FrameType

__all__ = [
    "Interrupted",
    "exit_status",
    "explained",
    "report_interrupt",
    "resumable",
    "resume_hint",
    "signals_interrupt",
]

_NAMES: dict[int, str] = {signal.SIGINT: "interrupted (SIGINT)", signal.SIGTERM: "terminated (SIGTERM)"}


class Interrupted(KeyboardInterrupt):
    """The command was stopped by ``signum``; ``tokens`` resume the waits it cut short.

    A ``KeyboardInterrupt``, so everything that cleans up after Ctrl-C cleans up after SIGTERM too.
    """

    def __init__(self, signum: int = signal.SIGINT, tokens: Sequence[str] = (), note: str = "") -> None:
        self.signum = signum
        self.tokens = tuple(tokens)
        self.note = note
        super().__init__(_NAMES.get(signum, f"stopped by signal {signum}"))


def _signum(stop: KeyboardInterrupt) -> int:
    return stop.signum if isinstance(stop, Interrupted) else signal.SIGINT


def exit_status(stop: KeyboardInterrupt) -> int:
    """128 + the signal's number: 130 for Ctrl-C, 143 for SIGTERM."""
    return 128 + _signum(stop)


def _raise_interrupted(signum: int, frame: FrameType | None) -> None:
    raise Interrupted(signum)


@contextmanager
def signals_interrupt() -> Iterator[None]:
    """While the command runs, SIGTERM interrupts it as Ctrl-C does (Python only does SIGINT).

    Signal handlers belong to the main thread: elsewhere (an embedding program's worker) this
    changes nothing. The previous handler comes back afterwards.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _annotated(interrupted: Callable[[int], Interrupted]) -> Iterator[None]:
    """Turn an interrupt into ``interrupted(signum)``, unless an inner step already said more."""
    try:
        yield
    except KeyboardInterrupt as stop:
        if isinstance(stop, Interrupted) and (stop.tokens or stop.note):
            raise
        raise interrupted(_signum(stop)) from None


def resumable(tokens: Callable[[], Sequence[str]]) -> AbstractContextManager[None]:
    """Around a wait: an interrupt carries ``tokens()``, the tokens that resume what is unfinished."""
    return _annotated(lambda signum: Interrupted(signum, tokens()))


def explained(note: str) -> AbstractContextManager[None]:
    """Around a step whose interruption leaves something to check: an interrupt carries ``note``."""
    return _annotated(lambda signum: Interrupted(signum, note=note))


def resume_hint(token: str) -> str:
    """The line that tells how to continue a wait."""
    return f"importbridge: resume with: importbridge resume {token} --timeout SECONDS"


def report_interrupt(stop: KeyboardInterrupt) -> int:
    """Say what stopped the command and how to resume its waits (stderr); the exit status."""
    tokens = stop.tokens if isinstance(stop, Interrupted) else ()
    stopped = _NAMES.get(_signum(stop), "interrupted")
    if isinstance(stop, Interrupted) and stop.note:
        stopped += f" {stop.note}"
    elif tokens:
        count = "the import goes" if len(tokens) == 1 else f"{len(tokens)} imports go"
        stopped += f" while waiting; {count} on at the provider"
    print(f"importbridge: {stopped}", file=sys.stderr)
    for token in tokens:
        print(resume_hint(token), file=sys.stderr)
    sys.stderr.flush()
    return exit_status(stop)
