"""Exit codes, and which one each job state and each error means.

Shell scripts branch on these, so they are part of the public interface (docs/cli.md).
"""

from __future__ import annotations

import enum

from importbridge.errors import ImportBridgeError, InputError, PollTimeout, TokenError, UnknownProviderError

__all__ = ["CommandError", "ExitCode", "exit_code_for_error", "exit_code_for_state"]


class ExitCode(enum.IntEnum):
    """What the process exit status says."""

    COMPLETE = 0  # also: the command did its job and printed no finished job
    FAILED = 1
    USAGE = 2
    PARTIAL = 3
    TIMED_OUT = 4
    ERROR = 5  # provider, network or configuration error
    INTERRUPTED = 130  # Ctrl-C (SIGINT): 128 + 2, as shells count it
    TERMINATED = 143  # SIGTERM: 128 + 15


# A job that has not finished yet (``submit`` without ``--wait``, ``get`` of a running job) is
# not an error: the command did what it was asked, and the printed state says the rest.
_STATE_EXITS: dict[str, ExitCode] = {
    "complete": ExitCode.COMPLETE,
    "partial": ExitCode.PARTIAL,
    "failed": ExitCode.FAILED,
    "pending": ExitCode.COMPLETE,
    "running": ExitCode.COMPLETE,
}

# Most specific first: the first class the error is an instance of decides.
_ERROR_EXITS: tuple[tuple[type[BaseException], ExitCode], ...] = (
    (PollTimeout, ExitCode.TIMED_OUT),
    (UnknownProviderError, ExitCode.USAGE),
    (TokenError, ExitCode.USAGE),
    (InputError, ExitCode.USAGE),
    (ImportBridgeError, ExitCode.ERROR),
)


class CommandError(Exception):
    """A problem with what the user asked for (a file that cannot be read, a bad option).

    Raised inside the command only; ``main`` prints it as one line and exits with ``code``.
    """

    def __init__(self, message: str, code: ExitCode = ExitCode.USAGE) -> None:
        self.code = code
        super().__init__(message)


def exit_code_for_state(state: str) -> ExitCode:
    """The exit status of a command that printed a job in ``state``."""
    return _STATE_EXITS[state]


def exit_code_for_error(error: BaseException) -> ExitCode:
    """The exit status for an error that ended the command."""
    if isinstance(error, CommandError):
        return error.code
    for cls, code in _ERROR_EXITS:
        if isinstance(error, cls):
            return code
    return ExitCode.ERROR
