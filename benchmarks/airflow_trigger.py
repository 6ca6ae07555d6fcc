"""1,000 ``ImportTrigger``s on one triggerer-style event loop, against the same 1,000 jobs waited
by the sync client in 16 threads (``client.wait(token)``, what a sync operator does per worker).

The sandbox runs in another process (``importbridge sandbox``) so its threads neither share this
process's GIL nor count in its memory; each run submits its own 1,000 Micro jobs of 20-400 rows
(varied) at 10 rows per second, so each takes 2-40 s of real time, and waits on the real clock.
Reported per run: wall time, requests per job (the sandbox's count of GETs), peak memory traced
while waiting (tracemalloc, GC on), and for the event loop its callback latency (a 10 ms ticker
on the same loop: how late it woke, worst and 99th percentile; the worst is the burst of 1,000
triggers starting at once, each reading its Airflow connection). Needs the ``airflow`` extra.
Run: ``python benchmarks/airflow_trigger.py [--jobs 1000] [--threads 16]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import requests

import importbridge
from importbridge.integrations.airflow.triggers import ImportTrigger
from importbridge.polling import make_token

TICK = 0.01


@contextmanager
def remote_sandbox() -> Iterator[tuple[dict[str, str], str]]:
    """``importbridge sandbox`` in a child process: the Micro settings and the sandbox's root URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "importbridge", "sandbox", "--port", "0", "--speed", "10", "--seed", "5"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        env: dict[str, str] = {}
        while len(env) < 7:
            name, value = process.stdout.readline().removeprefix("export ").strip().split("=", 1)
            env[name] = value
        settings = {"api_key": env["MICRO_API_KEY"], "base_url": env["MICRO_BASE_URL"],
                    "team_id": env["MICRO_TEAM_ID"]}
        root = settings["base_url"].removesuffix("/micro")
        requests.post(f"{root}/_sandbox/configure", json={"rate_limit": None, "sync_threshold": 0},
                      timeout=10).raise_for_status()
        yield settings, root
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def gets(root: str) -> int:
    by_route = requests.get(f"{root}/_sandbox/state", timeout=10).json()["micro"]["requests_by_route"]
    return sum(count for route, count in by_route.items() if route.startswith("GET"))


def submit(settings: dict[str, str], jobs: int, run: str) -> list[str]:
    deadline = time.time() + 600
    with importbridge.connect("micro", **settings) as client:
        tokens = []
        for n in range(jobs):
            size = 20 + n * 37 % 381  # 20-400 rows, varied
            rows = [{"name": f"{run}{n}-{k}", "domain": f"{run}{n}-{k}.example"} for k in range(size)]
            job = client.submit(rows, request_id=f"{run}-{n}")
            tokens.append(make_token(client, job, deadline=deadline))
        return tokens


def measured(root: str, jobs: int, wait: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    before = gets(root)
    tracemalloc.start()
    started = time.perf_counter()
    result = wait()
    result["wall_s"] = time.perf_counter() - started
    result["peak_mib"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    result["requests_per_job"] = (gets(root) - before) / jobs
    return result


def triggers(tokens: list[str]) -> dict[str, Any]:
    async def run() -> dict[str, Any]:
        late: list[float] = []
        done = asyncio.Event()

        async def ticker() -> None:
            while not done.is_set():
                planned = time.perf_counter() + TICK
                await asyncio.sleep(TICK)
                late.append(time.perf_counter() - planned)

        async def one(token: str) -> str:
            async for event in ImportTrigger(conn_id="bench", token=token, deadline=time.time() + 600).run():
                return str(event.payload["status"])
            return "none"

        tick = asyncio.ensure_future(ticker())
        statuses = await asyncio.gather(*(one(token) for token in tokens))
        done.set()
        await tick
        late.sort()
        return {"done": statuses.count("done"), "worst_latency_ms": late[-1] * 1000,
                "p99_latency_ms": late[int(len(late) * 0.99)] * 1000}

    return asyncio.run(run())


def threads(settings: dict[str, str], tokens: list[str], count: int) -> dict[str, Any]:
    with importbridge.connect("micro", **settings) as client, ThreadPoolExecutor(count) as pool:
        states = list(pool.map(client.wait, tokens))
    return {"done": sum(job.state.is_terminal for job in states)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args()
    with remote_sandbox() as (settings, root):
        os.environ["AIRFLOW_CONN_BENCH"] = json.dumps({
            "conn_type": "importbridge_micro", "host": settings["base_url"], "password": settings["api_key"],
            "extra": json.dumps({"team_id": settings["team_id"]}),
        })
        loop = measured(root, args.jobs, lambda: triggers(submit(settings, args.jobs, "t")))
        sync = measured(
            root, args.jobs, lambda: threads(settings, submit(settings, args.jobs, "s"), args.threads)
        )
    for name, result in (("triggers, one event loop", loop), (f"sync client, {args.threads} threads", sync)):
        latency = result.get("worst_latency_ms")
        print(f"{name:28} done {result['done']}/{args.jobs}  wall {result['wall_s']:6.1f} s  "
              f"peak {result['peak_mib']:6.1f} MiB  requests/job {result['requests_per_job']:.2f}"
              + ("" if latency is None else f"  loop latency worst {latency:.0f} ms, "
                                            f"p99 {result['p99_latency_ms']:.0f} ms"))
    print(
        f"summary: {args.jobs} jobs; triggers/threads: wall {loop['wall_s'] / sync['wall_s']:.2f}x, "
        f"peak memory {loop['peak_mib'] / sync['peak_mib']:.2f}x, requests/job "
        f"{loop['requests_per_job']:.2f} vs {sync['requests_per_job']:.2f}; "
        f"loop latency worst {loop['worst_latency_ms']:.0f} ms, p99 {loop['p99_latency_ms']:.0f} ms"
    )


if __name__ == "__main__":
    main()
