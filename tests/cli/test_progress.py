"""The live progress display: rich bars when stderr is a terminal (checked under a pty)."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from importbridge import sandbox

from .conftest import write_csv

COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-7]|38;[25];[0-9;]+|9[0-7])m")


def run_under_pty(args: list[str], env: dict[str, str]) -> tuple[int, str, str]:
    """Run the command with stderr on a pseudo-terminal; (exit code, stdout, what the terminal got)."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "importbridge", *args], stdout=subprocess.PIPE,
                               stderr=terminal, stdin=subprocess.DEVNULL, env=env)
    os.close(terminal)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    out, _ = process.communicate(timeout=60)
    os.close(controller)
    return process.returncode, out.decode(), b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture
def orgs(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "orgs.csv", ["name", "domain"],
                     [[f"Org {i}", f"org{i}.example.com"] for i in range(150)])


@pytest.mark.parametrize("no_color", [False, True])
def test_submit_wait_shows_live_bars_on_a_terminal(
    orgs: Path, sb: sandbox.Sandbox, sb_env: dict[str, str], no_color: bool
) -> None:
    env = {**sb_env, "TERM": "xterm-256color", "COLUMNS": "120"}
    if no_color:
        env["NO_COLOR"] = "1"
    sb.configure(speed=150.0)  # about a second of work: the bar gets drawn more than once
    try:
        code, out, screen = run_under_pty(["submit", "micro", str(orgs), "--wait", "--json"], env)
    finally:
        sb.configure(speed=400.0)
    assert code == 0, screen
    assert '"state": "complete"' in out  # the job still goes to stdout, untouched by the display
    assert "━" in screen  # a bar
    assert "150/150" in screen  # rows done of total
    assert "rows" in screen
    assert "\x1b[" in screen  # drawn live, not as status lines
    assert "running, " not in screen
    assert bool(COLOUR.search(screen)) is not no_color


def test_status_lines_when_stderr_is_not_a_terminal(orgs: Path, sb_env: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "importbridge", "submit", "micro", str(orgs), "--wait"],
                          capture_output=True, text=True, env=sb_env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "\x1b[" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].endswith(": complete, 150/150 rows")
