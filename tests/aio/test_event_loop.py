"""Nothing blocks the event loop: 500 concurrent waits of sandbox jobs under asyncio debug mode.

Debug mode logs every callback or task step that holds the loop longer than
``slow_callback_duration`` (here 50 ms), and warns of never-awaited coroutines and unclosed
resources; any such line, or any Python warning, fails the test. The waits run in a fresh
interpreter (``loop_probe.py``) and the sandbox in another, so no other thread of the test
session competes with the event loop for its GIL. The cyclic garbage collector is paused
during the run (and run after it): debug mode keeps a traceback per task and handle, and a
full collection's pause, which is the interpreter's and not a blocking call, would otherwise
be blamed on whichever step it fell in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .support import remote_sandbox

JOBS = 500


@pytest.mark.slow
def test_500_concurrent_waits_never_block_the_loop() -> None:
    with remote_sandbox("--speed", "400", "--seed", "3") as sb:
        sb.configure(rate_limit=None, sync_threshold=0)  # every import is an async job to wait on
        script = str(Path(__file__).with_name("loop_probe.py"))
        probe = subprocess.run(
            [sys.executable, script, json.dumps(sb.micro()), str(JOBS)],
            capture_output=True, text=True, timeout=240, env={**os.environ, "PYTHONWARNINGS": "error"},
        )  # fmt: skip
        state = sb.state()
    assert probe.returncode == 0, probe.stderr[-3000:]
    report = json.loads(probe.stdout.strip().splitlines()[-1])
    assert report["asyncio"] == []
    assert len(report["states"]) == JOBS
    assert set(report["states"]) <= {"complete", "partial"}
    assert state["micro"]["imports"] == JOBS
