"""Running the command's ``main`` inside the test process, with its streams captured as bytes.

A subprocess per run costs a fresh interpreter; the fuzzers run the command tens of thousands
of times, so they call ``main`` directly, with stdin, stdout and stderr swapped for byte buffers
in a chosen encoding (``ascii`` plays a ``LANG=C`` / ``PYTHONIOENCODING=ascii`` terminal) and the
environment cleared of provider settings. What the streams received must decode strictly in that
encoding: output the terminal could not have shown is a failure, not a detail.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from importbridge.cli import main

from .conftest import PROVIDER_VARIABLES

__all__ = ["Outcome", "environment", "run_main"]


class Outcome:
    """One run: its exit status and what it wrote, decoded."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code = code
        self.out = out
        self.err = err


@contextmanager
def environment(values: Mapping[str, str] = {}) -> Iterator[None]:
    """``os.environ`` without any provider setting (plus ``values``) for the duration."""
    saved = dict(os.environ)
    for key in [key for key in os.environ if key.startswith(PROVIDER_VARIABLES)]:
        del os.environ[key]
    os.environ.pop("NO_COLOR", None)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def run_main(args: Sequence[str], *, stdin: bytes = b"", encoding: str = "utf-8") -> Outcome:
    """``importbridge ARGS`` in this process, as a terminal in ``encoding`` would run it."""
    saved = sys.stdin, sys.stdout, sys.stderr
    out, err = io.BytesIO(), io.BytesIO()
    streams = [
        io.TextIOWrapper(io.BytesIO(stdin), encoding=encoding),
        io.TextIOWrapper(out, encoding=encoding, write_through=True),
        io.TextIOWrapper(err, encoding=encoding, write_through=True),  # strict, as stdout is
    ]
    sys.stdin, sys.stdout, sys.stderr = streams
    try:
        try:
            code = main(list(args))
        except SystemExit as stop:  # argparse's usage errors and --help
            code = stop.code if isinstance(stop.code, int) else 2
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved
        for stream in streams:
            stream.flush()
            stream.detach()  # keep the buffers open to read them
    return Outcome(code, out.getvalue().decode(encoding), err.getvalue().decode(encoding))
