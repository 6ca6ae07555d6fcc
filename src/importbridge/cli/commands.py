"""The subcommand table: name, one-line help, and the module that implements it.

A module provides ``add_arguments(parser)`` and a runner returning an exit code; it is imported
only when its subcommand runs (or shows its ``--help``), so listing commands costs nothing.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["COMMANDS", "Command", "find"]


class Command(NamedTuple):
    """One subcommand of ``importbridge``."""

    name: str
    help: str
    module: str
    run: str = "run"
    arguments: str = "add_arguments"
    common: bool = True  # takes the shared options (--json)
    provider_flags: bool = False  # unknown --flags become provider options (submit)


COMMANDS: tuple[Command, ...] = (
    Command("providers", "list installed providers, their settings, and plugins that failed to load",
            "importbridge.cli.cmd_providers"),
    Command("normalize", "turn a provider's status payload (file or stdin) into the normalized job, offline",
            "importbridge.cli.cmd_normalize"),
    Command("get", "fetch one job's current snapshot", "importbridge.cli.cmd_jobs", run="run_get",
            arguments="add_get_arguments"),
    Command("wait", "wait for a job (by id or resume token) to finish, with live progress",
            "importbridge.cli.cmd_jobs", run="run_wait",
            arguments="add_wait_arguments"),
    Command("submit", "import the records of a CSV or JSON lines file, optionally waiting for the outcome",
            "importbridge.cli.cmd_submit", provider_flags=True),
    Command("failed-rows", "stream every rejected row of a job as CSV or JSON lines",
            "importbridge.cli.cmd_jobs", run="run_failed_rows",
            arguments="add_failed_rows_arguments"),
    Command("resume", "continue waiting for a job from a resume token", "importbridge.cli.cmd_jobs",
            run="run_resume",
            arguments="add_resume_arguments"),
    Command("sandbox", "serve the loopback simulators of every provider and print their settings",
            "importbridge.sandbox.command", run="run_command"),
    Command("demo", "import sample data into every provider's sandbox at once and show the outcome",
            "importbridge.cli.cmd_demo"),
)

_BY_NAME = {command.name: command for command in COMMANDS}


def find(name: str) -> Command | None:
    """The subcommand called ``name``, if there is one."""
    return _BY_NAME.get(name)
