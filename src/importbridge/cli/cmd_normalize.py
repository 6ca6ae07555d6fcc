"""``importbridge normalize PROVIDER [FILE|-]``: a provider payload in, the normalized job out, offline."""

from __future__ import annotations

import argparse

from importbridge.errors import PayloadError

from .exits import CommandError
from .inputs import STDIN, read_text
from .output import finish

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("provider", metavar="PROVIDER", help="provider name (see `importbridge providers`)")
    parser.add_argument("file", metavar="FILE", nargs="?", default=STDIN,
                        help="a JSON status payload as the provider sent it; - or nothing for stdin")


def run(args: argparse.Namespace) -> int:
    from importbridge.plugins import get_provider, normalize

    provider = get_provider(args.provider)  # an unknown name fails before stdin is read
    text = read_text(args.file)
    try:
        job = normalize(provider, text)
    except PayloadError as exc:  # the user's input, not the provider's answer: a usage error
        raise CommandError(str(exc)) from None
    return finish(job, as_json=args.json)
