"""submit_many survives SIGKILL: a child process is killed mid-run, again and again, then rerun to the
end with the same arguments; the sandbox's own counts prove no row was lost or imported twice."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from importbridge import sandbox

ROWS = 1500
CHUNK = 40  # 38 batches: sync imports (under the sandbox's threshold of 100)
KILLS = 4

CHILD = """
import json, sys
import importbridge

rows = ({"name": f"org-{n}", "domain": f"o{n}.example.com"} for n in range(int(sys.argv[2])))
with importbridge.connect("micro") as client:  # settings from the MICRO_* environment
    jobs = client.submit_many(rows, chunk_size=int(sys.argv[3]), checkpoint=sys.argv[1],
                              on_submit=lambda index, job: print(index, flush=True))
print(json.dumps({"jobs": len(jobs), "landed": sum(job.succeeded or 0 for job in jobs)}), flush=True)
"""


def run_child(checkpoint: Path, env: dict[str, str], kill_after: float | None) -> str:
    """Run the child; with ``kill_after``, SIGKILL it that long after its first batch landed."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(checkpoint), str(ROWS), str(CHUNK)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    if kill_after is None:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        return out
    first = child.stdout.readline()  # blocks until one batch is journaled (or the child ends)
    time.sleep(kill_after)
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    assert first.strip(), "the child ended before landing a batch"
    return ""


@pytest.mark.slow
def test_killed_runs_resume_without_losing_or_doubling_a_row(tmp_path: Path) -> None:
    chance = random.Random(20240515)
    checkpoint = tmp_path / "run.ckpt"
    with sandbox.run(rate_limit=None, sync_threshold=100, seed=5) as sb:
        env = {**os.environ, **sb.env, "PYTHONUNBUFFERED": "1"}
        for _ in range(KILLS):
            run_child(checkpoint, env, kill_after=chance.uniform(0.0, 0.08))
            journal = [json.loads(line) for line in checkpoint.read_text().splitlines() if line.endswith("}")]
            if sum(1 for entry in journal if entry["kind"] == "job") * CHUNK >= ROWS:
                break  # the run finished before a kill landed; nothing more to interrupt
        killed_state = sb.state()["micro"]
        assert killed_state["records"] < ROWS  # the kills really interrupted the run
        summary = json.loads(run_child(checkpoint, env, kill_after=None).splitlines()[-1])
        state = sb.state()["micro"]
    assert summary == {"jobs": -(-ROWS // CHUNK), "landed": ROWS}
    assert state["records"] == ROWS  # every row stored, none twice (domains are unique)
    assert state["rows_submitted"] == ROWS  # no batch was imported twice
    assert state["imports"] == -(-ROWS // CHUNK)
    replays = sum(entry["replays"] for entry in state["idempotency_keys"].values())
    print(f"kills interrupted at {killed_state['records']} rows; {replays} idempotent replay(s) on resume")
