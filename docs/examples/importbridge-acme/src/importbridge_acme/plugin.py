"""The entry point (group ``importbridge``, name ``acme``): hands importbridge our provider."""

from __future__ import annotations

from collections.abc import Callable

import importbridge

from .provider import AcmeProvider


@importbridge.hookimpl
def importbridge_register_providers(register: Callable[[importbridge.Provider], None]) -> None:
    register(AcmeProvider())
