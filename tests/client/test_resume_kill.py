"""submit_many survives SIGKILL: a child process is killed mid-run, again and again, then rerun to the
end with the same arguments; the sandbox's own counts prove no row was lost or imported twice.

Micro settles a batch left in doubt by resending it under its Idempotency-Key (a replay);
TalkValue by finding the import by its file name, which carries the batch's request id. Both
hold even when the journal is lost before the last run: request ids derive from the run (the
checkpoint's path) and the batch, so the rerun sends each batch under the id it had before."""

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

ROWS = 1600
CHUNK = 40  # 40 batches (Micro: sync imports, under the sandbox's threshold of 100)
KILLS = 4

CHILD = """
import json, sys
import importbridge

provider, path, count, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
if provider == "micro":
    rows = ({"name": f"org-{n}", "domain": f"o{n}.example.com"} for n in range(count))
    options = {}
else:
    rows = ({"email": f"p{n}@example.com", "first_name": f"P{n}"} for n in range(count))
    options = {"source_id": 1}
with importbridge.connect(provider) as client:  # settings from the provider's environment variables
    jobs = client.submit_many(rows, chunk_size=size, checkpoint=path,
                              on_submit=lambda index, job: print(index, flush=True), **options)
print(json.dumps({"jobs": len(jobs), "total": sum(job.total or 0 for job in jobs)}), flush=True)
"""


def run_child(provider: str, checkpoint: Path, env: dict[str, str], kill: tuple[int, float] | None) -> str:
    """Run the child to the end, or SIGKILL it ``kill[1]`` s after its ``kill[0]``-th new batch."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, provider, str(checkpoint), str(ROWS), str(CHUNK)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    if kill is None:
        out, err = child.communicate(timeout=60)
        assert child.returncode == 0, err
        return out
    batches, delay = kill
    for _ in range(batches):  # each line: one more batch journaled by this run
        assert child.stdout.readline().strip(), "the child ended before it could be killed"
    time.sleep(delay)  # usually lands inside the next batch's requests
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=30)
    return ""


@pytest.mark.slow
@pytest.mark.parametrize("journal", ["kept", "lost"])
@pytest.mark.parametrize("provider", ["micro", "talkvalue"])
def test_killed_runs_resume_without_losing_or_doubling_a_row(
    tmp_path: Path, provider: str, journal: str
) -> None:
    chance = random.Random(20240515)
    checkpoint = tmp_path / "run.ckpt"
    with sandbox.run(rate_limit=None, sync_threshold=100, seed=5) as sb:
        env = {**os.environ, **sb.env, "PYTHONUNBUFFERED": "1"}
        for _ in range(KILLS):
            run_child(provider, checkpoint, env, kill=(chance.randint(1, 6), chance.uniform(0.0, 0.004)))
        interrupted = sb.state()[provider]["rows_submitted"]
        assert interrupted < ROWS  # the kills really interrupted the run
        if journal == "lost":
            checkpoint.unlink()
        summary = json.loads(run_child(provider, checkpoint, env, kill=None).splitlines()[-1])
        state = sb.state()[provider]
    batches = -(-ROWS // CHUNK)
    assert summary == {"jobs": batches, "total": ROWS}
    assert state["records"] == ROWS  # every row stored, none twice (names and emails are unique)
    assert state["rows_submitted"] == ROWS  # no batch was imported twice
    assert state["imports"] == batches
    routes = state.get("requests_by_route", {})
    lookups = sum(
        count for route, count in routes.items() if route.startswith("GET /path/import") and "{" not in route
    )
    replays = sum(entry["replays"] for entry in state.get("idempotency_keys", {}).values())
    print(
        f"{provider}: interrupted at {interrupted} rows; settled by {replays} replay(s), {lookups} lookup(s)"
    )
