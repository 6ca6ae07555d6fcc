"""Provider options for ``submit``: ``--option key=value`` and ``--any-flag value`` alike.

The core never names a provider, so the command knows none of their options: every flag
``submit`` does not know itself is handed to the provider (``--object-type contact`` becomes
``object_type="contact"``), which rejects what it does not know, naming what it does.
Values are read as JSON when they parse (``5``, ``true``, ``{"Email": "EMAIL"}``) and as text
otherwise; a dotted key builds a mapping (``column_mappings.Email=EMAIL``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from .exits import CommandError

__all__ = ["parse_flags", "parse_options", "parse_value"]


def parse_value(text: str) -> Any:
    """JSON when ``text`` is JSON, the text itself otherwise."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def _key(name: str) -> list[str]:
    first, *rest = name.split(".")
    parts = [first.strip().replace("-", "_"), *rest]
    if not all(parts):
        raise CommandError(f"provider option {name!r}: empty key")
    return parts


def _put(options: dict[str, Any], name: str, value: Any) -> None:
    *parents, last = _key(name)
    target = options
    for part in parents:
        child = target.setdefault(part, {})
        if not isinstance(child, dict):
            raise CommandError(f"provider option {name!r}: {part!r} is already set to a value")
        target = child
    if last in target:
        raise CommandError(f"provider option {name!r} given twice")
    target[last] = value


def parse_options(pairs: Sequence[str], flags: Sequence[str] = ()) -> dict[str, Any]:
    """Options from ``KEY=VALUE`` pairs and ``[--name, value, --name=value, ...]`` flags."""
    options: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise CommandError(f"--option expects KEY=VALUE, got {pair!r}")
        _put(options, name.strip(), parse_value(value))
    for name, value in parse_flags(flags):
        _put(options, name, parse_value(value))
    return options


def parse_flags(flags: Sequence[str]) -> list[tuple[str, str]]:
    """``[--name, value, --name=value]`` as ``[(name, value), ...]``."""
    pairs: list[tuple[str, str]] = []
    tokens = iter(flags)
    for token in tokens:
        body = token[2:]
        name, sep, value = body.partition("=")
        if not sep:
            value = next(tokens)
        pairs.append((name, value))
    return pairs
