"""Waiting that connects its own clients: ``resume(token)`` and ``wait_all`` over tokens.

The waiting layer (``importbridge.polling``, ``importbridge.waitall``) drives clients it is
handed and never connects one (that would import the clients' layer from below it). What
must connect a client from a token's provider and context, and the environment, lives here,
one layer up, and hands ``connect_for`` down.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from . import waitall
from .client import ImportClient, connect
from .model import ImportJob
from .plugins import get_provider
from .polling import OnUpdate, wait
from .schedule import PollPolicy
from .tokens import decode

__all__ = ["connect_for", "resume", "wait_all"]


def connect_for(provider: str, context: Mapping[str, str], **settings: Any) -> ImportClient:
    """A client for ``provider``: a token's ``context`` settings, overridden by ``settings``,
    the rest from the environment."""
    adapter = get_provider(provider)
    names = {setting.name for setting in adapter.settings}
    carried = {key: value for key, value in context.items() if key in names}
    return connect(adapter, **{**carried, **settings})


def resume(
    token: str,
    *,
    timeout: float | None = None,
    on_update: OnUpdate | None = None,
    policy: PollPolicy | None = None,
    **settings: Any,
) -> ImportJob:
    """Finish a wait from its token in any process: connect from the environment and wait.

    ``settings`` are ``connect()`` keywords (credentials, base_url, ...) overriding the
    environment and the token's context. The token's deadline holds unless ``timeout`` is given.
    """
    parsed = decode(token)
    with connect_for(parsed.provider, parsed.context, **settings) as client:
        return wait(client, token.strip(), timeout=timeout, on_update=on_update, policy=policy)


def wait_all(
    items: Any,
    *,
    clients: Any = None,
    concurrency: int = 16,
    timeout: float | None = None,
    on_update: OnUpdate | None = None,
    policy: PollPolicy | None = None,
) -> Iterator[ImportJob]:
    """Wait on many jobs at once; yields each job once, as it reaches a terminal state.

    A provider with no client in ``clients`` is connected from the environment (a token's
    context settings included). See ``importbridge.waitall.wait_all``.
    """
    return waitall.wait_all(
        items,
        clients=clients,
        concurrency=concurrency,
        timeout=timeout,
        on_update=on_update,
        policy=policy,
        connect=connect_for,
    )
