"""The entry point (group ``importbridge``, name ``acme``): hands importbridge our provider,
and, when a sandbox starts, our simulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import importbridge

from .provider import AcmeProvider


@importbridge.hookimpl
def importbridge_register_providers(register: Callable[[importbridge.Provider], None]) -> None:
    register(AcmeProvider())


@importbridge.hookimpl
def importbridge_register_simulators(register: Callable[[str, Any], None]) -> None:
    from .simulator import build_simulator  # imported only when a sandbox starts

    register("acme", build_simulator)
