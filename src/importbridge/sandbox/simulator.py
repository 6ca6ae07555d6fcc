"""What a provider's simulator is, and what the sandbox hands it.

A provider plugin contributes a simulator through the ``importbridge_register_simulators``
hook: ``register(provider_name, factory)``, where ``factory(context)`` returns a ``Simulator``.
The sandbox mounts it under ``/<provider_name>`` and passes it requests whose path is relative
to that mount. The base class does the shared work (authentication hook, routing, turning
``HttpError`` and crashes into the provider's own error shape, request counting); a subclass
adds its routes, its error shape and its state.
"""

from __future__ import annotations

import collections
import logging
import random
import threading
import uuid
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any, ClassVar

import attrs

from .clock import VirtualClock
from .config import LiveConfig, SandboxConfig
from .curves import curve_points
from .messages import HttpError, Request, Response
from .routing import Router
from .timeline import Timeline

__all__ = ["Simulator", "SimulatorContext", "format_time"]

log = logging.getLogger("importbridge.sandbox")


def format_time(epoch: float, *, millis: bool = False) -> str:
    """ISO-8601 UTC with a ``Z``, as the providers' examples write it."""
    moment = datetime.fromtimestamp(epoch, tz=timezone.utc)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@attrs.frozen(kw_only=True)
class SimulatorContext:
    """Everything a simulator gets from the sandbox.

    - ``name``: the provider name, also the mount (``/<name>``).
    - ``base_url``: the mount's absolute URL (``http://127.0.0.1:PORT/<name>``).
    - ``clock``: the shared virtual clock.
    - ``secrets``: generated values of the provider's secret settings (keys, tokens) by
      setting name; the simulator accepts exactly these.
    - ``rng``: a ``random.Random`` seeded from the sandbox seed and the name, for ids.
    """

    name: str
    base_url: str
    clock: VirtualClock
    live: LiveConfig
    secrets: Mapping[str, str]
    rng: random.Random
    lock: threading.RLock = attrs.field(factory=threading.RLock)

    @property
    def config(self) -> SandboxConfig:
        """The knobs as they are now (``sb.configure`` may change them at any time)."""
        return self.live.current

    def timeline(self, total: int, *, delay: float = 0.0) -> Timeline:
        """A schedule for a job of ``total`` rows accepted now, at the configured speed and
        progress curve."""
        config = self.config
        return Timeline.begin(
            self.clock.now(), total, speed=config.speed, delay=config.start_delay + delay,
            curve=curve_points(config.progress_curve),
        )

    def new_uuid(self) -> str:
        """A random (seeded) UUID4 string."""
        with self.lock:
            return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def new_hex(self, length: int) -> str:
        """A random (seeded) lower-case hex string of ``length`` characters."""
        with self.lock:
            return f"{self.rng.getrandbits(length * 4):0{length}x}"


class Simulator:
    """Base class for a provider simulator. Subclasses set routes in ``routes`` and the shape
    of errors in ``error``; ``authenticate`` raises ``HttpError`` 401/403 as the provider does.
    """

    base_path: ClassVar[str] = ""  # appended to the mount URL to make the ``base_url`` setting

    def __init__(self, context: SimulatorContext) -> None:
        self.context = context
        self.router = Router()
        self._counter_lock = threading.Lock()
        self.requests: collections.Counter[str] = collections.Counter()
        self.responses: collections.Counter[int] = collections.Counter()
        self.routes(self.router)

    # -- what subclasses provide ----------------------------------------------------------------

    def routes(self, router: Router) -> None:
        """Add this provider's routes (paths relative to the mount)."""

    def authenticate(self, request: Request) -> None:
        """Raise ``HttpError`` when ``request`` lacks valid credentials. Default: no auth."""

    def error(self, error: HttpError) -> Response:
        """The provider's documented error response for ``error``. Default: ``{"message"}``."""
        return Response.json(error.status, {"message": error.message}, headers=error.headers)

    @property
    def settings(self) -> dict[str, str]:
        """Non-secret ``connect()`` settings this simulator offers (secrets come from the sandbox)."""
        return {"base_url": self.context.base_url + self.base_path}

    def state(self) -> dict[str, Any]:
        """Introspection for ``/_sandbox/state``; subclasses add ``imports``, ``records``, ..."""
        with self._counter_lock:
            return {
                "requests": sum(self.requests.values()),
                "requests_by_route": dict(sorted(self.requests.items())),
                "responses_by_status": {str(k): v for k, v in sorted(self.responses.items())},
            }

    # -- the shared request cycle ----------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request; never raises (crashes become a 500 in the provider's shape)."""
        label: str | None = None
        try:
            try:
                self.authenticate(request)
                route, routed = self.router.resolve(request)
                label = f"{route.method} {route.template}"
                response = route.handler(routed)
            except HttpError as exc:
                label = label or f"{request.method} <{exc.kind or exc.status}>"
                response = self.error(exc)
        except Exception:
            log.exception("sandbox simulator %r crashed on %s %s", self.context.name, request.method,
                          request.path)
            label = label or f"{request.method} <internal>"
            response = self.error(HttpError(500, "internal sandbox error", kind="internal"))
        with self._counter_lock:
            self.requests[label] += 1
            self.responses[response.status] += 1
        return response
