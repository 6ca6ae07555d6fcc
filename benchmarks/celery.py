"""1,000 sandbox jobs waited by Celery countdown re-queues, against ``wait_all`` in one process.

Both runs watch the same mix (a third each of Micro, Qobra and TalkValue jobs of 101-400 rows at
10 rows per second, so 10-40 s each, on the sandbox's real clock: Celery's countdowns are real),
submitted afresh for each run. The sandbox serves from its own process, so neither run shares
an interpreter (a GIL) with it. The Celery run hands each job's resume token to the wait task on
two real ``celery worker`` processes (prefork, concurrency 4 each) on a real Redis; the baseline
holds every job in ``importbridge.wait_all`` (concurrency 16) in this process. Reported per run:

- wall: seconds from the start of the wait until the last job is known;
- requests per job (the sandbox's count);
- broker messages per job (Redis ``LPUSH`` calls: each task message published, restores included,
  less the workers' replies to the sampling ``inspect()``);
- slots occupied while waiting: for Celery, the mean number of tasks executing (sampled with
  ``inspect().active()``) out of the 8 worker slots, and the slot-seconds that makes per job
  (the polls' own run time: between polls nothing is held); ``wait_all`` holds its process (as
  a Celery task it would hold one slot) for the whole wait.

The sandbox's rate limit is off in both runs (it would bound both alike). Needs the ``celery``
extra and ``redis-server`` on the PATH. Run: ``python benchmarks/celery.py [--jobs 1000]``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

# this file is named celery.py: keep its folder off the path, or ``import celery`` finds it
HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != HERE]
ROOT = HERE.parent

import redis  # noqa: E402
import requests  # noqa: E402

import importbridge  # noqa: E402
from importbridge import ImportClient  # noqa: E402
from importbridge.integrations.celery import create_app  # noqa: E402

PROVIDERS = ("micro", "qobra", "talkvalue")
OPTIONS: dict[str, dict[str, Any]] = {"micro": {}, "qobra": {"table": "deals"}, "talkvalue": {"source_id": 1}}
WORKERS, CONCURRENCY = 2, 4
SPEED = 10.0
#: the sandbox, in a process of its own, until its stdin closes
SERVE = f"""
import json, sys
from importbridge import sandbox
with sandbox.run(seed=11, speed={SPEED}, rate_limit=None, sync_threshold=100) as sb:
    print(json.dumps({{"url": sb.url, "env": dict(sb.env)}}), flush=True)
    sys.stdin.read()
"""


def _row(provider: str, n: int) -> dict[str, Any]:
    if provider == "micro":
        return {"name": f"Co {n}", "domain": f"co{n}.example.com"}
    if provider == "qobra":
        return {"id": str(n), "amount": n * 1.5}
    return {"email": f"p{n}@example.com"}


def submit_tokens(clients: dict[str, ImportClient], count: int) -> list[str]:
    tokens = []
    for index, provider in zip(range(count), itertools.cycle(PROVIDERS)):
        size = 101 + (index * 37) % 300
        client = clients[provider]
        job = client.submit([_row(provider, n) for n in range(size)], **OPTIONS[provider])
        tokens.append(client.token(job))
    return tokens


def _requests(url: str) -> int:
    state = requests.get(f"{url}/_sandbox/state", timeout=30).json()
    return sum(int(state[p]["requests_received"]) for p in PROVIDERS)


def _lpushes(broker: redis.Redis) -> int:
    stats = broker.info("commandstats")
    return int(stats.get("cmdstat_lpush", {}).get("calls", 0))


def run_celery(sandbox_url: str, clients: dict[str, ImportClient], url: str, count: int) -> dict[str, Any]:
    app, tasks = create_app(url, visibility_timeout=120, countdown_cap=60)
    broker = redis.Redis.from_url(url)
    tokens = submit_tokens(clients, count)
    requests0, messages0 = _requests(sandbox_url), _lpushes(broker)
    samples: list[int] = []
    replies = 0  # each worker's answer to inspect() is an LPUSH too: not counted as a task message
    stop = threading.Event()

    def sample() -> None:
        nonlocal replies
        inspector = app.control.inspect(timeout=0.5)
        while not stop.is_set():
            active = inspector.active() or {}
            replies += len(active)
            samples.append(sum(len(running) for running in active.values()))
            stop.wait(0.25)

    sampler = threading.Thread(target=sample)
    start = time.perf_counter()
    results = [tasks.wait.delay(token) for token in tokens]
    sampler.start()
    finished = [importbridge.from_dict(result.get(timeout=600)["job"]) for result in results]
    wall = time.perf_counter() - start
    stop.set()
    sampler.join()
    messages = _lpushes(broker) - messages0 - replies
    if not all(job.done for job in finished):
        raise SystemExit("celery: a job came back unfinished")
    return {
        "label": f"celery ({WORKERS} workers x {CONCURRENCY})",
        "wall": wall,
        "per_job": (_requests(sandbox_url) - requests0) / count,
        "messages": messages / count,
        "slots": sum(samples) / max(1, len(samples)),
        "of": WORKERS * CONCURRENCY,
        "slot_s": sum(samples) / max(1, len(samples)) * wall / count,
    }


def run_wait_all(sandbox_url: str, clients: dict[str, ImportClient], count: int) -> dict[str, Any]:
    tokens = submit_tokens(clients, count)
    requests0 = _requests(sandbox_url)
    start = time.perf_counter()
    finished = list(importbridge.wait_all(tokens, clients=clients.values(), concurrency=16))
    wall = time.perf_counter() - start
    if len(finished) != count:
        raise SystemExit("wait_all: a job came back unfinished")
    per_job = (_requests(sandbox_url) - requests0) / count
    return {"label": "wait_all (one process, 16)", "wall": wall, "per_job": per_job, "messages": 0.0,
            "slots": 1.0, "of": 1, "slot_s": wall / count}


def _redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (apt-get install redis-server)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(folder)], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    for _ in range(200):
        try:
            redis.Redis.from_url(url).ping()
            return server, url
        except redis.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("redis-server did not start")


def _workers(url: str, env: dict[str, str]) -> list[subprocess.Popen[bytes]]:
    path = os.pathsep.join([str(ROOT), str(ROOT / "src"), str(ROOT / "providers")])
    environ = {**os.environ, **env, "IB_TEST_BROKER": url, "IB_TEST_VISIBILITY": "120",
               "IB_TEST_COUNTDOWN_CAP": "60", "PYTHONPATH": path}
    return [
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests.integrations.celery.worker_app", "worker",
             "--pool", "prefork", "--concurrency", str(CONCURRENCY), "--loglevel", "ERROR",
             "--without-gossip", "--without-mingle", "-n", f"bench{n}@%h"],
            cwd=ROOT, env=environ, start_new_session=True,
        )
        for n in range(WORKERS)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    args = parser.parse_args()
    folder = Path(os.environ.get("TMPDIR", "/tmp"))
    server, url = _redis(folder)
    served = subprocess.Popen([sys.executable, "-c", SERVE], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    workers: list[subprocess.Popen[bytes]] = []
    try:
        assert served.stdout is not None
        where = json.loads(served.stdout.readline())
        os.environ.update(where["env"])  # clients and workers read their settings from it
        clients = {name: importbridge.connect(name) for name in PROVIDERS}
        workers = _workers(url, where["env"])
        celery_run = run_celery(where["url"], clients, url, args.jobs)
        baseline = run_wait_all(where["url"], clients, args.jobs)
        for client in clients.values():
            client.close()
    finally:
        for worker in workers:
            os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            worker.wait(30)
        if served.stdin is not None:
            served.stdin.close()
        served.wait(30)
        server.terminate()
        server.wait(10)

    low, high = 101 / SPEED, 400 / SPEED
    print(f"\n{args.jobs} sandbox jobs (Micro, Qobra, TalkValue; {low:.0f}-{high:.0f} s each), real clock")
    print(f"{'run':<30}{'wall s':>8}{'req/job':>9}{'msgs/job':>10}{'slots busy':>16}{'slot-s/job':>12}")
    for result in (celery_run, baseline):
        print(f"{result['label']:<30}{result['wall']:>8.1f}{result['per_job']:>9.2f}{result['messages']:>10.2f}"
              f"{result['slots']:>10.2f} of {result['of']:<3}{result['slot_s']:>12.3f}")
    print(
        f"SUMMARY celery countdown waits: {celery_run['wall']:.1f} s vs wait_all {baseline['wall']:.1f} s "
        f"({celery_run['wall'] / baseline['wall']:.2f}x), {celery_run['per_job']:.2f} vs "
        f"{baseline['per_job']:.2f} requests/job, {celery_run['messages']:.2f} broker messages/job, "
        f"{celery_run['slot_s']:.3f} worker slot-seconds per job (polls only; {celery_run['slots']:.2f} of "
        f"{celery_run['of']} slots busy on average)"
        f" vs {baseline['slot_s']:.3f} for a wait_all task holding one"
    )


if __name__ == "__main__":
    main()
