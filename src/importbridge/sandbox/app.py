"""The sandbox as a whole: simulators from plugins, one server, one clock, one fault injector.

``run()`` binds the server first (so the port is known), then builds each simulator with a
``SimulatorContext`` whose secrets are derived from the provider's own ``Setting`` list:
secret settings get fresh random values per run, the simulator declares the others (base URL,
team id, ...). ``settings(name)`` and ``env`` therefore work for any provider, built-in or not.
"""

from __future__ import annotations

import collections
import random
import secrets
import threading
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

import attrs

from importbridge.errors import (
    ConfigurationError,
    InvalidPluginError,
    PluginConflictError,
    UnknownProviderError,
)

from .clock import VirtualClock
from .config import DEFAULT_SPEED, LiveConfig, SandboxConfig
from .faults import FaultInjector
from .messages import Response
from .routing import Router
from .server import SandboxServer, control_json
from .simulator import Simulator, SimulatorContext

__all__ = ["Sandbox", "discover_simulators", "run"]

SimulatorFactory = Callable[[SimulatorContext], Simulator]


def discover_simulators() -> dict[str, SimulatorFactory]:
    """Every simulator that installed plugins register, by provider name."""
    from importbridge import plugins

    found: dict[str, SimulatorFactory] = {}
    owners: dict[str, str] = {}
    for plugin_name, registrations in plugins.registry().collect(
        "importbridge_register_simulators"
    ).items():
        for registration in registrations:
            name, factory = _checked_registration(plugin_name, registration)
            if name in found:
                raise PluginConflictError(name, f"plugin {owners[name]!r}", f"plugin {plugin_name!r}")
            found[name] = factory
            owners[name] = plugin_name
    return found


def _checked_registration(plugin_name: str, registration: tuple[Any, ...]) -> tuple[str, SimulatorFactory]:
    """``register(provider_name, factory)``'s arguments, or an error naming the plugin.

    The hook's ``register`` accepts any arguments, so a plugin's mistake would otherwise
    surface as a bare unpacking error, or as a crash only when the sandbox builds it.
    """
    from importbridge.provider import NAME_PATTERN

    if len(registration) != 2:
        problem = f"called register() with {len(registration)} arguments, expected (provider_name, factory)"
    elif not isinstance(registration[0], str) or not NAME_PATTERN.match(registration[0]):
        problem = f"registered a simulator under an invalid provider name {registration[0]!r}"
    elif not callable(registration[1]):
        problem = f"registered simulator {registration[0]!r} with a factory that is not callable"
    else:
        return registration[0], registration[1]
    raise InvalidPluginError(f"plugin {plugin_name!r} {problem}")


def _provider_settings(name: str) -> tuple[Any, ...]:
    """The provider's ``Setting`` list, or () for a simulator without an installed provider."""
    from importbridge import plugins

    try:
        return tuple(plugins.get_provider(name).settings)
    except UnknownProviderError:
        return ()


class Sandbox:
    """A running sandbox. Use ``run()`` to get one; it is a context manager that stops it."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        clock: VirtualClock,
        config: SandboxConfig,
        faults: FaultInjector,
        seed: int | None,
        factories: Mapping[str, SimulatorFactory],
    ) -> None:
        self.clock = clock
        self.faults = faults
        self._live = LiveConfig(config)
        self._lock = threading.Lock()
        self._received: collections.Counter[str] = collections.Counter()
        self._faulted: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
        self.internal = _control_simulator(self)
        try:
            self._server = SandboxServer((host, port), self)
        except OSError as exc:
            raise ConfigurationError(
                f"the sandbox cannot listen on {host}:{port}: {exc.strerror or exc}"
            ) from None
        bound_host, bound_port = self._server.server_address[:2]
        shown = bound_host if isinstance(bound_host, str) else bound_host.decode()
        self.url = f"http://{shown}:{bound_port}"
        self.simulators: dict[str, Simulator] = {}
        self._settings: dict[str, dict[str, str]] = {}
        self._env: dict[str, str] = {}
        try:
            for name, factory in sorted(factories.items()):
                self._mount(name, factory, seed)
        except BaseException:
            self._server.server_close()
            raise
        self._thread = self._server.serve_in_thread()

    def _mount(self, name: str, factory: SimulatorFactory, seed: int | None) -> None:
        declared = _provider_settings(name)
        generated = {
            setting.name: f"sbx_{name}_{secrets.token_hex(12)}" for setting in declared if setting.secret
        }
        context = SimulatorContext(
            name=name,
            base_url=f"{self.url}/{name}",
            clock=self.clock,
            live=self._live,
            secrets=generated,
            rng=random.Random(f"{seed}:{name}") if seed is not None else random.Random(),
        )
        simulator = factory(context)
        offered = {**simulator.settings, **generated}
        if declared:
            missing = [s.name for s in declared if s.required and s.name not in offered and not s.default]
            if missing:
                raise ConfigurationError(f"simulator {name!r} does not provide setting(s) {missing}")
            values = {s.name: offered[s.name] for s in declared if s.name in offered}
            self._env.update({s.env: offered[s.name] for s in declared if s.name in offered})
        else:
            values = offered
        self.simulators[name] = simulator
        self._settings[name] = values

    # -- the public face --------------------------------------------------------------------------

    @property
    def config(self) -> SandboxConfig:
        """The knobs as they are now."""
        return self._live.current

    @property
    def env(self) -> dict[str, str]:
        """Environment variables (the providers' own names) that point a client here."""
        return dict(self._env)

    def settings(self, name: str) -> dict[str, str]:
        """``importbridge.connect(name, **sb.settings(name))`` keywords for one provider."""
        try:
            return dict(self._settings[name])
        except KeyError:
            raise UnknownProviderError(name, sorted(self._settings)) from None

    def simulator(self, name: str) -> Simulator:
        """The simulator mounted at ``/<name>`` (for provider-specific test hooks)."""
        try:
            return self.simulators[name]
        except KeyError:
            raise UnknownProviderError(name, sorted(self.simulators)) from None

    def configure(self, **changes: Any) -> SandboxConfig:
        """Change knobs while running: speed, start_delay, report_progress, progress_curve,
        rate_limit, sync_threshold, max_body. Jobs keep the speed and curve they were accepted with."""
        return self._live.update(**changes)

    def state(self) -> dict[str, Any]:
        """Per provider: ``imports``, ``records``, requests and more; ``_sandbox``: clock, faults."""
        result: dict[str, Any] = {}
        with self._lock:
            received = dict(self._received)
            faulted = {name: dict(sorted(kinds.items())) for name, kinds in self._faulted.items()}
        for name, simulator in self.simulators.items():
            result[name] = {
                **simulator.state(),
                "requests_received": received.get(name, 0),
                "faults": faulted.get(name, {}),
            }
        result["_sandbox"] = {
            "now": self.clock.now(),
            "frozen": self.clock.frozen,
            "faults": self.faults.stats(),
            "config": attrs.asdict(self.config),
        }
        return result

    # -- bookkeeping the server calls ---------------------------------------------------------------

    def mount_for(self, path: str) -> tuple[str, str] | None:
        """(provider name, path relative to its mount) for a request path, or None."""
        head, _, rest = path.lstrip("/").partition("/")
        if head in self.simulators:
            return head, "/" + rest
        return None

    def count_received(self, name: str) -> None:
        with self._lock:
            self._received[name] += 1

    def count_fault(self, name: str, kind: str) -> None:
        with self._lock:
            self._faulted[name][kind] += 1

    # -- lifecycle ----------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop serving and release the port (idempotent)."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
        self._server.drop_connections()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Sandbox {self.url} providers={sorted(self.simulators)}>"


def _control_simulator(app: Sandbox) -> Simulator:
    """Routes under ``/_sandbox``: state, clock and fault control for out-of-process tests."""

    def advance(payload: Any) -> dict[str, Any]:
        seconds = payload.get("seconds") if isinstance(payload, dict) else None
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
            raise ValueError('expected {"seconds": <number>}')
        return {"now": app.clock.advance(float(seconds))}

    def configure(payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise ValueError("expected a JSON object of settings")
        app.configure(**payload)
        return dict(app.state()["_sandbox"]["config"])

    def faults(payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise ValueError('expected {"rate": ..., "script": [{"kind": ..., ...}]}')
        if "rate" in payload:
            app.faults.rate = payload["rate"]
        for entry in payload.get("script", ()):
            if not isinstance(entry, dict):
                raise ValueError("each script entry must be an object")
            app.faults.script(**entry)
        return app.faults.stats()

    class Control(Simulator):
        def routes(self, router: Router) -> None:
            router.add("GET", "/state", lambda request: Response.json(200, app.state()))
            router.add("GET", "/clock", lambda request: Response.json(
                200, {"now": app.clock.now(), "frozen": app.clock.frozen}))
            router.add("POST", "/clock/advance", control_json(advance))
            router.add("POST", "/configure", control_json(configure))
            router.add("POST", "/faults", control_json(faults))

    return Control(SimulatorContext(name="_sandbox", base_url="", clock=app.clock, live=app._live,
                                    secrets={}, rng=random.Random()))


def run(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: float = 0.0,
    seed: int | None = None,
    speed: float | None = None,
    sync_threshold: int = 100,
    rate_limit: float | None = 10.0,
    frozen: bool = False,
    report_progress: bool = True,
    progress_curve: Any = "linear",
    start_delay: float = 0.2,
    max_body: int = 16 * 1024 * 1024,
    slow_seconds: float = 1.0,
    start: float | None = None,
    providers: Iterable[str] | None = None,
    simulators: Mapping[str, SimulatorFactory] | None = None,
) -> Sandbox:
    """Start a sandbox serving every installed simulator; use it as a context manager.

    ``faults``: probability (0..1) that a request gets a random fault, drawn from ``seed``.
    ``speed``: virtual rows per second (default 250). ``progress_curve``: how jobs progress over
    their run time, a name (``linear``, ``accelerating``, ``decelerating``, ``steps``,
    ``idle-then-linear``, ``fast-then-tail``) or ``(time fraction, progress fraction)`` points;
    ``sb.configure(progress_curve=...)`` changes it for jobs accepted later. ``frozen``: virtual
    time only moves with ``sb.clock.advance``. ``providers`` limits which simulators mount;
    ``simulators`` replaces discovery with explicit ``{name: factory}`` (e.g. a plugin author's
    simulator under test).
    """
    factories = dict(simulators) if simulators is not None else discover_simulators()
    if providers is not None:
        wanted = set(providers)
        unknown = wanted - set(factories)
        if unknown:
            raise UnknownProviderError(sorted(unknown)[0], sorted(factories))
        factories = {name: factory for name, factory in factories.items() if name in wanted}
    config = SandboxConfig(
        speed=DEFAULT_SPEED if speed is None else speed,
        start_delay=start_delay,
        report_progress=report_progress,
        progress_curve=progress_curve,
        rate_limit=rate_limit,
        sync_threshold=sync_threshold,
        max_body=max_body,
    )
    return Sandbox(
        host=host,
        port=port,
        clock=VirtualClock(start=start, frozen=frozen),
        config=config,
        faults=FaultInjector(faults, seed=seed, slow_seconds=slow_seconds),
        seed=seed,
        factories=factories,
    )
