"""The key that signs resume tokens, and where it comes from (``token_key=`` or the environment).

Apart from ``tokens`` so that ``connect()``, which resolves the key at once, does not load the
token format, the schedule's memory and the model it has no use for until a token is made or read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from typing import Any

from .errors import ConfigurationError

__all__ = ["KEY_VARIABLE", "MIN_KEY_BYTES", "TokenKey", "resolve_key"]

#: the environment variable holding the key that signs and checks tokens
KEY_VARIABLE = "IMPORTBRIDGE_TOKEN_KEY"
#: shortest key accepted: an HMAC key shorter than this is guessable
MIN_KEY_BYTES = 16


class TokenKey:
    """The HMAC-SHA256 key that signs resume tokens. Its repr never shows it."""

    __slots__ = ("_secret",)

    def __init__(self, secret: str | bytes) -> None:
        raw = secret.encode("utf-8", "surrogateescape") if isinstance(secret, str) else bytes(secret)
        if len(raw) < MIN_KEY_BYTES:
            raise ConfigurationError(
                f"the resume token key ({KEY_VARIABLE} or token_key=) is {len(raw)} bytes long; use at "
                f"least {MIN_KEY_BYTES} random bytes, e.g. python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'"
            )
        self._secret = raw

    def __repr__(self) -> str:
        return "TokenKey(***)"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a TokenKey is not pickled (it would carry the key); pass the key itself")

    def sign(self, message: str) -> str:
        """The base64url (unpadded) HMAC-SHA256 of ``message``."""
        digest = hmac.new(self._secret, message.encode("ascii"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def verify(self, message: str, signature: str) -> bool:
        """Whether ``signature`` is this key's signature of ``message`` (in constant time)."""
        return hmac.compare_digest(self.sign(message), signature)


def resolve_key(
    given: TokenKey | str | bytes | None = None, environ: Mapping[str, str] | None = None
) -> TokenKey | None:
    """The token key: ``given``, else ``IMPORTBRIDGE_TOKEN_KEY`` (blank counts as unset), else None."""
    if isinstance(given, TokenKey):
        return given
    if given is None:
        value = (os.environ if environ is None else environ).get(KEY_VARIABLE)
        return TokenKey(value) if value else None
    if not isinstance(given, (str, bytes)):
        raise ConfigurationError(f"token_key must be a string or bytes, got {type(given).__name__}")
    return TokenKey(given)
