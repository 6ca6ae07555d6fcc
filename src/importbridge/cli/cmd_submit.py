"""``importbridge submit PROVIDER FILE [options] [--wait]``: import a CSV or JSON lines file.

Provider options pass through untouched (see ``options``): ``--option key=value`` or
``--key value`` for any key the provider documents (docs/cli.md lists the built-ins').
A file larger than the provider's batch size (or any file with ``--checkpoint``) goes in
batches through ``submit_many``: one job per batch, printed in order. ``--restart`` sets a
damaged (or finished) journal aside and starts over.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from .cmd_jobs import seconds
from .exits import CommandError, exit_code_for_state
from .inputs import DEFAULT_ENCODING, encoding, read_records
from .interrupts import explained
from .options import parse_options
from .output import emit_job, finish, worst
from .waiting import wait_all_with_progress, wait_with_progress

if TYPE_CHECKING:
    from importbridge.client import ImportClient
    from importbridge.model import ImportJob

__all__ = ["add_arguments", "run"]


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0  # not a whole number: refused below, as zero is
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("provider", metavar="PROVIDER", help="provider name (see `importbridge providers`)")
    parser.add_argument("file", metavar="FILE",
                        help="records: CSV with a header row, or JSON lines; - for stdin")
    parser.add_argument("-o", "--option", action="append", default=[], metavar="KEY=VALUE",
                        help="a provider option (repeatable); VALUE is JSON when it parses, else text")
    parser.add_argument("--encoding", type=encoding, default=DEFAULT_ENCODING, metavar="CODEC",
                        help="the file's text encoding (default utf-8; a byte-order mark is dropped)")
    parser.add_argument("--wait", action="store_true", help="wait for the outcome, showing progress")
    parser.add_argument("--timeout", type=seconds, metavar="SECONDS", default=None,
                        help="with --wait: give up after this long (exit 4, resume token on stderr)")
    parser.add_argument("--batch-size", type=_positive, default=None, metavar="ROWS",
                        help="rows per import (default: the provider's batch size); more rows, more jobs")
    parser.add_argument("--checkpoint", default=None, metavar="PATH",
                        help="journal batches here, so rerunning after a crash sends only what is missing")
    parser.add_argument("--restart", action="store_true",
                        help="with --checkpoint: set the journal aside (PATH.discarded) and start over")
    parser.epilog = (
        "Any other --name VALUE is a provider option too: --object-type contact is\n"
        "--option object_type=contact. Every provider option takes a value (--replace-all true).\n\n"
        + (parser.epilog or "")
    )


UNSURE = ("while submitting: the provider may have accepted the import; check it before sending the "
          "file again (with --checkpoint, running the same command again sends only what is missing)")


def _hint(client: ImportClient, job: ImportJob) -> None:
    print(f"importbridge: {job.provider} job {job.id} is {job.state.value}; "
          f"follow it with: importbridge resume {client.token(job)}", file=sys.stderr, flush=True)


def _one(client: ImportClient, records: list[dict[str, Any]], options: dict[str, Any],
         args: argparse.Namespace) -> int:
    with explained(UNSURE):
        job = client.submit(records, **options)
    if not job.done and args.wait:
        job = wait_with_progress(client, job, timeout=args.timeout)
    elif not job.done:
        _hint(client, job)
    return finish(job, as_json=args.json)


def _batches(client: ImportClient, records: list[dict[str, Any]], options: dict[str, Any],
             args: argparse.Namespace) -> int:
    with explained(UNSURE):
        jobs = client.submit_many(records, chunk_size=args.batch_size, checkpoint=args.checkpoint,
                                  restart=args.restart, **options)
    if args.wait:
        ended = wait_all_with_progress(client, [job for job in jobs if not job.done], timeout=args.timeout)
        jobs = [ended.get((job.provider, job.id), job) for job in jobs]
    for index, job in enumerate(jobs):
        if not job.done:
            _hint(client, job)
        if index and not args.json:
            print()
        emit_job(job, as_json=args.json)
    return worst(int(exit_code_for_state(job.state.value)) for job in jobs)


def run(args: argparse.Namespace) -> int:
    import importbridge

    if args.restart and args.checkpoint is None:
        raise CommandError("--restart starts a --checkpoint journal over; pass --checkpoint PATH too")
    options = parse_options(args.option, args.provider_flags)
    provider = importbridge.get_provider(args.provider)  # an unknown name fails before the file is read
    records = read_records(args.file, args.encoding)
    size = args.batch_size or provider.batch_size
    batched = args.checkpoint is not None or len(records) > size
    with importbridge.connect(provider) as client:
        return (_batches if batched else _one)(client, records, options, args)
