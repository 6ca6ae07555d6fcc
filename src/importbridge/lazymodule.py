"""``lazy_module``: a module a plugin names now and imports when it is first used.

Whoever imports a plugin module pays for everything it imports, and ``connect()`` needs a
provider's class, not its payload reader or flows. A provider that reads such a module through
``lazy_module`` keeps that cost off every process that only connects, with nothing to pay later:
once the module is loaded, the stand-in shares the module's own namespace (its ``__dict__`` is
the module's), so an attribute read costs what a module attribute read costs and sees whatever
the module binds later. Two threads reading first both get the one module (the import system's
lock). A name that does not import raises ``ModuleNotFoundError`` at that first read.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["lazy_module"]


class _OnFirstUse:
    """Stands in for a module until an attribute of it is first read."""

    def __init__(self, name: str, package: str | None) -> None:
        self.__dict__["_lazy_target"] = (name, package)

    def __getattr__(self, attribute: str) -> Any:  # only for names not in the namespace
        target = self.__dict__.get("_lazy_target")
        if target is None:  # loaded: the module's namespace has no such name
            raise AttributeError(f"module {self.__dict__.get('__name__')!r} has no attribute {attribute!r}")
        module = importlib.import_module(*target)
        self.__dict__ = module.__dict__  # from now on, reads go to the module's namespace
        return getattr(module, attribute)

    def __repr__(self) -> str:
        target = self.__dict__.get("_lazy_target")
        if target is None:
            return f"<module {self.__dict__.get('__name__')!r}, loaded on first use>"
        name, package = target
        return f"<module {name!r}{f' of {package!r}' if package else ''}, not loaded yet>"


def lazy_module(name: str, package: str | None = None) -> Any:
    """A stand-in for module ``name`` (relative to ``package``, as ``importlib.import_module``
    takes them) that imports it when one of its attributes is first read.

    For a plugin's own modules that its provider class does not need to be built::

        if TYPE_CHECKING:
            from . import normalize as adapter
        else:
            adapter = importbridge.lazy_module(".normalize", __package__)
    """
    return _OnFirstUse(name, package)
