"""Sandbox benchmark: 1,000 job status polls from 50 threads, against a bare stdlib server.

Both servers run in their own process (no GIL shared with the 50 client threads):

- the sandbox, polled at ``GET /micro/v2/prism/{team}/imports/{job}`` for a running Micro job
  (authentication, routing, fault check and job snapshot on every request; rate limit off);
- a bare ``http.server.ThreadingHTTPServer`` (HTTP/1.1, buffered writes) answering a constant
  JSON body of the same size.

Each client thread holds one keep-alive ``requests.Session``. Printed: requests/s and p50 / p99
latency for both, and the sandbox/baseline ratios.

    python benchmarks/sandbox.py [--polls 1000] [--threads 50] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from typing import Any

import requests


def serve_sandbox(pipe: Connection) -> None:
    from importbridge import sandbox

    with sandbox.run(frozen=True, rate_limit=None) as sb:
        settings = sb.settings("micro")
        headers = {"x-api-key": settings["api_key"]}
        base = f"{settings['base_url']}/v2/prism/{settings['team_id']}"
        objects = [{"default": {"name": f"org {n}"}} for n in range(5000)]
        started = requests.post(f"{base}/organization/import", json={"objects": objects}, headers=headers)
        sb.clock.advance(5)  # running: about a quarter of the rows processed
        pipe.send((started.headers["Location"], headers))
        pipe.recv()  # serve until told to stop


class _Constant(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = 64 * 1024  # headers and body leave in one write, as the sandbox does
    body = b"{}"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_constant(pipe: Connection, body: bytes) -> None:
    _Constant.body = body
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Constant)
    server.daemon_threads = True
    server.request_queue_size = 1024
    threading.Thread(target=server.serve_forever, daemon=True).start()
    pipe.send((f"http://127.0.0.1:{server.server_address[1]}/status", {}))
    pipe.recv()
    server.shutdown()


def hammer(url: str, headers: dict[str, str], polls: int, threads: int) -> tuple[float, list[float]]:
    """Wall seconds for ``polls`` GETs spread over ``threads`` threads, and every latency."""
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads + 1)
    share = [polls // threads + (1 if n < polls % threads else 0) for n in range(threads)]

    def worker(count: int) -> None:
        mine = []
        with requests.Session() as session:
            session.get(url, headers=headers).raise_for_status()  # connect outside the clock
            barrier.wait()
            for _ in range(count):
                begin = time.perf_counter()
                response = session.get(url, headers=headers)
                response.json()
                mine.append(time.perf_counter() - begin)
                if response.status_code != 200:
                    raise RuntimeError(f"poll answered {response.status_code}: {response.text[:200]}")
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=worker, args=(count,)) for count in share]
    for worker_thread in workers:
        worker_thread.start()
    barrier.wait()
    begin = time.perf_counter()
    for worker_thread in workers:
        worker_thread.join()
    return time.perf_counter() - begin, latencies


def measure(target: Any, args: tuple[Any, ...], polls: int, threads: int, rounds: int) -> dict[str, float]:
    parent, child = multiprocessing.Pipe()
    process = multiprocessing.Process(target=target, args=(child, *args), daemon=True)
    process.start()
    url, headers = parent.recv()
    best: dict[str, float] = {}
    try:
        for _ in range(rounds):
            wall, latencies = hammer(url, headers, polls, threads)
            quantiles = statistics.quantiles(latencies, n=100)
            result = {"rps": len(latencies) / wall, "p50": quantiles[49] * 1000, "p99": quantiles[98] * 1000}
            if not best or result["rps"] > best["rps"]:
                best = result
    finally:
        parent.send("stop")
        process.join(timeout=10)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--polls", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3, help="best of N rounds for each server")
    args = parser.parse_args()

    parent, child = multiprocessing.Pipe()
    probe = multiprocessing.Process(target=serve_sandbox, args=(child,), daemon=True)
    probe.start()
    url, headers = parent.recv()
    body = requests.get(url, headers=headers).content  # the baseline answers as many bytes
    parent.send("stop")
    probe.join(timeout=10)
    print(f"payload: {len(body)} bytes, e.g. {json.loads(body)['status']!r} job; "
          f"{args.polls} polls from {args.threads} threads, best of {args.rounds}")

    sandbox_result = measure(serve_sandbox, (), args.polls, args.threads, args.rounds)
    baseline = measure(serve_constant, (body,), args.polls, args.threads, args.rounds)
    rows = (("sandbox (Micro job status)", sandbox_result), ("bare http.server constant", baseline))
    for name, result in rows:
        print(f"{name:28s} {result['rps']:8.0f} req/s   "
              f"p50 {result['p50']:6.2f} ms   p99 {result['p99']:6.2f} ms")
    ratios = {key: sandbox_result[key] / baseline[key] for key in ("rps", "p50", "p99")}
    print(f"ratio sandbox/baseline: throughput {ratios['rps']:.2f}x, "
          f"p50 {ratios['p50']:.2f}x, p99 {ratios['p99']:.2f}x")


if __name__ == "__main__":
    main()
