"""Does a wait end on time against servers that never answer properly, and what does a gzip
bomb cost? Each figure against a baseline measured in the same run.

1. ``client.wait(job_id, timeout=T)`` (a Micro client) against loopback servers that accept and
   never answer (``blackhole``), answer then send a body byte every 2 s forever (``drip``), or
   send the status line and headers a byte every 2 s (``slow-headers``), from the first request
   on, or only from the wait's last poll (made at the deadline: the worst case); the overshoot
   (elapsed - T) per kind, against the overshoot of the same wait on a well-behaved server
   whose job stays running. Target: every overshoot under 1 s.
2. ``client.get()`` against a server answering a 200 whose gzip body decodes to 500 MB: peak
   resident memory of a fresh process (ru_maxrss), against the same process fetching a small
   answer. Target: growth bounded by ``max_response_bytes`` (64 MiB by default), and the error
   is ``ResponseTooLarge`` after one request.

    python benchmarks/deadlines.py [--timeouts 2 5] [--interval 2] [--bomb-mb 500]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import importbridge

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "client"))
from hostile import HostileServer

RUNNING = {"id": "job-1", "status": "processing", "total": 10, "processed": 1}


class _Running(BaseHTTPRequestHandler):
    """A well-behaved Micro: the job is always still processing."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        body = json.dumps(RUNNING).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def overshoot(url: str, timeout: float) -> tuple[float, str]:
    """Seconds past ``timeout`` that ``wait`` took, and how it ended."""
    with importbridge.connect("micro", api_key="k", team_id="t", base_url=url) as client:
        began = time.monotonic()
        try:
            client.wait("job-1", timeout=timeout)
            ended = "returned"
        except importbridge.ImportBridgeError as error:
            ended = type(error).__name__
        return time.monotonic() - began - timeout, ended


def deadlines(timeouts: list[float], interval: float) -> None:
    print(f"wait(timeout=T) overshoot, servers stalling every {interval:g} s (target < 1 s):")
    healthy = ThreadingHTTPServer(("127.0.0.1", 0), _Running)
    healthy.daemon_threads = True
    threading.Thread(target=healthy.serve_forever, args=(0.05,), daemon=True).start()
    try:
        for timeout in timeouts:
            base, _ = overshoot(f"http://127.0.0.1:{healthy.server_address[1]}", timeout)
            print(f"  T={timeout:g} s  baseline (job stays running): {base:+.3f} s")
            for kind in ("blackhole", "drip", "slow-headers"):
                for when, healthy_for in (("from the start", 0.0), ("at the last poll", timeout - 0.05)):
                    with HostileServer(
                        kind,
                        interval=interval,
                        healthy_for=healthy_for,
                        healthy_body=json.dumps(RUNNING).encode(),
                    ) as server:
                        late, ended = overshoot(server.url, timeout)
                    print(
                        f"  T={timeout:g} s  {kind:<13} {when:<17} {late:+.3f} s  "
                        f"({ended}, {late - base:+.3f} s vs baseline)"
                    )
    finally:
        healthy.shutdown()
        healthy.server_close()


_MEASURE = """
import resource, sys, importbridge
url, kind = sys.argv[1], sys.argv[2]
with importbridge.connect("micro", api_key="k", team_id="t", base_url=url) as client:
    try:
        client.get("job-1")
        outcome = "ok"
    except importbridge.ImportBridgeError as error:
        outcome = type(error).__name__
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, outcome)
"""


def peak(url: str, kind: str) -> tuple[float, str]:
    """Peak resident MB of a fresh process fetching one job from ``url``, and its outcome."""
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, url, kind], capture_output=True, text=True, check=True, timeout=300
    )
    kilobytes, outcome = done.stdout.split()
    return int(kilobytes) / 1024, outcome


def bomb(megabytes: int) -> None:
    print(f"\nclient.get() against a gzip bomb ({megabytes} MB decoded), peak RSS of a fresh process:")
    healthy = ThreadingHTTPServer(("127.0.0.1", 0), _Running)
    healthy.daemon_threads = True
    threading.Thread(target=healthy.serve_forever, args=(0.05,), daemon=True).start()
    try:
        base, base_outcome = peak(f"http://127.0.0.1:{healthy.server_address[1]}", "small")
    finally:
        healthy.shutdown()
        healthy.server_close()
    with HostileServer("bomb", bomb_bytes=megabytes << 20) as server:
        started = time.monotonic()
        high, outcome = peak(server.url, "bomb")
        took = time.monotonic() - started
        connections = server.connections
    print(f"  small answer (baseline): {base:7.1f} MB  ({base_outcome})")
    print(
        f"  gzip bomb:               {high:7.1f} MB  ({outcome} after {connections} request(s), "
        f"{took:.1f} s) growth {high - base:+.1f} MB, {high / base:.2f}x the baseline"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--timeouts", type=float, nargs="+", default=[2.0, 5.0])
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--bomb-mb", type=int, default=500)
    args = parser.parse_args()
    deadlines(args.timeouts, args.interval)
    bomb(args.bomb_mb)


if __name__ == "__main__":
    main()
