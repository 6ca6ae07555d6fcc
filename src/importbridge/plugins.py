"""Finding providers: lazy, guarded entry-point discovery and in-process registration.

Nothing is scanned at ``import importbridge``; the first lookup loads the ``importbridge``
entry-point group. A plugin that fails to load is reported (``providers()`` and a warning)
while the others keep working, unless ``IMPORTBRIDGE_STRICT_PLUGINS=1`` asks for an error.
``IMPORTBRIDGE_PLUGINS=a,b`` loads only the named entry points (empty: none).
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
import threading
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import attrs

from ._deferred import paused_gc
from .errors import (
    InvalidPluginError,
    PayloadError,
    PluginConflictError,
    PluginLoadError,
    UnknownProviderError,
)
from .jsontext import JSONTextError, loads
from .provider import NAME_PATTERN, Provider

if TYPE_CHECKING:
    import pluggy

    from .model import ImportJob

__all__ = ["ProviderInfo", "get_provider", "normalize", "providers", "register"]

ENTRY_POINT_GROUP = "importbridge"
ENV_PLUGINS = "IMPORTBRIDGE_PLUGINS"
ENV_STRICT = "IMPORTBRIDGE_STRICT_PLUGINS"
IN_PROCESS = "<in-process>"


@attrs.frozen(kw_only=True)
class ProviderInfo:
    """What ``providers()`` reports about one provider (or one plugin that failed to load)."""

    name: str
    version: str | None
    distribution: str
    capabilities: tuple[str, ...] = ()
    plugin: str = ""
    error: str | None = None

    @property
    def ok(self) -> bool:
        """False for a plugin that failed to load."""
        return self.error is None


class _Origin(NamedTuple):  # a tuple, not an attrs class: one less class to build at startup
    plugin: str
    distribution: str
    version: str | None


class Registry:
    """The providers known to this process. One module-level instance serves the public API."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._loaded = False
        self._providers: dict[str, tuple[Provider, _Origin]] = {}
        self._failures: list[ProviderInfo] = []
        self._manager: pluggy.PluginManager | None = None
        self._origins: dict[str, _Origin] = {}
        self._light: dict[str, Provider] = {}  # built-ins loaded alone, before any discovery

    # -- loading ------------------------------------------------------------------------------

    def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        with self._lock:
            if not self._loaded:
                self._load_entry_points()
                self._loaded = True

    def manager(self) -> pluggy.PluginManager:
        """The pluggy manager holding every plugin that loaded (entry points included)."""
        self._ensure_loaded()
        assert self._manager is not None
        return self._manager

    def _new_manager(self) -> pluggy.PluginManager:
        import pluggy

        from . import hookspecs

        manager = pluggy.PluginManager(hookspecs.PROJECT)
        manager.add_hookspecs(hookspecs)
        return manager

    def _load_entry_points(self) -> None:
        from importlib.metadata import entry_points

        self._manager = self._new_manager()
        self._providers.clear()  # a load that raised (a conflict) starts again from scratch
        self._failures.clear()
        self._origins.clear()
        wanted = _wanted_plugins()
        for entry_point in entry_points(group=ENTRY_POINT_GROUP):
            if wanted is not None and entry_point.name not in wanted:
                continue
            dist = entry_point.dist
            origin = _Origin(
                plugin=entry_point.name,
                distribution=dist.metadata["Name"] if dist is not None else "<unknown>",
                version=dist.version if dist is not None else None,
            )
            try:
                plugin = entry_point.load()
            except Exception as exc:  # a broken plugin must not break the others
                self._fail(origin, f"{type(exc).__name__}: {exc}")
                continue
            self._add_plugin(plugin, origin)

    def _add_plugin(self, plugin: object, origin: _Origin) -> None:
        import pluggy

        assert self._manager is not None
        claimed = self._origins.get(origin.plugin)
        if claimed is not None:  # two distributions ship an entry point of the same name
            raise PluginConflictError(origin.plugin, _describe(claimed), _describe(origin))
        try:
            self._manager.register(plugin, name=origin.plugin)
            self._manager.check_pending()
        except (ValueError, pluggy.PluginValidationError) as exc:
            if self._manager.is_registered(plugin):
                self._manager.unregister(plugin)
            self._fail(origin, f"invalid plugin: {exc}")
            return
        self._origins[origin.plugin] = origin
        self._call_hook(
            "importbridge_register_providers",
            origin,
            lambda provider: self._register(provider, origin),
        )

    def _call_hook(self, hook_name: str, origin: _Origin, callback: Callable[..., None]) -> None:
        """Call one plugin's implementation of a hook, so failures are attributed to it."""
        assert self._manager is not None
        hook = getattr(self._manager.hook, hook_name)
        for impl in hook.get_hookimpls():
            if impl.plugin_name != origin.plugin:
                continue
            try:
                impl.function(register=callback)
            except PluginConflictError:
                raise
            except Exception as exc:
                self._fail(origin, f"{hook_name} raised {type(exc).__name__}: {exc}")

    def _fail(self, origin: _Origin, reason: str) -> None:
        error = PluginLoadError(origin.plugin, origin.distribution, reason)
        if os.environ.get(ENV_STRICT, "").strip().lower() in {"1", "true", "yes", "on"}:
            raise error
        warnings.warn(str(error), RuntimeWarning, stacklevel=4)
        self._failures.append(
            ProviderInfo(
                name=origin.plugin,
                version=origin.version,
                distribution=origin.distribution,
                plugin=origin.plugin,
                error=reason,
            )
        )

    def _register(self, provider: object, origin: _Origin, *, replace: bool = False) -> None:
        _validate(provider, origin)
        assert isinstance(provider, Provider)
        with self._lock:
            existing = self._providers.get(provider.name)
            if existing is not None and not replace:
                raise PluginConflictError(provider.name, _describe(existing[1]), _describe(origin))
            self._providers[provider.name] = (provider, origin)

    def _load_own(self, name: str) -> Provider | None:
        """The provider ``name`` from the entry point of that name in importbridge's own
        distribution, loaded without a scan; None when there is none or it does not load
        cleanly (the full discovery then reports why)."""
        wanted = _wanted_plugins()
        target = _own_entry_points().get(name)
        if target is None or (wanted is not None and name not in wanted):
            return None
        found: list[Provider] = []
        try:
            module = importlib.import_module(target)
            hook = getattr(module, "importbridge_register_providers", None)
            if hook is None:
                return None
            hook(register=found.append)
        except Exception:
            return None
        for provider in found:
            if isinstance(provider, Provider) and provider.name == name:
                with self._lock:
                    return self._light.setdefault(name, provider)
        return None

    # -- the public face ----------------------------------------------------------------------

    def register(self, provider: Provider, *, replace: bool = False) -> None:
        """Register a provider in-process (tests, notebooks); conflicts raise unless ``replace``."""
        self._ensure_loaded()
        version = getattr(provider, "version", None)
        origin = _Origin(plugin=IN_PROCESS, distribution=IN_PROCESS, version=version)
        self._register(provider, origin, replace=replace)

    def unregister(self, name: str) -> None:
        """Forget a provider (mostly for tests that registered one in-process)."""
        with self._lock:
            self._providers.pop(name, None)

    def get(self, name: str) -> Provider:
        """The provider registered under ``name``.

        Before any full discovery, a provider of importbridge's own distribution is loaded
        alone (``_own_entry_points``): normalizing a built-in's payload scans no entry point
        and imports no other plugin. Anything else (another name, a listing, an in-process
        registration) runs the full discovery, with its conflict checks.
        """
        if self._loaded:
            entry = self._providers.get(name)
            if entry is not None:
                return entry[0]
        else:
            found = self._light.get(name) or self._load_own(name)
            if found is not None:
                return found
            self._ensure_loaded()
        try:
            return self._providers[name][0]
        except KeyError:
            raise UnknownProviderError(name, sorted(self._providers)) from None

    def infos(self) -> list[ProviderInfo]:
        """Every provider, sorted by name, then every plugin that failed to load."""
        self._ensure_loaded()
        with self._lock:
            found = [
                ProviderInfo(
                    name=name,
                    version=origin.version,
                    distribution=origin.distribution,
                    capabilities=tuple(sorted(provider.capabilities)),
                    plugin=origin.plugin,
                )
                for name, (provider, origin) in sorted(self._providers.items())
            ]
            return found + list(self._failures)

    def collect(self, hook_name: str) -> dict[str, tuple[Any, ...]]:
        """Call a ``register``-style hook on every loaded plugin; returns plugin -> registrations.

        Used for optional contributions such as sandbox simulators; a plugin whose hook raises
        is reported like a load failure.
        """
        self._ensure_loaded()
        result: dict[str, tuple[Any, ...]] = {}
        for plugin_name, origin in list(self._origins.items()):
            gathered: list[tuple[Any, ...]] = []
            self._call_hook(hook_name, origin, _appender(gathered))
            if gathered:
                result[plugin_name] = tuple(gathered)
        return result


def _appender(into: list[tuple[Any, ...]]) -> Callable[..., None]:
    def register(*args: Any) -> None:
        into.append(args)

    return register


@functools.lru_cache(maxsize=1)
def _own_entry_points() -> dict[str, str]:
    """Entry point name -> module of the ``importbridge`` group in importbridge's own
    distribution metadata (the first ``importbridge-*.dist-info`` on ``sys.path``, as
    ``importlib.metadata`` would pick), read without importing ``importlib.metadata``.

    Only plain ``name = module`` entries count; an entry naming an attribute (or anything
    unusual) is left to the full discovery.
    """
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for entry in names:
            if entry.startswith(_OWN_PREFIX) and entry.endswith(".dist-info"):
                return _group(os.path.join(folder or ".", entry, "entry_points.txt"))
    return {}


_OWN_PREFIX = "importbridge-"


def _group(path: str) -> dict[str, str]:
    """The ``[importbridge]`` section of an ``entry_points.txt`` (empty when unreadable)."""
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return {}
    found: dict[str, str] = {}
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif section == ENTRY_POINT_GROUP and "=" in line and not line.startswith(("#", ";")):
            name, _, value = (part.strip() for part in line.partition("="))
            if all(part.isidentifier() for part in value.split(".")):
                found[name] = value
    return found


def _wanted_plugins() -> frozenset[str] | None:
    raw = os.environ.get(ENV_PLUGINS)
    if raw is None:
        return None
    return frozenset(part.strip() for part in raw.split(",") if part.strip())


def _describe(origin: _Origin) -> str:
    if origin.distribution == IN_PROCESS:
        return "an in-process registration"
    return f"distribution {origin.distribution!r} (plugin {origin.plugin!r})"


def _validate(provider: object, origin: _Origin) -> None:
    if not isinstance(provider, Provider):
        raise InvalidPluginError(
            f"{_describe(origin)} registered {provider!r}, which is not an importbridge.Provider"
        )
    if not isinstance(provider.name, str) or not NAME_PATTERN.match(provider.name):
        raise InvalidPluginError(
            f"{_describe(origin)} registered a provider with invalid name {provider.name!r}"
            " (lowercase letters, digits, '-' and '_', starting with a letter)"
        )


_registry = Registry()


def registry() -> Registry:
    """The process-wide registry (for the sandbox and the testing helpers)."""
    return _registry


def providers() -> list[ProviderInfo]:
    """Every installed provider (name, version, distribution, capabilities) and any load failure."""
    return _registry.infos()


def get_provider(name: str | Provider) -> Provider:
    """The provider with this name (a ``Provider`` instance is returned as it is)."""
    if isinstance(name, Provider):
        return name
    return _registry.get(name)


def register(provider: Provider, *, replace: bool = False) -> None:
    """Register a provider in this process only; the name must not be taken unless ``replace``."""
    _registry.register(provider, replace=replace)


def normalize(provider: str | Provider, payload: object) -> ImportJob:
    """Turn a provider's status payload into an ``ImportJob``.

    ``payload`` is a decoded JSON value, or JSON text as ``str`` / ``bytes``. Only
    ``PayloadError`` escapes for bad input; the caller's object is never mutated.

    Rows an adapter defers (built on first read) are built here when the payload came decoded:
    a caller's objects may hold what JSON text cannot (NaN, deep nesting), and the model's
    refusal of them must come from ``normalize``, not from a later ``job.rows``.
    """
    # (the registry at once for a name: a status payload's whole normalize costs microseconds)
    adapter = _registry.get(provider) if type(provider) is str else get_provider(provider)
    if isinstance(payload, _TEXT):
        if len(payload) >= BULK_TEXT:  # thousands of acyclic objects: no collector passes
            with paused_gc():
                return adapter.normalize(_decoded(adapter, payload))
        return adapter.normalize(_decoded(adapter, payload))
    job = adapter.normalize(payload)
    job.rows  # noqa: B018 (built now, see above)
    return job


#: from this size on, a payload given as text is decoded and normalized with the collector
#: paused (see ``_deferred.paused_gc``): what JSON builds is acyclic, so every pass the
#: collector would make over the growing tree finds nothing (about a third of the decode's
#: time at a million rows; the rest of the growth per row is memory: page faults and caches)
BULK_TEXT = 64 * 1024


_TEXT = (str, bytes, bytearray, memoryview)


def _decoded(adapter: Provider, text: str | bytes | bytearray | memoryview) -> object:
    """The payload text decoded; a bulk one by ``longarrays.loads_for`` (a long one's row arrays,
    ``Provider.row_arrays``, in chunks), imported only then: ``connect()`` needs none of it."""
    try:
        if len(text) < BULK_TEXT:
            return loads(text)
        from .longarrays import loads_for

        return loads_for(adapter, text)
    except JSONTextError as exc:
        raise PayloadError(adapter.name, "", str(exc)) from None
