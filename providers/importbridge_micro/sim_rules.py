"""What the Micro simulator accepts: row validation and dedupe matching (listed in docs/sandbox.md).

Micro documents neither, so the sandbox keeps them small and predictable: ``name`` is required,
``email`` and ``domain`` must look like one, and ``options.dedupe_by`` matches a stored
record of the same object type on that property (case-insensitively when asked).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["OBJECT_TYPES", "dedupe_value", "row_error"]

OBJECT_TYPES: tuple[str, ...] = (
    "contact",
    "organization",
    "identity",
    "deal",
    "action",
    "document",
    "engagement",
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$", re.IGNORECASE)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _matches(pattern: re.Pattern[str]) -> Callable[[Any], bool]:
    return lambda value: value is None or (isinstance(value, str) and bool(pattern.match(value)))


# (property, predicate the value must pass, error code, message); checked in this order
RULES: tuple[tuple[str, Callable[[Any], bool], str, str], ...] = (
    ("name", lambda value: not _blank(value), "required", "name is required"),
    ("email", _matches(_EMAIL), "invalid_email", "email is not a valid email address"),
    ("domain", _matches(_DOMAIN), "invalid_domain", "domain is not a valid domain name"),
)


def row_error(properties: Mapping[str, Any]) -> dict[str, str] | None:
    """The ``{code, message}`` of the first rule the row breaks, or None for a valid row."""
    for slug, passes, code, message in RULES:
        if not passes(properties.get(slug)):
            return {"code": code, "message": message}
    return None


def dedupe_value(value: Any, *, case_insensitive: bool) -> str | None:
    """The key a property value is matched on (None: never matches)."""
    if _blank(value):
        return None
    if isinstance(value, str):
        return value.casefold() if case_insensitive else value
    return json.dumps(value, sort_keys=True)
