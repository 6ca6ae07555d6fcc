"""Checks the three providers' normalize tests share: how a payload is rejected, and how well.

Imported by the test modules of ``tests/providers/<name>/`` (pytest puts this folder on
``sys.path`` for them); each binds its provider name with ``functools.partial``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import importbridge
import importbridge.plugins
from importbridge import LongArray, PayloadError, longarrays


def rejected(provider: str, path: str, payload: Any) -> PayloadError:
    """Assert ``payload`` is rejected at exactly ``path``, naming ``provider``; return the error."""
    with pytest.raises(PayloadError) as caught:
        importbridge.get_provider(provider).normalize(payload)
    assert caught.value.provider == provider
    assert caught.value.path == path, str(caught.value)
    assert path in str(caught.value)
    return caught.value


def outcome(provider: str, payload: Any) -> importbridge.ImportJob | PayloadError:
    """What normalize makes of ``payload``: a job, or the PayloadError it raised (nothing else)."""
    try:
        return importbridge.get_provider(provider).normalize(payload)
    except PayloadError as exc:
        return exc


def assert_well_formed(provider: str, error: PayloadError) -> None:
    """The error names the provider, the path and a reason, in the documented message shape."""
    assert error.provider == provider
    assert error.reason
    assert str(error) == f"{provider} payload: {error.path or '<payload>'}: {error.reason}"


# -- long payloads (``Provider.row_arrays``) ----------------------------------------------------

#: the text length from which these tests' payloads take the chunked path (2 MiB in use): a
#: payload of 8,000 rows is then about ten chunks of the default size
LONG_TEXT = 1024


def long_outcome(
    provider: str, text: str, monkeypatch: pytest.MonkeyPatch
) -> importbridge.ImportJob | PayloadError:
    """What ``importbridge.normalize`` makes of ``text`` as a long payload (row arrays decoded in
    chunks, kept as ``LongArray``), rows built; or the PayloadError it raised."""
    monkeypatch.setattr(longarrays, "LONG_TEXT", LONG_TEXT)
    try:
        job = importbridge.normalize(provider, text)
        job.rows  # noqa: B018 (built from the LongArray, chunk by chunk)
    except PayloadError as exc:
        return exc
    return job


def assert_alike_when_long(
    provider: str, payload: Any, monkeypatch: pytest.MonkeyPatch
) -> importbridge.ImportJob | PayloadError:
    """``payload`` as a long text gives what its decoded dict gives: the same job, rows and
    ``to_dict``, or the same PayloadError (message and path). Returns the long text's outcome."""
    text = json.dumps(payload)
    tree = longarrays.paths(importbridge.get_provider(provider).row_arrays())
    assert next(long_arrays(longarrays.decode(text, tree)), None) is not None, "not the chunked path"
    long = long_outcome(provider, text, monkeypatch)
    plain = outcome(provider, json.loads(text))
    if isinstance(plain, PayloadError):
        assert isinstance(long, PayloadError), f"accepted as a long text, but as a dict: {plain}"
        assert (str(long), long.path) == (str(plain), plain.path)
        return long
    assert not isinstance(long, PayloadError), f"rejected as a long text: {long}"
    assert long.rows == plain.rows
    assert long == plain
    assert importbridge.to_dict(long) == importbridge.to_dict(plain)
    return long


def long_arrays(value: Any) -> Iterator[LongArray]:
    """The ``LongArray`` objects in a job's ``raw``, at any depth."""
    if isinstance(value, LongArray):
        yield value
    elif isinstance(value, dict):
        for child in value.values():
            yield from long_arrays(child)
    elif isinstance(value, list):
        for child in value:
            yield from long_arrays(child)


def chunk_counts(job: importbridge.ImportJob) -> list[int]:
    """How many chunks each of the job's long row arrays was decoded in (proof of the path taken)."""
    return [sum(1 for _ in array.chunks()) for array in long_arrays(job.raw)]
