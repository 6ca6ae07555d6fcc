"""Entry point of the talkvalue plugin (group ``importbridge``): registers the adapter and its simulator."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import importbridge

from .provider import TalkValueProvider


@importbridge.hookimpl
def importbridge_register_providers(register: Callable[[importbridge.Provider], None]) -> None:
    register(TalkValueProvider())


@importbridge.hookimpl
def importbridge_register_simulators(register: Callable[[str, Callable[..., Any]], None]) -> None:
    from .simulator import build_simulator  # only when a sandbox starts

    register(TalkValueProvider.name, build_simulator)
