"""The sandbox: loopback HTTP simulators of the providers' import APIs.

``with importbridge.sandbox.run() as sb:`` starts a threaded HTTP server on 127.0.0.1 that
mounts every installed provider's simulator under ``/<provider>``; ``sb.settings(name)`` and
``sb.env`` point a client at it. Simulators come from plugins (the
``importbridge_register_simulators`` hook) and build on the public pieces here: ``Simulator``,
``SimulatorContext``, ``Router``, ``Request``/``Response``/``HttpError``, ``Timeline``,
``RateLimiter`` and ``IdempotencyCache``. See docs/sandbox.md.
"""

from __future__ import annotations

from .app import Sandbox, discover_simulators, run
from .clock import VirtualClock
from .config import SandboxConfig
from .faults import FAULT_KINDS, FaultInjector, ScriptedFault
from .limits import IdempotencyCache, IdempotencyOutcome, RateLimiter, fingerprint
from .messages import HttpError, Request, Response, UploadedFile
from .routing import Router
from .simulator import Simulator, SimulatorContext, format_time
from .timeline import Phase, Timeline

__all__ = [
    "FAULT_KINDS",
    "FaultInjector",
    "HttpError",
    "IdempotencyCache",
    "IdempotencyOutcome",
    "Phase",
    "RateLimiter",
    "Request",
    "Response",
    "Router",
    "Sandbox",
    "SandboxConfig",
    "ScriptedFault",
    "Simulator",
    "SimulatorContext",
    "Timeline",
    "UploadedFile",
    "VirtualClock",
    "discover_simulators",
    "fingerprint",
    "format_time",
    "run",
]
