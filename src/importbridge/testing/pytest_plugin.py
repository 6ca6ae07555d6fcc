"""pytest plugin (entry point ``pytest11``): sandbox fixtures for importbridge users' tests.

- ``importbridge_sandbox``: a fresh sandbox per test (``importbridge.sandbox.Sandbox``).
- ``importbridge_sandbox_session``: one sandbox shared by a whole session (faster; state
  accumulates across tests).

Options for the per-test fixture come from a marker, e.g.
``@pytest.mark.importbridge_sandbox(frozen=True, speed=50, faults=0.1, seed=7)``; they are
``importbridge.sandbox.run()`` keywords. This module imports nothing heavy at pytest start:
the sandbox is imported inside the fixtures.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from importbridge.sandbox import Sandbox

MARKER = "importbridge_sandbox"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): importbridge.sandbox.run() keywords for the importbridge_sandbox fixture",
    )


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for marker in reversed(list(request.node.iter_markers(MARKER))):  # closest marker wins
        if marker.args:
            raise pytest.UsageError(f"@pytest.mark.{MARKER} takes keyword arguments only")
        options.update(marker.kwargs)
    return options


@pytest.fixture
def importbridge_sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """A running sandbox serving every installed provider simulator, stopped after the test."""
    from importbridge import sandbox

    with sandbox.run(**_options(request)) as sb:
        yield sb


@pytest.fixture(scope="session")
def importbridge_sandbox_session() -> Iterator[Sandbox]:
    """One sandbox for the whole test session (imports and records accumulate)."""
    from importbridge import sandbox

    with sandbox.run() as sb:
        yield sb
