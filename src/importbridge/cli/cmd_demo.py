"""``importbridge demo``: the sandbox in-process, the sample data into every provider at once.

Shows each job's progress live, then the normalized outcome per provider and the first
rejected rows with their reasons. Exits 0 when every job finished (partial is the point).
"""

from __future__ import annotations

import argparse
import sys

from .exits import ExitCode
from .output import print_json, print_table, rejected_rows_table
from .progress import display

__all__ = ["add_arguments", "run"]

SHOWN_ROWS = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--speed", type=float, default=None, metavar="ROWS_PER_S",
                        help="rows per second the sandbox processes (default: the plan's)")
    parser.add_argument("--seed", type=int, default=7, help="sandbox seed (ids), for reproducible runs")


def run(args: argparse.Namespace) -> int:
    import importbridge
    from importbridge import demo, sandbox, to_dict

    speed, plan = demo.load_plan()
    installed = {info.name for info in importbridge.providers() if info.ok}
    wanted = list(dict.fromkeys(entry.provider for entry in plan if entry.provider in installed))
    with sandbox.run(speed=args.speed or speed, seed=args.seed, providers=wanted) as sb:
        if not args.json:
            print(f"importbridge demo: sandbox serving {sb.url}", file=sys.stderr)
            for entry in plan:
                if entry.provider in wanted:
                    print(f"  {entry.provider}: {entry.what}", file=sys.stderr)
            sys.stderr.flush()
        with display() as show:
            finished = list(demo.run(sb, on_update=show))
    order = {name: index for index, name in enumerate(wanted)}
    finished.sort(key=lambda job: order.get(job.provider, len(order)))
    if args.json:
        for job in finished:
            print_json(to_dict(job))
        return int(ExitCode.COMPLETE)
    print_table(
        ("provider", "job", "state", "provider says", "total", "succeeded", "failed"),
        [(job.provider, job.id, job.state.value, job.provider_state, job.total, job.succeeded, job.failed)
         for job in finished],
        title="outcome",
    )
    for job in finished:
        sample = rejected_rows_table(job, limit=SHOWN_ROWS)
        if sample is not None:
            print_table(sample.headers, sample.rows, title=f"{job.provider}: {sample.title}")
    print("The demo's sandbox has stopped. `importbridge sandbox` starts one that stays up, to try\n"
          "submit, wait and failed-rows yourself (docs/cli.md).")
    return int(ExitCode.COMPLETE)
