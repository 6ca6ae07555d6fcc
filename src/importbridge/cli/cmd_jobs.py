"""``get``, ``wait``, ``resume`` and ``failed-rows``: following a job that already exists.

Each connects with the provider's settings from the environment (``importbridge providers``
lists the variables); ``resume`` needs only the token, which names its provider.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from typing import Any

from .exits import CommandError, exit_code_for_state
from .output import emit_job, finish, print_json, row_to_dict, worst
from .waiting import wait_many, wait_with_progress

__all__ = [
    "add_failed_rows_arguments",
    "add_get_arguments",
    "add_resume_arguments",
    "add_wait_arguments",
    "run_failed_rows",
    "run_get",
    "run_resume",
    "run_wait",
    "seconds",
    "sendable",
]

FORMATS = ("csv", "jsonl")
CSV_COLUMNS = ("row", "outcome", "code", "message", "record_id", "table", "data")


def _provider(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("provider", metavar="PROVIDER", help="provider name (see `importbridge providers`)")


def seconds(text: str) -> float:
    """``--timeout``'s type: a finite number of seconds, zero or more (else a usage error, 2)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a number of seconds >= 0, got {text!r}")
    return value


def sendable(value: str) -> str:
    """A job id's type: text that can be sent. Bytes the locale could not decode reach ``argv``
    as lone surrogates, which no request can carry (else a usage error, 2)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise argparse.ArgumentTypeError(
            f"{value!r} holds bytes that are not text (at character {exc.start + 1})"
        ) from None
    return value


def _timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=seconds, metavar="SECONDS", default=None,
                        help="give up after this long: exit 4 and print a resume token on stderr")


def add_get_arguments(parser: argparse.ArgumentParser) -> None:
    _provider(parser)
    parser.add_argument("job_id", metavar="JOB_ID", type=sendable, help="the provider's job id")


def add_wait_arguments(parser: argparse.ArgumentParser) -> None:
    _provider(parser)
    parser.add_argument("jobs", metavar="JOB_ID|TOKEN", nargs="+", type=sendable,
                        help="a job id or a resume token; several are waited for at once")
    _timeout(parser)


def add_resume_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("token", metavar="TOKEN", help="a resume token (printed by submit or a timeout)")
    _timeout(parser)


def add_failed_rows_arguments(parser: argparse.ArgumentParser) -> None:
    _provider(parser)
    parser.add_argument("job_id", metavar="JOB_ID", type=sendable, help="the provider's job id")
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="csv (the default) or jsonl (what --json also selects)")


def run_get(args: argparse.Namespace) -> int:
    import importbridge

    with importbridge.connect(args.provider) as client:
        return finish(client.get(args.job_id), as_json=args.json)


def run_wait(args: argparse.Namespace) -> int:
    import importbridge

    items = [item.strip() for item in args.jobs]
    if not all(items):
        raise CommandError("wait: an empty JOB_ID|TOKEN argument (an unset shell variable?)")
    with importbridge.connect(args.provider) as client:
        if len(items) == 1:
            return finish(wait_with_progress(client, items[0], timeout=args.timeout), as_json=args.json)
        jobs = wait_many(client, items, timeout=args.timeout)
    for index, job in enumerate(jobs):
        if index and not args.json:
            print()
        emit_job(job, as_json=args.json)
    return worst(int(exit_code_for_state(job.state.value)) for job in jobs)


def run_resume(args: argparse.Namespace) -> int:
    import importbridge

    from .interrupts import resumable
    from .progress import display

    token = args.token.strip()
    with resumable(lambda: [token]), display() as show:  # the token still resumes the same wait
        job = importbridge.resume(token, timeout=args.timeout, on_update=show)
    return finish(job, as_json=args.json)


def _csv_cells(row: dict[str, Any]) -> list[Any]:
    error = row["error"] or {}
    data = row["data"]
    text = data if isinstance(data, str) or data is None else json.dumps(data, ensure_ascii=False)
    return [row["row"], row["outcome"], error.get("code"), error.get("message"), row["record_id"],
            row["table"], text]


def run_failed_rows(args: argparse.Namespace) -> int:
    import importbridge

    as_jsonl = args.format == "jsonl" or (args.format is None and args.json)
    writer = None if as_jsonl else csv.writer(sys.stdout, lineterminator="\n")
    with importbridge.connect(args.provider) as client:
        results = client.failed_rows(args.job_id)  # an unknown job fails here, before any header
        if writer is not None:
            writer.writerow(CSV_COLUMNS)
        for result in results:
            row = row_to_dict(result)
            if writer is None:
                print_json(row)
            else:
                writer.writerow(_csv_cells(row))
    sys.stdout.flush()
    return 0
