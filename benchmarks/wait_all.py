"""``wait_all`` over 1,000 sandbox jobs of three providers, against a sequential ``client.wait`` loop.

Both runs watch the same mix (a third each of Micro, Qobra and TalkValue jobs of 101-400 rows at
5 rows per virtual second, so 20-80 s each), submitted afresh for each run, on a frozen sandbox
clock: sleeps cost no real time, requests are real HTTP on loopback. Reported per run:

- *time to all known*: virtual seconds from the start of the wait until the last job is known,
  which is the wall time a real run (real clock, real sleeps) would take;
- *bench wall*: real seconds this benchmark spent (HTTP and CPU only, since sleeps are virtual);
- requests per job, 429s met (Micro allows 10 requests/s per key), and peak memory traced while
  waiting (tracemalloc; the sandbox serves from the same process, so its allocations count too).
Run: ``python benchmarks/wait_all.py [--jobs 1000] [--concurrency 16]``.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import importbridge
from importbridge import ImportClient, ImportJob, PollPolicy, sandbox

PROVIDERS = ("micro", "qobra", "talkvalue")
OPTIONS: dict[str, dict[str, Any]] = {"micro": {}, "qobra": {"table": "deals"}, "talkvalue": {"source_id": 1}}


def _row(provider: str, n: int) -> dict[str, Any]:
    if provider == "micro":
        return {"name": f"Co {n}", "domain": f"co{n}.example.com"}
    if provider == "qobra":
        return {"id": str(n), "amount": n * 1.5}
    return {"email": f"p{n}@example.com"}


def submit_all(sb: sandbox.Sandbox, clients: dict[str, ImportClient], count: int) -> list[ImportJob]:
    jobs = []
    for index, provider in zip(range(count), itertools.cycle(PROVIDERS)):
        size = 101 + (index * 37) % 300
        jobs.append(clients[provider].submit([_row(provider, n) for n in range(size)], **OPTIONS[provider]))
        rate = clients[provider].provider.rate_limit
        if rate:  # submit politely too: this run measures waiting
            sb.clock.advance(1.0 / rate)
    return jobs


def measure(
    sb: sandbox.Sandbox, label: str, run: Callable[[], list[ImportJob]], count: int
) -> dict[str, Any]:
    before = sb.state()
    virtual_start = sb.clock.now()
    gc.collect()
    tracemalloc.start()
    wall_start = time.perf_counter()
    finished = run()
    wall = time.perf_counter() - wall_start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    after = sb.state()
    requests = sum(after[p]["requests_received"] - before[p]["requests_received"] for p in PROVIDERS)
    limited = after["micro"]["rate_limited"] - before["micro"]["rate_limited"]
    if len(finished) != count or not all(job.done for job in finished):
        raise SystemExit(f"{label}: {len(finished)} of {count} jobs came back finished")
    return {
        "label": label,
        "wall": wall,
        "virtual": sb.clock.now() - virtual_start,
        "per_job": requests / count,
        "limited": limited,
        "peak_mb": peak / 2**20,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    with sandbox.run(frozen=True, seed=11, speed=5.0, sync_threshold=100) as sb:
        clients = {name: importbridge.connect(name, **sb.settings(name)) for name in PROVIDERS}
        policy = PollPolicy(clock=sb.clock.now, sleep=sb.clock.sleep)

        jobs = submit_all(sb, clients, args.jobs)
        sb.clock.advance(1.0)
        together = measure(
            sb,
            f"wait_all (concurrency {args.concurrency})",
            lambda: list(
                importbridge.wait_all(
                    jobs, clients=clients.values(), concurrency=args.concurrency, policy=policy
                )
            ),
            args.jobs,
        )
        jobs = submit_all(sb, clients, args.jobs)
        sb.clock.advance(1.0)
        one_by_one = measure(
            sb,
            "sequential client.wait",
            lambda: [clients[job.provider].wait(job, policy=policy) for job in jobs],
            args.jobs,
        )
        for client in clients.values():
            client.close()

    print(f"\n{args.jobs} sandbox jobs (Micro, Qobra, TalkValue; 20-80 virtual s each), frozen clock")
    print(f"{'run':<30}{'all known s':>12}{'bench wall s':>13}{'req/job':>9}{'429s':>6}{'peak MB':>9}")
    for result in (together, one_by_one):
        print(
            f"{result['label']:<30}{result['virtual']:>12.1f}{result['wall']:>13.2f}{result['per_job']:>9.2f}"
            f"{result['limited']:>6}{result['peak_mb']:>9.1f}"
        )
    sooner = one_by_one["virtual"] / together["virtual"]
    print(
        f"SUMMARY wait_all knows all {args.jobs} jobs after {together['virtual']:.0f} s vs "
        f"{one_by_one['virtual']:.0f} s sequentially ({sooner:.1f}x sooner), "
        f"{together['per_job']:.2f} vs {one_by_one['per_job']:.2f} requests/job, {together['limited']} 429s, "
        f"peak {together['peak_mb']:.1f} MB (target < 100 MB); bench wall {together['wall']:.1f} s vs "
        f"{one_by_one['wall']:.1f} s"
    )


if __name__ == "__main__":
    main()
