"""The ``submit_many`` checkpoint: an append-only JSON-lines journal, fsync'd line by line.

Lines, in order of writing (journal version 2)::

    {"kind": "run", "version": 2, "provider": ..., "chunk_size": ..., "options": <digest>, "run": <run id>}
    {"kind": "intent", "chunk": 0, "rows": 1000, "digest": <rows digest>, "attempt": 0, "request_id": <id>}
    {"kind": "job", "chunk": 0, "job": <to_dict(job)>}           # the import exists
    {"kind": "void", "chunk": 1}                                  # the provider refused it: nothing landed

and every line also carries ``n`` (its 1-based line number) and, last, ``sum`` (a checksum of
the line's bytes chained through the previous line's ``sum``), so a line edited, garbled,
removed, duplicated or moved is found.

An intent written before the request and a job written after it bracket the only moment a kill
can leave in doubt; the intent's ``request_id`` lets the provider settle that doubt. Request ids
are not random: ``request_id`` derives them from the run and the batch, so a rerun, even one
whose journal was lost, sends each batch under the id it had before (see docs/client.md).

The file is created with its header and first intent in one atomic rename, so a journal that is
empty or holds only its header was damaged (or is not ours). A kill can tear at most the last
line, which is dropped (and cut off) on the next open, once every complete line checked out.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from .convert import from_dict
from .errors import CheckpointError, PayloadError
from .model import ImportJob

__all__ = ["Checkpoint", "Intent", "digest", "request_id", "run_id", "stamp"]

VERSION = 2
#: the uuid5 namespace of every id importbridge derives (a fixed, arbitrary UUID)
NAMESPACE = uuid.UUID("6f1c9a52-3d0e-4b8a-9f65-2c7d1e0b4a93")

#: each kind of line: its fields and their types (``n`` and ``sum`` on every line besides)
FIELDS: dict[str, dict[str, type]] = {
    "run": {"version": int, "provider": str, "chunk_size": int, "options": str, "run": str},
    "intent": {"chunk": int, "rows": int, "digest": str, "attempt": int, "request_id": str},
    "job": {"chunk": int, "job": dict},
    "void": {"chunk": int},
}
RESTART = ("Check the provider for this run's batches, then rerun with restart=True (--restart) "
           "to set the journal aside and start over under the same request ids")
PATH = "Give a checkpoint path of a file that can be read and written"
RUN_DIFFERS = "run: it was begun at another checkpoint path or under another run_id"
DESCRIBED: dict[type, str] = {int: "a non-negative integer", str: "a string", dict: "an object"}


def digest(value: Any) -> str:
    """A stable fingerprint of JSON-like data (rows, options), to recognise the same run."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=repr, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def run_id(key: str, provider: str, chunk_size: int, options_digest: str) -> str:
    """The run's id: from what names the run (the caller's ``run_id``, else the checkpoint's
    absolute path) and the settings that shape its batches, so the same call gets it again."""
    return str(uuid.uuid5(NAMESPACE, json.dumps(["run", key, provider, chunk_size, options_digest])))


def request_id(run: str, chunk: int, rows_digest: str, attempt: int) -> str:
    """Batch ``chunk``'s request id: the same run, batch, rows and attempt give the same id.

    ``attempt`` counts the provider's outright refusals of this batch, so a batch sent again
    after a 4xx is a new request, not a replay of the refusal.
    """
    return str(uuid.uuid5(NAMESPACE, json.dumps(["batch", run, chunk, rows_digest, attempt])))


@attrs.frozen(kw_only=True)
class Intent:
    """A chunk about to be submitted: how many rows, which rows, under which request id."""

    chunk: int
    rows: int
    digest: str
    attempt: int
    request_id: str


class Checkpoint:
    """One run's journal. ``open`` replays and checks it; ``record_*`` append and fsync one line each."""

    def __init__(self, path: Path, header: Mapping[str, Any]) -> None:
        self.path = path
        self.header = {"kind": "run", "version": VERSION, **header}
        self.intents: dict[int, Intent] = {}  # each batch's last send (in doubt until it has a job)
        self.jobs: dict[int, ImportJob] = {}
        self.voids: dict[int, int] = {}  # refusals per chunk: the next attempt's number
        self._lines = 0
        self._sum = ""
        self._created = False

    @property
    def run(self) -> str:
        return str(self.header["run"])

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], header: Mapping[str, Any], *, restart: bool = False
    ) -> Checkpoint:
        """Load and check ``path``; a missing file is created by the first ``record_intent``.

        A damaged journal, or one of another run, raises ``CheckpointError``; ``restart`` sets
        an existing file aside as ``<path>.discarded`` and begins a new journal instead.
        """
        checkpoint = cls(Path(path), header)
        if restart and checkpoint.path.is_file():
            os.replace(checkpoint.path, f"{checkpoint.path}.discarded")
        if checkpoint.path.exists():
            checkpoint._replay()
            checkpoint._created = True
        return checkpoint

    def attempt(self, chunk: int) -> int:
        """The attempt number of ``chunk``'s next send (how often the provider refused it)."""
        return self.voids.get(chunk, 0)

    # -- reading -------------------------------------------------------------------------------

    def _fail(self, line: int | None, problem: str, advice: str = RESTART) -> CheckpointError:
        where = f"{self.path}" if line is None else f"{self.path} line {line}"
        return CheckpointError(
            f"checkpoint {where}: {problem}; nothing was sent. {advice}", path=str(self.path), line=line
        )

    def _replay(self) -> None:
        try:
            raw = self.path.read_bytes()
        except OSError as error:
            raise self._fail(None, f"cannot be read ({error.strerror or error})", PATH) from None
        *lines, tail = raw.split(b"\n")
        if not lines:
            problem = "is empty" if not raw else "ends before its first line does"
            raise self._fail(None, f"{problem}: not a journal importbridge wrote, or one cut short")
        for number, line in enumerate(lines, start=1):
            self._check(number, self._parse(number, line))
        if self._lines == 1:
            raise self._fail(1, "the journal holds its header but no batch (importbridge writes "
                                "the first batch's intent with the header): it was cut short")
        if tail:  # only the last line can be torn by a kill (each line is one write): cut it off
            with self.path.open("r+b") as handle:
                handle.truncate(len(raw) - len(tail))

    def _parse(self, number: int, line: bytes) -> dict[str, Any]:
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            entry = None
        if not isinstance(entry, dict):
            raise self._fail(number, "is not a journal entry (not a JSON object)")
        if number == 1 and (entry.get("kind") != "run" or "version" not in entry):
            raise self._fail(1, "is not an importbridge journal header")
        if number == 1 and entry.get("version") != VERSION:
            raise self._fail(1, f"is a version {entry.get('version')!r} journal; this importbridge "
                                f"reads version {VERSION} (finish that run with the version that began it)")
        kind = entry.get("kind")
        fields = FIELDS.get(kind) if isinstance(kind, str) else None
        if fields is None:
            raise self._fail(number, f"has an unknown kind {kind!r}")
        for name, wanted in {**fields, "n": int, "sum": str}.items():
            if not _fits(entry.get(name), wanted):
                raise self._fail(number, f"{name} must be {DESCRIBED[wanted]}, got {entry.get(name)!r}")
        if entry["n"] != number:
            raise self._fail(number, f"says it is line {entry['n']}: lines were removed, duplicated or "
                                     "reordered")
        tail = _sum_tail(entry["sum"])
        if not line.endswith(tail) or _checksum(self._sum, line[: -len(tail)] + b"}") != entry["sum"]:
            raise self._fail(number, "does not match its checksum: the line was edited or damaged, "
                                     "or the lines before it were")
        self._sum = entry["sum"]
        self._lines = number
        return entry

    def _check(self, number: int, entry: dict[str, Any]) -> None:
        """Apply one checked entry, refusing what no run of importbridge could have written."""
        kind = entry["kind"]
        if number == 1:
            self._check_header(entry)
            return
        if kind == "run":
            raise self._fail(number, "is a second header")
        chunk = entry["chunk"]
        if kind == "intent":
            if chunk in self.jobs or chunk in self.intents:
                raise self._fail(number, f"sends batch {chunk} again, which the journal already holds")
            intent = Intent(**{name: entry[name] for name in FIELDS["intent"]})
            expected = request_id(self.run, chunk, intent.digest, intent.attempt)
            if intent.attempt != self.attempt(chunk) or intent.request_id != expected:
                raise self._fail(number, f"names request id {intent.request_id} for batch {chunk}, "
                                         "not the one this run derives for it")
            self.intents[chunk] = intent
        elif chunk not in self.intents or chunk in self.jobs:
            raise self._fail(number, f"records a {kind} for batch {chunk}, which was not in doubt")
        elif kind == "job":
            try:
                self.jobs[chunk] = from_dict(entry["job"])
            except (PayloadError, RecursionError) as error:
                raise self._fail(number, f"holds a job that is not one ({error})") from None
        else:  # void: refused outright, nothing landed
            del self.intents[chunk]
            self.voids[chunk] = self.attempt(chunk) + 1

    def _check_header(self, entry: dict[str, Any]) -> None:
        differences = [
            RUN_DIFFERS if key == "run" else f"{key}: {entry.get(key)!r} != {value!r}"
            for key, value in self.header.items()
            if entry.get(key) != value
        ]
        if differences:
            raise CheckpointError(
                f"checkpoint {self.path} belongs to another run ({'; '.join(differences)}); use a "
                "new checkpoint path, or the same provider, chunk_size, options and run_id",
                path=str(self.path),
                line=1,
            )

    # -- writing -------------------------------------------------------------------------------

    def record_intent(self, intent: Intent) -> None:
        """Journal that ``intent.chunk`` is about to be sent (the first one creates the file)."""
        self._append({"kind": "intent", **attrs.asdict(intent)})
        self.intents[intent.chunk] = intent

    def record_job(self, chunk: int, job: ImportJob, payload: Mapping[str, Any]) -> None:
        """Journal the import that ``chunk`` became (``payload``: its ``to_dict`` form)."""
        self._append({"kind": "job", "chunk": chunk, "job": dict(payload)})
        self.jobs[chunk] = job

    def record_void(self, chunk: int) -> None:
        """Journal that ``chunk`` was refused outright, so a rerun sends it afresh."""
        self._append({"kind": "void", "chunk": chunk})
        self.intents.pop(chunk, None)
        self.voids[chunk] = self.attempt(chunk) + 1

    def _line(self, entry: Mapping[str, Any]) -> bytes:
        self._lines += 1
        line, self._sum = stamp(self._sum, {**entry, "n": self._lines})
        return line + b"\n"

    def _append(self, entry: Mapping[str, Any]) -> None:
        if not self._created:
            try:
                self._create(self._line(self.header) + self._line(entry))
            except OSError as error:
                raise self._fail(None, f"cannot be created ({error.strerror or error})", PATH) from None
            return
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND, 0o600)
        try:
            _write(fd, self._line(entry))
        finally:
            os.close(fd)

    def _create(self, lines: bytes) -> None:
        """Write the header and first entry to a new file in one step (a kill leaves none or both)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.new")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write(fd, lines)
        finally:
            os.close(fd)
        os.replace(partial, self.path)
        with contextlib.suppress(OSError):  # make the rename durable where directories can be synced
            directory = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        self._created = True


def _write(fd: int, data: bytes) -> None:
    """All of ``data`` (``os.write`` may write less), then fsync."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    os.fsync(fd)


def _fits(value: object, wanted: type) -> bool:
    """``value`` is of type ``wanted`` (a bool is no integer, and no count is negative)."""
    if isinstance(value, bool) or not isinstance(value, wanted):
        return False
    return not isinstance(value, int) or value >= 0


def stamp(previous: str, entry: Mapping[str, Any]) -> tuple[bytes, str]:
    """``entry`` as one journal line (no newline) that ends in its ``sum``, and that sum."""
    body = json.dumps(entry, separators=(",", ":"), default=str).encode("utf-8")
    checksum = _checksum(previous, body)
    return body[:-1] + _sum_tail(checksum), checksum


def _sum_tail(checksum: str) -> bytes:
    return b',"sum":"' + checksum.encode("utf-8") + b'"}'


def _checksum(previous: str, body: bytes) -> str:
    """The first 32 hex digits of SHA-256 over the previous line's sum, a newline, and this
    line's bytes as they would be without their ``sum``: a chain through the whole file."""
    return hashlib.sha256(previous.encode("utf-8") + b"\n" + body).hexdigest()[:32]
