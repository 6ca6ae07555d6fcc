"""Entry point of the micro plugin (group ``importbridge``): registers the adapter and its simulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import importbridge

from .provider import MicroProvider


@importbridge.hookimpl
def importbridge_register_providers(register: Callable[[importbridge.Provider], None]) -> None:
    register(MicroProvider())


@importbridge.hookimpl
def importbridge_register_simulators(register: Callable[[str, Callable[..., Any]], None]) -> None:
    from .simulator import build_simulator  # only when a sandbox starts

    register(MicroProvider.name, build_simulator)
