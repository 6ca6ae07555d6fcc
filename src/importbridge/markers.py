"""``@importbridge.hookimpl``: the mark on a plugin's hook implementations, made without pluggy.

Every plugin module applies the mark when it is imported, and normalizing or connecting to a
built-in provider imports just that provider's plugin module and calls its hook directly
(``plugins.Registry.get``): with pluggy's own marker, that alone would load pluggy. This one
sets exactly what ``pluggy.HookimplMarker("importbridge")`` sets (the same attribute, the same
options; a test holds the two equal for every option), so the registry's pluggy manager reads
it as its own and the full discovery validates every plugin through pluggy as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, overload

__all__ = ["PROJECT", "HookimplMarker", "hookimpl"]

PROJECT = "importbridge"

F = TypeVar("F", bound=Callable[..., Any])


class HookimplMarker:
    """Marks hook implementations for ``project_name``'s plugin manager, as pluggy's marker does."""

    __slots__ = ("project_name",)

    def __init__(self, project_name: str) -> None:
        self.project_name = project_name

    @overload
    def __call__(
        self,
        function: F,
        hookwrapper: bool = ...,
        optionalhook: bool = ...,
        tryfirst: bool = ...,
        trylast: bool = ...,
        specname: str | None = ...,
        wrapper: bool = ...,
    ) -> F: ...

    @overload
    def __call__(
        self,
        function: None = ...,
        hookwrapper: bool = ...,
        optionalhook: bool = ...,
        tryfirst: bool = ...,
        trylast: bool = ...,
        specname: str | None = ...,
        wrapper: bool = ...,
    ) -> Callable[[F], F]: ...

    def __call__(
        self,
        function: F | None = None,
        hookwrapper: bool = False,
        optionalhook: bool = False,
        tryfirst: bool = False,
        trylast: bool = False,
        specname: str | None = None,
        wrapper: bool = False,
    ) -> F | Callable[[F], F]:
        """Mark ``function`` (or, called with options only, return the decorator that does)."""
        options = {
            "wrapper": wrapper,
            "hookwrapper": hookwrapper,
            "optionalhook": optionalhook,
            "tryfirst": tryfirst,
            "trylast": trylast,
            "specname": specname,
        }

        def mark(target: F) -> F:
            setattr(target, f"{self.project_name}_impl", dict(options))
            return target

        return mark if function is None else mark(function)


hookimpl = HookimplMarker(PROJECT)
