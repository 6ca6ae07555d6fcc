"""The ``submit_many`` checkpoint: an append-only JSON-lines journal, fsync'd line by line.

Lines, in order of writing::

    {"kind": "run", "version": 1, "provider": ..., "chunk_size": ..., "options": <digest>}
    {"kind": "intent", "chunk": 0, "rows": 1000, "digest": <rows digest>, "request_id": <uuid>}
    {"kind": "job", "chunk": 0, "job": <to_dict(job)>}           # the import exists
    {"kind": "void", "chunk": 1}                                  # the provider refused it: nothing landed

An intent written before the request and a job written after it bracket the only moment a kill
can leave in doubt; the intent's ``request_id`` lets an idempotent provider settle that doubt.
A kill can tear at most the last line, which is dropped (and cut off) on the next open.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from .errors import ConfigurationError

__all__ = ["Checkpoint", "Intent", "digest"]

VERSION = 1


def digest(value: Any) -> str:
    """A stable fingerprint of JSON-like data (rows, options), to recognise the same run."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@attrs.frozen(kw_only=True)
class Intent:
    """A chunk about to be submitted: how many rows, which rows, under which request id."""

    chunk: int
    rows: int
    digest: str
    request_id: str


class Checkpoint:
    """One run's journal. ``open`` replays it; ``record_*`` append and fsync one line each."""

    def __init__(self, path: Path, header: Mapping[str, Any]) -> None:
        self.path = path
        self.header = dict(header)
        self.intents: dict[int, Intent] = {}
        self.jobs: dict[int, dict[str, Any]] = {}

    @classmethod
    def open(cls, path: str | os.PathLike[str], header: Mapping[str, Any]) -> Checkpoint:
        """Load ``path`` (creating it with ``header``); a different run's header is an error."""
        checkpoint = cls(Path(path), {"kind": "run", "version": VERSION, **header})
        if checkpoint.path.exists() and checkpoint.path.stat().st_size > 0:
            checkpoint._replay()
        else:
            checkpoint.path.parent.mkdir(parents=True, exist_ok=True)
            checkpoint._append(checkpoint.header)
        return checkpoint

    def _replay(self) -> None:
        raw = self.path.read_bytes()
        *lines, tail = raw.split(b"\n")
        if tail:  # only the last line can be torn (each line is one write): cut it off
            with self.path.open("r+b") as handle:
                handle.truncate(len(raw) - len(tail))
        entries: list[dict[str, Any]] = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                entry = None
            if not isinstance(entry, dict):
                raise ConfigurationError(f"checkpoint {self.path}: line {number} is not a journal entry")
            entries.append(entry)
        if not entries:
            self._append(self.header)
            return
        found = {key: entries[0].get(key) for key in self.header}
        if found != self.header:
            raise ConfigurationError(
                f"checkpoint {self.path} belongs to another run ({_differences(found, self.header)}); "
                "use a new checkpoint path, or the same provider, chunk_size and options"
            )
        for entry in entries[1:]:
            self._apply(entry)

    def _apply(self, entry: Mapping[str, Any]) -> None:
        chunk = int(entry["chunk"])
        kind = entry.get("kind")
        if kind == "intent":
            self.intents[chunk] = Intent(
                chunk=chunk,
                rows=int(entry["rows"]),
                digest=str(entry["digest"]),
                request_id=str(entry["request_id"]),
            )
        elif kind == "job":
            self.jobs[chunk] = dict(entry["job"])
        elif kind == "void":
            self.intents.pop(chunk, None)

    def record_intent(self, intent: Intent) -> None:
        """Journal that ``intent.chunk`` is about to be sent."""
        self._append({"kind": "intent", **attrs.asdict(intent)})
        self.intents[intent.chunk] = intent

    def record_job(self, chunk: int, job: Mapping[str, Any]) -> None:
        """Journal the import that ``chunk`` became (its ``to_dict`` form)."""
        self._append({"kind": "job", "chunk": chunk, "job": dict(job)})
        self.jobs[chunk] = dict(job)

    def record_void(self, chunk: int) -> None:
        """Journal that ``chunk`` was refused outright, so a rerun sends it afresh."""
        self._append({"kind": "void", "chunk": chunk})
        self.intents.pop(chunk, None)

    def _append(self, entry: Mapping[str, Any]) -> None:
        line = (json.dumps(entry, separators=(",", ":"), default=str) + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


def _differences(found: Mapping[str, Any], wanted: Mapping[str, Any]) -> str:
    keys: Sequence[str] = [key for key in wanted if found.get(key) != wanted[key]]
    return ", ".join(f"{key}: {found.get(key)!r} != {wanted[key]!r}" for key in keys)
