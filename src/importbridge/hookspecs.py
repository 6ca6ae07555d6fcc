"""The hooks a plugin may implement. Names carry the ``importbridge_`` prefix.

A plugin is any module (or object) registered under the ``importbridge`` entry-point group
that implements some of these with ``@importbridge.hookimpl`` (``importbridge.markers``: the
mark pluggy's own ``HookimplMarker`` makes, made without importing pluggy). Each hook is handed
a ``register`` callback, so one plugin can contribute any number of things.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pluggy

from .markers import PROJECT, hookimpl

if TYPE_CHECKING:
    from .provider import Provider

__all__ = ["PROJECT", "hookimpl", "hookspec"]

hookspec = pluggy.HookspecMarker(PROJECT)


@hookspec
def importbridge_register_providers(register: Callable[[Provider], None]) -> None:
    """Register provider adapters by calling ``register(provider)`` once per provider.

    ``provider`` is an instance of a ``importbridge.Provider`` subclass with a unique ``name``.
    Two plugins registering the same name is an error that names both distributions.
    """


@hookspec
def importbridge_register_simulators(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """Register sandbox simulators by calling ``register(provider_name, factory)``.

    ``factory(context)`` receives an ``importbridge.sandbox.SimulatorContext`` (virtual clock,
    store, settings) and returns a ``importbridge.sandbox.Simulator`` that the sandbox mounts
    under ``/<provider_name>``. Only imported when a sandbox starts.
    """
