"""Connection settings: resolved once (argument > environment variable > default), redacted always.

A provider declares its settings (``Provider.settings``); ``resolve`` turns keyword arguments and
the environment into one read-only ``Settings`` mapping whose repr never shows a secret value.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

from .errors import ConfigurationError
from .provider import Provider

__all__ = ["REDACTED", "Settings", "redact", "resolve"]

REDACTED = "***"


class Settings(Mapping[str, str]):
    """Read-only resolved settings; ``secrets`` names the keys whose values must never be shown."""

    __slots__ = ("_secrets", "_values")

    def __init__(self, values: Mapping[str, str], secrets: frozenset[str] = frozenset()) -> None:
        self._values = dict(values)
        self._secrets = frozenset(secrets)

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        shown = {key: REDACTED if key in self._secrets else value for key, value in self._values.items()}
        return f"Settings({shown!r})"

    __str__ = __repr__

    @property
    def secret_values(self) -> tuple[str, ...]:
        """The secret values, longest first (for scrubbing text that may echo them).

        Each also in the forms an error message may quote it in: stripped of surrounding
        whitespace and escaped as ``repr``/``ascii`` escape it (requests quotes a header value
        with a stray newline, e.g. from a CRLF ``.env`` file, as ``'key\\r\\n'``).
        """
        values: set[str] = set()
        for key in self._secrets:
            value = self._values.get(key)
            if value:
                values.update({value, value.strip(), repr(value)[1:-1], ascii(value)[1:-1]})
        values.discard("")
        return tuple(sorted(values, key=len, reverse=True))

    def redact(self, text: str) -> str:
        """``text`` with every secret value replaced by ``***``."""
        return redact(text, self.secret_values)


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """Replace each secret (longest first, so overlapping values go whole) by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def resolve(
    provider: Provider, given: Mapping[str, str | None], environ: Mapping[str, str] | None = None
) -> Settings:
    """Resolve every setting of ``provider``: argument, else its env var, else its default.

    Unknown keywords and missing required settings raise ``ConfigurationError`` naming what to
    set; empty strings count as unset (a blank ``export X=`` should not pass as a credential).
    """
    env = os.environ if environ is None else environ
    known = {setting.name: setting for setting in provider.settings}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise ConfigurationError(
            f"{provider.name}: unknown setting(s) {', '.join(unknown)}; "
            f"known settings: {', '.join(known) or 'none'}"
        )
    values: dict[str, str] = {}
    for name, setting in known.items():
        value = given.get(name)
        if value is not None and not isinstance(value, str):
            raise ConfigurationError(
                f"{provider.name}: setting {name!r} must be a string, got {type(value).__name__}"
            )
        value = value or env.get(setting.env) or setting.default
        if value:
            values[name] = value
        elif setting.required:
            raise ConfigurationError(
                f"{provider.name}: missing setting {name!r}: pass {name}=... to connect() "
                f"or set the environment variable {setting.env}"
            )
    return Settings(values, frozenset(s.name for s in provider.settings if s.secret))
