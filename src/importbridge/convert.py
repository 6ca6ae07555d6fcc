"""The contract's JSON shape: ``to_dict`` / ``from_dict`` / ``to_json`` / ``from_json``.

One cattrs converter is built once per process, on first use (cattrs is not imported by
``import importbridge``). ``raw`` never leaves the model; datetimes become ISO-8601 UTC strings
ending in ``Z``; enums become their values; tuples become lists. Every job the model accepts is
strict JSON (finite numbers, bounded depth) and comes back equal from ``from_dict`` / ``from_json``.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from .errors import InvalidJobError, PayloadError
from .jsontext import JSONTextError, loads
from .model import ImportJob, JobError, JobState, RowOutcome, RowResult, TableImport

if TYPE_CHECKING:
    import cattrs

__all__ = ["from_dict", "from_json", "to_dict", "to_json"]

_SOURCE = "importbridge"  # the "provider" named by errors in our own JSON shape


def format_datetime(value: datetime) -> str:
    """ISO-8601 in UTC with a ``Z`` suffix; microseconds are kept when present."""
    text = value.astimezone(timezone.utc).replace(tzinfo=None).isoformat()
    return text + "Z"


def parse_datetime(value: str) -> datetime:
    """Parse ISO-8601 (``Z`` or an offset; naive means UTC) into an aware UTC datetime."""
    parsed = _from_iso(value)
    if parsed.tzinfo is None or parsed.utcoffset() == _ZERO:
        return parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


_ZERO = timedelta(0)


def _from_iso(value: str) -> datetime:
    """``datetime.fromisoformat`` with a ``Z`` suffix read as UTC; no zone stays naive."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    return datetime.fromisoformat(text)


@functools.lru_cache(maxsize=1)
def _converter() -> cattrs.Converter:
    import cattrs
    from cattrs.gen import make_dict_unstructure_fn, override

    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_unstructure_hook(datetime, format_datetime)
    converter.register_structure_hook(datetime, lambda value, _: _structure_datetime(value))
    for enum_type in (JobState, RowOutcome):
        converter.register_unstructure_hook(enum_type, lambda member: member.value)
    converter.register_unstructure_hook(
        ImportJob,
        make_dict_unstructure_fn(ImportJob, converter, raw=override(omit=True)),
    )
    for cls in (RowResult, TableImport, JobError):
        converter.register_unstructure_hook(cls, make_dict_unstructure_fn(cls, converter))
    converter.register_structure_hook(Any, lambda value, _: value)  # ``data`` stays as given
    for scalar, accepted in _STRICT_SCALARS.items():  # no silent str(3), int(True), int(1.5)
        converter.register_structure_hook(scalar, _strict(scalar, accepted))
    for enum_type in (JobState, RowOutcome):  # str subclasses: keep them off the str hook
        converter.register_structure_hook(enum_type, lambda value, cls: cls(value))
    return converter


# JSON types each model scalar accepts; a bool is never a number here.
_STRICT_SCALARS: dict[type, tuple[type, ...]] = {
    str: (str,),
    int: (int,),
    float: (int, float),
    bool: (bool,),
}


def _strict(target: type, accepted: tuple[type, ...]) -> Any:
    def structure(value: object, _: object) -> object:
        if isinstance(value, accepted) and (target is bool or not isinstance(value, bool)):
            return target(value)
        raise TypeError(f"expected {target.__name__}, got {type(value).__name__} {value!r:.40}")

    return structure


def _structure_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO-8601 string, got {type(value).__name__}")
    parsed = _from_iso(value)
    if parsed.utcoffset() is None:  # ``to_dict`` always writes the zone; none is never guessed
        raise ValueError(f"{value[:40]!r} has no time zone")
    return parsed


def to_dict(job: ImportJob) -> dict[str, Any]:
    """The job as the contract's JSON-safe dict: exactly its keys, nothing of ``raw``."""
    result: dict[str, Any] = _converter().unstructure(job)
    return result


def from_dict(data: object) -> ImportJob:
    """Rebuild a job from ``to_dict`` output; anything else raises ``PayloadError``."""
    import cattrs

    if not isinstance(data, dict):
        raise PayloadError(_SOURCE, "", f"expected a JSON object, got {type(data).__name__}")
    try:
        return _converter().structure(data, ImportJob)
    except cattrs.BaseValidationError as exc:
        path, reason = _first_failure(exc)
        raise PayloadError(_SOURCE, path, reason) from None
    except InvalidJobError as exc:
        raise InvalidJobError(_SOURCE, exc.path, exc.reason) from None
    except (TypeError, ValueError) as exc:
        raise PayloadError(_SOURCE, "", str(exc)) from None


def _first_failure(exc: BaseException, prefix: str = "") -> tuple[str, str]:
    """Walk a cattrs exception group to its first leaf: (path, reason)."""
    import cattrs

    if isinstance(exc, cattrs.BaseValidationError) and exc.exceptions:
        child = exc.exceptions[0]
        note = next(iter(getattr(child, "__notes__", [])), "")
        step = _note_to_path(getattr(note, "name", None), getattr(note, "index", None))
        return _first_failure(child, prefix + step)
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return prefix.lstrip("."), f"unknown keys {sorted(exc.extra_fields)}"
    if isinstance(exc, KeyError):  # the note already named the missing attribute
        return prefix.lstrip("."), "missing required key"
    if isinstance(exc, InvalidJobError):
        return (prefix + f".{exc.path}").lstrip("."), exc.reason
    return prefix.lstrip("."), str(exc) or type(exc).__name__


def _note_to_path(name: object, index: object) -> str:
    if isinstance(name, str):
        return f".{name}"
    if isinstance(index, int):
        return f"[{index}]"
    return ""


def to_json(job: ImportJob, *, indent: int | None = None) -> str:
    """The job as contract JSON text: ASCII only (other characters as ``\\u`` escapes), so any
    string the job holds, even a lone surrogate from a provider, can be written anywhere."""
    return json.dumps(to_dict(job), indent=indent, allow_nan=False)


def from_json(text: str | bytes) -> ImportJob:
    """Rebuild a job from ``to_json`` output; anything else (not strict JSON, nested deeper than
    ``MAX_DEPTH``, not a job) raises ``PayloadError``."""
    try:
        data = loads(text)
    except JSONTextError as exc:
        raise PayloadError(_SOURCE, "", str(exc)) from None
    return from_dict(data)
