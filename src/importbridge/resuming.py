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
from .tokens import Token, TokenKey, admit, connection_settings, decode, resolve_key

__all__ = ["connect_for", "resume", "wait_all"]


def connect_for(token: Token, settings: Mapping[str, Any], key: TokenKey | None) -> ImportClient:
    """A client for an admitted token's provider: its context settings (never its base URL or
    a secret), overridden by ``settings``; the rest from the environment. ``key`` signs the
    client's tokens and checks those it reads."""
    provider = get_provider(token.provider)
    admit(token, provider)  # a token must never choose a setting it may not carry
    carried = connection_settings(provider, token.context)
    return connect(provider, token_key=key, **{**carried, **settings})


def resume(
    token: str,
    /,
    *,
    timeout: float | None = None,
    on_update: OnUpdate | None = None,
    policy: PollPolicy | None = None,
    token_key: TokenKey | str | bytes | None = None,
    **settings: Any,
) -> ImportJob:
    """Finish a wait from its token in any process: connect from the environment and wait.

    ``settings`` are ``connect()`` keywords (credentials, base_url, ...; TalkValue's ``token``
    too, which is why the resume token is positional-only) overriding the environment and the
    token's context settings; the base URL and credentials never come from the token, and a
    token made for another origin is refused (``TokenError``). ``token_key`` (default:
    ``IMPORTBRIDGE_TOKEN_KEY``) checks the token's signature and signs new tokens. The token's
    deadline holds unless ``timeout`` is given.
    """
    key = resolve_key(token_key)
    parsed = decode(token, key=key)
    with connect_for(parsed, settings, key) as client:
        return wait(client, token.strip(), timeout=timeout, on_update=on_update, policy=policy)


def wait_all(
    items: Any,
    *,
    clients: Any = None,
    concurrency: int = 16,
    timeout: float | None = None,
    on_update: OnUpdate | None = None,
    policy: PollPolicy | None = None,
    token_key: TokenKey | str | bytes | None = None,
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
        token_key=token_key,
        connect=connect_for,
    )
