"""``importbridge sandbox``: serve every installed simulator until SIGINT / SIGTERM.

On start it prints one flushed ``export VAR=value`` line per provider setting (the providers'
own variable names; with ``--json`` one document ``{"url", "env"}`` instead), so
``eval "$(importbridge sandbox --port 0 | head -n 7)"``-style scripts and humans can point
clients at it. The CLI wires ``add_arguments`` and ``run_command`` in.
"""

from __future__ import annotations

import argparse
import json
import shlex
import signal
import sys
import threading
from types import FrameType
from typing import Any, TextIO

__all__ = ["add_arguments", "run_command"]


def _rate(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"a fault rate is between 0 and 1, got {text}")
    return value


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def _curve(text: str) -> Any:
    """A curve's name, or points written ``t:p,t:p`` (fractions), e.g. ``0.3:0,1:1``."""
    from .curves import normalize_curve

    try:
        if ":" in text:
            points = [tuple(float(part) for part in pair.split(":")) for pair in text.split(",")]
            return normalize_curve(points)
        return normalize_curve(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the sandbox command's options to ``parser``."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one (default)")
    parser.add_argument("--faults", type=_rate, default=0.0, metavar="RATE",
                        help="probability (0..1) that a request gets a random fault")
    parser.add_argument("--seed", type=int, default=None, help="seed for faults and ids (reproducible runs)")
    parser.add_argument("--speed", type=_positive, default=None, metavar="ROWS_PER_S",
                        help="virtual rows per second each job processes (default 250)")
    parser.add_argument("--progress-curve", type=_curve, default="linear", metavar="CURVE",
                        help="how jobs progress over their run time: linear (default), accelerating, "
                             "decelerating, steps, idle-then-linear, fast-then-tail, or time:progress "
                             "fraction points such as 0.3:0,0.5:0.9")


def run_command(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    """Start the sandbox, print its settings as export lines, serve until a stop signal."""
    from importbridge import sandbox

    stream = out if out is not None else sys.stdout
    stop = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with sandbox.run(host=args.host, port=args.port, faults=args.faults, seed=args.seed,
                         speed=args.speed, progress_curve=args.progress_curve) as sb:
            if getattr(args, "json", False):  # one document: where it serves and the settings
                stream.write(json.dumps({"url": sb.url, "env": dict(sb.env)}) + "\n")
            else:
                for name, value in sb.env.items():
                    stream.write(f"export {name}={shlex.quote(value)}\n")
            stream.flush()
            print(f"# importbridge sandbox serving {sb.url} (state: {sb.url}/_sandbox/state); "
                  "Ctrl-C stops it", file=sys.stderr, flush=True)
            while not stop.wait(0.5):
                pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
