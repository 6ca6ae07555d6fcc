"""ImportTriggers never block the triggerer's event loop: debug mode, 50 ms, any warning fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from importbridge import sandbox

JOBS = 100


def test_triggers_never_block_the_loop(sb: sandbox.Sandbox) -> None:
    before = sb.state()["micro"]["imports"]
    probe = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("trigger_probe.py")), json.dumps(sb.settings("micro")),
         str(JOBS)],
        capture_output=True, text=True, timeout=240, env={**os.environ, "PYTHONWARNINGS": "error"},
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr[-3000:]
    report = json.loads(probe.stdout.strip().splitlines()[-1])
    assert report["asyncio"] == []
    assert report["statuses"] == ["done"] * JOBS
    assert sb.state()["micro"]["imports"] == before + JOBS  # the triggers submitted nothing
