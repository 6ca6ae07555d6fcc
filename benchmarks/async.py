"""What the asyncio client buys, against the threaded sync client, on one sandbox.

The sandbox runs in its own process (``importbridge sandbox``), so its server threads never
compete with the measured client for a GIL; every Micro import is an async job
(``sync_threshold=0``), rate limits off. Each measured part runs in a fresh child process, so
its peak memory (``ru_maxrss``: the whole process, interpreter included) and its threads are
its own; baselines are measured in the same run.

(a) 1,000 jobs waited at once: ``await client.wait(job)`` x 1,000 on one event loop vs the
    threaded sync ``importbridge.wait_all`` (100 worker threads): wall time, status requests
    per job, peak memory, threads;
(b) 10,000 jobs (1 to 20 rows: Micro's finished payload lists every row's result, and a
    10,000-job run of 300-row jobs holds 1.5 million row results, whatever the client) waited
    by one async process (``AsyncImportClient.wait_all``): peak memory (target under 150 MB)
    and requests per job;
(c) ``get()`` throughput of the async engine (strict decoding, the retry rule, normalize) vs
    a bare aiohttp loop doing GET + ``json()`` at the same concurrency (target >= 0.8x).

Jobs are of varied sizes (1 to 300 rows) so they finish at varied times. Throughput is the
median of 9 short alternating rounds per side, so the machine's other load weighs on both.
Run: ``python benchmarks/async.py [--jobs 1000] [--many 10000] [--gets 3000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import requests

import importbridge
import importbridge.aio
from importbridge import ImportJob, PollPolicy
from importbridge.flows import Flow, FlowContext, Request

CONCURRENCY = 100
#: alternating rounds of (c), each side's figure the median of its rounds
ROUNDS = 9
POLICY = {"initial": 0.5, "min_interval": 0.25, "max_blind_interval": 2.0}


def micro_flows() -> importbridge.Provider:
    """Micro with its submit and get as flows (what the built-in becomes once it moves to flows)."""
    from importbridge_micro.provider import MicroProvider

    class MicroFlows(MicroProvider):
        rate_limit = None  # the sandbox's limit is off: measure the clients, not the bucket

        def submit_flow(
            self, ctx: FlowContext, records: Sequence[Mapping[str, Any]], options: Mapping[str, Any]
        ) -> Flow[ImportJob]:
            response = yield Request(
                "POST",
                f"/v2/prism/{quote(ctx.settings['team_id'], safe='')}/organization/import",
                json={"objects": [{"default": dict(row)} for row in records]},
                headers={"Idempotency-Key": str(options["idempotency_key"])},
                idempotent=True,
            )
            return self.normalize(response.data)

        def get_flow(self, ctx: FlowContext, job_id: str, context: Mapping[str, str]) -> Flow[ImportJob]:
            team = quote(context.get("team_id") or ctx.settings["team_id"], safe="")
            response = yield Request("GET", f"/v2/prism/{team}/imports/{quote(job_id, safe='')}")
            return self.normalize(response.data)

    return MicroFlows()


@contextmanager
def remote_sandbox() -> Iterator[dict[str, str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "importbridge", "sandbox", "--port", "0", "--speed", "150", "--seed", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        env: dict[str, str] = {}
        while len(env) < 7:
            name, value = process.stdout.readline().removeprefix("export ").strip().split("=", 1)
            env[name] = value
        root = env["MICRO_BASE_URL"].removesuffix("/micro")
        requests.post(
            f"{root}/_sandbox/configure", json={"rate_limit": None, "sync_threshold": 0}, timeout=10
        )
        yield env
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def settings(env: Mapping[str, str]) -> dict[str, str]:
    return {
        "api_key": env["MICRO_API_KEY"],
        "base_url": env["MICRO_BASE_URL"],
        "team_id": env["MICRO_TEAM_ID"],
    }


def requests_so_far(env: Mapping[str, str]) -> int:
    root = env["MICRO_BASE_URL"].removesuffix("/micro")
    return int(requests.get(f"{root}/_sandbox/state", timeout=30).json()["micro"]["requests"])


async def submit_all(
    client: importbridge.aio.AsyncImportClient, count: int, tag: str, most: int = 300
) -> list[ImportJob]:
    """``count`` jobs of 1 to ``most`` rows (varied, so they finish at varied times)."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(n: int) -> ImportJob:
        rows = [{"name": f"C{n}-{r}", "domain": f"c{n}-{r}.example.com"} for r in range(1 + (n * 37) % most)]
        async with gate:
            return await client.submit(rows, idempotency_key=f"{tag}-{n}")

    return list(await asyncio.gather(*(one(n) for n in range(count))))


class Threads:
    """The most threads alive at once while a part runs (a sampler thread, not counted)."""

    def __init__(self) -> None:
        self.peak = threading.active_count()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, threading.active_count() - 1)

    def __enter__(self) -> Threads:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


# -- the parts, each in a child process -------------------------------------------------------


def part_async_waits(env: Mapping[str, str], jobs: int) -> dict[str, float]:
    async def run() -> tuple[float, float]:
        async with importbridge.aio.connect(micro_flows(), **settings(env)) as client:
            submitted = await submit_all(client, jobs, "a")
            before = requests_so_far(env)
            started = time.perf_counter()
            done = await asyncio.gather(*(client.wait(job, policy=PollPolicy(**POLICY)) for job in submitted))
            wall = time.perf_counter() - started
            assert all(job.done for job in done)
            return wall, (requests_so_far(env) - before) / jobs

    with Threads() as threads:
        wall, per_job = asyncio.run(run())
    return {"wall": wall, "per_job": per_job, "peak_mb": peak_mb(), "threads": threads.peak}


def part_sync_wait_all(env: Mapping[str, str], jobs: int) -> dict[str, float]:
    async def submit() -> list[ImportJob]:
        async with importbridge.aio.connect(micro_flows(), **settings(env)) as client:
            return await submit_all(client, jobs, "s")

    submitted = asyncio.run(submit())
    with importbridge.connect(micro_flows(), **settings(env)) as client, Threads() as threads:
        before = requests_so_far(env)
        started = time.perf_counter()
        done = list(
            importbridge.wait_all(
                submitted, clients=[client], concurrency=CONCURRENCY, policy=PollPolicy(**POLICY)
            )
        )
        wall = time.perf_counter() - started
        per_job = (requests_so_far(env) - before) / jobs
    assert len(done) == jobs
    return {"wall": wall, "per_job": per_job, "peak_mb": peak_mb(), "threads": threads.peak}


def part_many(env: Mapping[str, str], jobs: int) -> dict[str, float]:
    root = env["MICRO_BASE_URL"].removesuffix("/micro")
    # 1 row per second: jobs of 1 to 20 rows still run while the 10,000 are being submitted
    requests.post(f"{root}/_sandbox/configure", json={"speed": 1}, timeout=10).raise_for_status()

    async def run() -> tuple[float, float]:
        async with importbridge.aio.connect(micro_flows(), **settings(env)) as client:
            submitted = await submit_all(client, jobs, "m", most=20)
            before = requests_so_far(env)
            started = time.perf_counter()
            count = 0
            async for _ in client.wait_all(submitted, concurrency=CONCURRENCY, policy=PollPolicy(**POLICY)):
                count += 1
            assert count == jobs
            return time.perf_counter() - started, (requests_so_far(env) - before) / jobs

    with Threads() as threads:
        wall, per_job = asyncio.run(run())
    return {"wall": wall, "per_job": per_job, "peak_mb": peak_mb(), "threads": threads.peak}


def part_gets(env: Mapping[str, str], gets: int) -> dict[str, float]:
    import aiohttp

    async def run() -> dict[str, float]:
        figures: dict[str, list[float]] = {"engine": [], "bare": []}
        async with importbridge.aio.connect(micro_flows(), **settings(env)) as client:
            job = (await submit_all(client, 1, "g"))[0]
            url = f"{env['MICRO_BASE_URL']}/v2/prism/{env['MICRO_TEAM_ID']}/imports/{job.id}"
            connector = aiohttp.TCPConnector(limit=CONCURRENCY)
            async with aiohttp.ClientSession(
                connector=connector, headers={"x-api-key": env["MICRO_API_KEY"]}
            ) as session:

                async def bare() -> None:
                    async with session.get(url) as answer:
                        answer.raise_for_status()
                        await answer.json()

                async def engine() -> None:
                    await client.get(str(job.id))

                for _ in range(ROUNDS):  # short alternating rounds: the machine's load hits both sides
                    for name, call in (("engine", engine), ("bare", bare)):
                        figures[name].append(await rate(call, gets // ROUNDS))
        return {name: statistics.median(values) for name, values in figures.items()}

    return asyncio.run(run())


async def rate(call: Callable[[], Any], count: int) -> float:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one() -> None:
        async with gate:
            await call()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(count)))
    return count / (time.perf_counter() - started)


def _child(part: Callable[..., dict[str, float]], args: tuple[Any, ...], out: Any) -> None:
    out.send(part(*args))


def in_child(part: Callable[..., dict[str, float]], *args: Any) -> dict[str, float]:
    """``part(*args)`` in a fresh process: its own memory peak and threads."""
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(part, args, send))
    process.start()
    result: dict[str, float] = receive.recv()
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--many", type=int, default=10_000)
    parser.add_argument("--gets", type=int, default=9000)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    with remote_sandbox() as env:
        async_waits = in_child(part_async_waits, env, args.jobs)
        sync_waits = in_child(part_sync_wait_all, env, args.jobs)
        print(f"(a) {args.jobs} jobs waited at once")
        for name, figures in (
            ("async client, wait x N", async_waits),
            ("sync wait_all, 100 threads", sync_waits),
        ):
            print(
                f"    {name:28s} {figures['wall']:7.1f} s  {figures['per_job']:5.2f} requests/job  "
                f"peak {figures['peak_mb']:6.1f} MB  {figures['threads']:4.0f} threads"
            )
        print(
            f"    async / sync: wall {async_waits['wall'] / sync_waits['wall']:.2f}x, "
            f"memory {async_waits['peak_mb'] / sync_waits['peak_mb']:.2f}x"
        )
        many = in_child(part_many, env, args.many)
        print(
            f"(b) {args.many} jobs, one async process (wait_all): {many['wall']:.1f} s, "
            f"{many['per_job']:.2f} requests/job, peak {many['peak_mb']:.1f} MB (target < 150 MB), "
            f"{many['threads']:.0f} threads"
        )
        gets = in_child(part_gets, env, args.gets)
        ratio = gets["engine"] / gets["bare"]
        print(
            f"(c) get() throughput, {CONCURRENCY} in flight: async engine {gets['engine']:.0f}/s vs bare "
            f"aiohttp {gets['bare']:.0f}/s: {ratio:.2f}x (target >= 0.8x)"
        )
    memory = "ok" if many["peak_mb"] < 150 else "OVER"
    speed = "ok" if ratio >= 0.8 else "UNDER"
    print(
        f"SUMMARY async waits {args.jobs} jobs in {async_waits['wall']:.1f} s with "
        f"{async_waits['threads']:.0f} threads vs {sync_waits['wall']:.1f} s with "
        f"{sync_waits['threads']:.0f}; {args.many} jobs peak {many['peak_mb']:.0f} MB ({memory} < 150); "
        f"get() {ratio:.2f}x bare aiohttp ({speed} >= 0.8)"
    )


if __name__ == "__main__":
    main()
