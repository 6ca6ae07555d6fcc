"""Fixtures for the command's tests: one in-process sandbox, and a way to run the command.

The command always runs as a real subprocess (``python -m importbridge``), pointed at the
sandbox through the providers' own environment variables, exactly as a shell user would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from importbridge import sandbox

#: every key of the contract's job document (docs/concepts.md)
CONTRACT_KEYS = frozenset({
    "provider", "id", "state", "provider_state", "total", "processed", "succeeded", "failed",
    "created", "updated", "duplicates", "skipped", "progress", "created_at", "started_at",
    "finished_at", "updated_at", "expires_at", "error", "rows", "rows_complete", "tables", "mode",
    "file_name",
})
ROW_KEYS = frozenset({"row", "outcome", "record_id", "error", "data", "table"})
#: provider variables a test environment must not inherit from the developer's shell
PROVIDER_VARIABLES = ("MICRO_", "QOBRA_", "TALKVALUE_", "IMPORTBRIDGE_")


def clean_env(extra: Mapping[str, str] = {}) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(PROVIDER_VARIABLES)}
    env.pop("NO_COLOR", None)
    env["COLUMNS"] = "200"
    env.update(extra)
    return env


class Result:
    """One finished run of the command."""

    def __init__(self, done: subprocess.CompletedProcess[str]) -> None:
        self.code = done.returncode
        self.out = done.stdout
        self.err = done.stderr

    def json(self) -> Any:
        return json.loads(self.out)

    def json_lines(self) -> list[Any]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]

    def assert_one_line_error(self, code: int, *words: str) -> None:
        """Failed with ``code``, one line on stderr naming ``words``, and no traceback."""
        assert self.code == code, (self.code, self.out, self.err)
        assert "Traceback" not in self.err
        lines = self.err.strip().splitlines()
        assert len(lines) == 1, self.err
        for word in words:
            assert word in lines[0], (word, lines[0])


def run_cli(*args: str, env: Mapping[str, str] | None = None, stdin: str | None = None,
            timeout: float = 60) -> Result:
    done = subprocess.run(
        [sys.executable, "-m", "importbridge", *args],
        input=stdin, capture_output=True, text=True, timeout=timeout,
        env=dict(env) if env is not None else clean_env(),
    )
    return Result(done)


@pytest.fixture(scope="session")
def sb() -> Iterator[sandbox.Sandbox]:
    """One sandbox for the module's commands; fast enough that waits end in about a second."""
    with sandbox.run(seed=11, speed=400) as running:
        yield running


@pytest.fixture(scope="session")
def sb_env(sb: sandbox.Sandbox) -> dict[str, str]:
    return clean_env(sb.env)


@pytest.fixture
def cli(sb_env: dict[str, str]) -> Any:
    """``cli(*args)`` runs the command against the sandbox."""
    def run(*args: str, stdin: str | None = None, env: Mapping[str, str] = {}) -> Result:
        return run_cli(*args, env={**sb_env, **env}, stdin=stdin)

    return run


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    import csv

    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path
