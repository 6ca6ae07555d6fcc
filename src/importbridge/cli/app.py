"""Parse the command line, run one subcommand, and turn its outcome into an exit status.

Every error ends as one line on stderr (``importbridge: error: ...``) and a documented exit
code; a traceback only with ``IMPORTBRIDGE_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from importbridge.errors import PollTimeout

from .commands import COMMANDS, Command, find
from .exits import ExitCode, exit_code_for_error
from .interrupts import report_interrupt, signals_interrupt

__all__ = ["Parser", "build_parser", "main"]

PROG = "importbridge"
ENV_DEBUG = "IMPORTBRIDGE_DEBUG"

EPILOG = """\
exit codes:
  0  complete (or the command printed no finished job)
  1  failed: nothing landed
  2  usage error: bad arguments, unknown provider, unreadable file or payload
  3  partial: some rows landed, some were rejected
  4  timed out: the resume token is printed on stderr
  5  provider, network or configuration error
  130  interrupted by Ctrl-C (SIGINT): a wait cut short prints its resume token on stderr
  143  terminated by SIGTERM: likewise

Settings come from each provider's environment variables (see `importbridge providers`).
"""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line and exit status 2."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands: dict[str, argparse.ArgumentParser] = {}  # subcommand parsers, by name

    def error(self, message: str) -> NoReturn:
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {one_line(message)} (see '{self.prog} --help')\n")


def _common_options() -> Parser:
    common = Parser(add_help=False)
    common.add_argument(
        "--json", action="store_true", help="print JSON (one document per job; JSON lines for streams)"
    )
    return common


def _load(command: Command, attribute: str) -> Callable[..., Any]:
    module = importlib.import_module(command.module)
    function: Callable[..., Any] = getattr(module, attribute)
    return function


@functools.cache
def build_parser(selected: str | None = None) -> Parser:
    """The full parser; only the ``selected`` subcommand gets (and imports) its arguments.

    Built once per subcommand: argparse looks its messages up in gettext catalogues on disk for
    every parser, which made building cost more than most commands' work for a caller that
    runs ``main`` many times in one process (a test, a fuzzer, an embedding program).
    """
    parser = Parser(
        prog=PROG,
        description="Submit bulk imports to SaaS providers, watch them, read one normalized outcome.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from importbridge import __version__

    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=Parser)
    common = [_common_options()]
    for command in COMMANDS:
        sub = subparsers.add_parser(
            command.name,
            help=command.help,
            description=command.help[0].upper() + command.help[1:] + ".",
            parents=common if command.common else [],
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        if command.name == selected:
            _load(command, command.arguments)(sub)
            sub.set_defaults(_run=_load(command, command.run))
        parser.commands[command.name] = sub
    return parser


def _selected(argv: Sequence[str]) -> Command | None:
    """The subcommand named on the line: the first word that is not an option."""
    word = next((token for token in argv if not token.startswith("-")), None)
    return find(word) if word is not None else None


def _split_provider_flags(argv: list[str], command: Command, parser: Parser) -> tuple[list[str], list[str]]:
    """Take ``--name value`` pairs the subcommand does not know out of ``argv`` (for provider options)."""
    if not command.provider_flags:
        return argv, []
    known = set(parser.commands[command.name]._option_string_actions)
    start = argv.index(command.name) + 1
    kept, flags = argv[:start], []
    tokens = iter(argv[start:])
    for token in tokens:
        name = token.split("=", 1)[0]
        if token == "--":
            kept.append(token)
            kept.extend(tokens)
            break
        if not token.startswith("--") or name in known:
            kept.append(token)
            continue
        flags.append(token)
        if "=" not in token:
            value = next(tokens, None)
            if value is None:
                parser.error(f"provider option {token} needs a value (e.g. {token} true)")
            flags.append(value)
    return kept, flags


def _never_fail_to_print() -> None:
    """Text a stream's encoding cannot carry (a lone surrogate, accents under ``LANG=C`` or
    ``PYTHONIOENCODING=ascii``) is written as backslash escapes instead of crashing the output."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="backslashreplace")


#: control characters that are not whitespace (a terminal's escape sequences start with one)
_ESCAPED = {code: f"\\x{code:02x}" for code in (*range(0x20), 0x7F, *range(0x80, 0xA0))}


def one_line(text: str) -> str:
    """``text`` as one line: whitespace runs (line breaks of every kind) become one space, and
    other control characters are written escaped, so no message can draw on the terminal."""
    return " ".join(text.split()).translate(_ESCAPED)


def _one_line_warnings(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    print(f"{PROG}: warning: {one_line(str(message))}", file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``importbridge`` command; returns the exit status."""
    _never_fail_to_print()
    tokens = list(sys.argv[1:] if argv is None else argv)
    command = _selected(tokens)
    parser = build_parser(command.name if command is not None else None)
    flags: list[str] = []
    if command is not None:
        tokens, flags = _split_provider_flags(tokens, command, parser)
    args = parser.parse_args(tokens)
    args.provider_flags = flags
    warnings.showwarning = _one_line_warnings
    debug = os.environ.get(ENV_DEBUG, "").strip() not in {"", "0"}
    try:
        with signals_interrupt():
            return int(args._run(args))
    except PollTimeout as error:
        from .waiting import report_timeout

        return report_timeout(error, as_json=bool(getattr(args, "json", False)))
    except KeyboardInterrupt as stop:  # Ctrl-C, or SIGTERM (see interrupts)
        return report_interrupt(stop)
    except BrokenPipeError:
        # the reader went away (e.g. `| head`): say nothing more, and let exit not flush again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as error:
        if debug:
            raise
        code = exit_code_for_error(error)
        print(f"{PROG}: error: {_one_line(error)}", file=sys.stderr, flush=True)
        return int(code)


def _one_line(error: BaseException) -> str:
    from importbridge.errors import ImportBridgeError

    from .exits import CommandError

    text = one_line(str(error)) or type(error).__name__
    if isinstance(error, ImportBridgeError | CommandError):
        return text
    return f"internal error: {type(error).__name__}: {text} (set {ENV_DEBUG}=1 for a traceback)"
