"""``importbridge submit PROVIDER FILE [options] [--wait]``: import a CSV or JSON lines file.

Provider options pass through untouched (see ``options``): ``--option key=value`` or
``--key value`` for any key the provider documents (docs/cli.md lists the built-ins').
"""

from __future__ import annotations

import argparse
import sys

from .inputs import read_records
from .options import parse_options
from .output import finish
from .waiting import wait_with_progress

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("provider", metavar="PROVIDER", help="provider name (see `importbridge providers`)")
    parser.add_argument("file", metavar="FILE",
                        help="records: CSV with a header row, or JSON lines; - for stdin")
    parser.add_argument("-o", "--option", action="append", default=[], metavar="KEY=VALUE",
                        help="a provider option (repeatable); VALUE is JSON when it parses, else text")
    parser.add_argument("--wait", action="store_true", help="wait for the outcome, showing progress")
    parser.add_argument("--timeout", type=float, metavar="SECONDS", default=None,
                        help="with --wait: give up after this long (exit 4, resume token on stderr)")
    parser.epilog = (
        "Any other --name VALUE is a provider option too: --object-type contact is\n"
        "--option object_type=contact. Every provider option takes a value (--replace-all true).\n\n"
        + (parser.epilog or "")
    )


def run(args: argparse.Namespace) -> int:
    import importbridge

    options = parse_options(args.option, args.provider_flags)
    provider = importbridge.get_provider(args.provider)  # an unknown name fails before the file is read
    records = read_records(args.file)
    with importbridge.connect(provider) as client:
        job = client.submit(records, **options)
        if not job.done and args.wait:
            job = wait_with_progress(client, job, timeout=args.timeout)
        elif not job.done:
            print(f"importbridge: {job.provider} job {job.id} is {job.state.value}; "
                  f"follow it with: importbridge resume {client.token(job)}", file=sys.stderr, flush=True)
    return finish(job, as_json=args.json)
