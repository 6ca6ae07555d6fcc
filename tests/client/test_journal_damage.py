"""A damaged submit_many journal never imports twice in silence, against the sandbox.

Each test runs half an import (a "kill" after some batches), damages the journal as a disk, a
person or a careless script would, and reruns. The sandbox's own counts decide: the rerun either
resumes with no row imported twice, or stops with a ``CheckpointError`` naming the journal and
the line, having imported nothing. Micro settles lost lines by replaying each batch's request
id (its Idempotency-Key); TalkValue by finding the batch's import by its file name.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import importbridge
from importbridge import CheckpointError, ConfigurationError, sandbox
from importbridge.checkpoint import stamp

ROWS = 60
CHUNK = 10  # 6 batches, each a sync Micro import (under the sandbox's threshold)
KILLED_AFTER = 4  # batches journaled before the "kill"
FAST = importbridge.RetryPolicy(base=0.01, cap=0.05, sleep=lambda _: None)


class Crash(BaseException):
    """A kill: nothing after it runs."""


def rows(provider: str, prefix: str = "r") -> list[dict[str, Any]]:
    if provider == "micro":
        return [{"name": f"{prefix}-{n}", "domain": f"{prefix}{n}.example.com"} for n in range(ROWS)]
    return [{"email": f"{prefix}{n}@example.com", "first_name": f"P{n}"} for n in range(ROWS)]


OPTIONS = {"micro": {}, "talkvalue": {"source_id": 1}}


class Run:
    """One provider in one sandbox: half-runs, reruns and what the sandbox counted."""

    def __init__(self, sb: sandbox.Sandbox, provider: str, path: Path) -> None:
        self.sb, self.provider, self.path = sb, provider, path
        self.client = importbridge.connect(provider, retry=FAST, **sb.settings(provider))

    def submit(self, **extra: Any) -> list[importbridge.ImportJob]:
        return self.client.submit_many(
            rows(self.provider), chunk_size=CHUNK, checkpoint=self.path, **OPTIONS[self.provider], **extra
        )

    def half(self) -> None:
        def kill(index: int, job: importbridge.ImportJob) -> None:
            if index + 1 == KILLED_AFTER:
                raise Crash

        with pytest.raises(Crash):
            self.submit(on_submit=kill)

    def submitted(self) -> int:
        return int(self.sb.state()[self.provider]["rows_submitted"])

    def imports(self) -> int:
        return int(self.sb.state()[self.provider]["imports"])


@pytest.fixture(params=["micro", "talkvalue"])
def run(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Run]:
    with sandbox.run(rate_limit=None, sync_threshold=100, seed=7, providers=[request.param]) as sb:
        half = Run(sb, request.param, tmp_path / "run.ckpt")
        half.half()
        assert half.submitted() == KILLED_AFTER * CHUNK
        yield half
        half.client.close()


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def rechain(entries: list[dict[str, Any]]) -> bytes:
    """Entries as a journal whose numbers and checksums are all consistent (a careful forger)."""
    out, previous = [], ""
    for number, entry in enumerate(entries, start=1):
        fields = {key: value for key, value in entry.items() if key not in ("n", "sum")}
        line, previous = stamp(previous, {**fields, "n": number})
        out.append(line + b"\n")
    return b"".join(out)


def edit(data: bytes, changes: dict[int, Callable[[dict[str, Any]], object]]) -> bytes:
    """``data`` with the entries at the given 0-based lines changed in place (the rest untouched)."""
    split = data.splitlines(keepends=True)
    for index, change in changes.items():
        entry = json.loads(split[index])
        change(entry)
        split[index] = json.dumps(entry, separators=(",", ":")).encode() + b"\n"
    return b"".join(split)


def swap_request_ids(data: bytes) -> bytes:
    first, second = (json.loads(line)["request_id"] for line in data.splitlines()[1:5:2])  # two intents
    return edit(data, {1: lambda entry: entry.update(request_id=second),
                       3: lambda entry: entry.update(request_id=first)})


def forged_request_id(data: bytes) -> bytes:
    entries = [json.loads(line) for line in data.splitlines()]
    entries[1]["request_id"] = "00000000-0000-4000-8000-000000000000"
    return rechain(entries)


def missing_key(data: bytes) -> bytes:
    return edit(data, {2: lambda entry: entry.pop("chunk")})


def wrong_type(data: bytes) -> bytes:
    return edit(data, {1: lambda entry: entry.update(rows="10")})


def not_a_job(data: bytes) -> bytes:
    entries = [json.loads(line) for line in data.splitlines()]
    entries[2]["job"] = {"state": "exploded"}
    return rechain(entries)


def garble(data: bytes) -> bytes:
    split = data.splitlines(keepends=True)
    split[2] = split[2][:20] + b"#%&garbled" + split[2][30:]
    return b"".join(split)


def duplicate(data: bytes) -> bytes:
    split = data.splitlines(keepends=True)
    return b"".join([*split[:4], split[3], *split[4:]])


def remove_middle(data: bytes) -> bytes:
    split = data.splitlines(keepends=True)
    return b"".join([*split[:3], *split[5:]])


def reorder(data: bytes) -> bytes:
    split = data.splitlines(keepends=True)
    return b"".join([split[0], split[3], split[4], split[1], split[2], *split[5:]])


#: damage -> the line the error names (0: the whole file, None: not detectable, the rerun resumes)
DAMAGE: dict[str, tuple[Callable[[bytes], bytes], int | None]] = {
    "emptied": (lambda data: b"", 0),
    "cut to its header": (lambda data: data.splitlines(keepends=True)[0], 1),
    "cut inside its header": (lambda data: data[:40], 0),
    "one line garbled": (garble, 3),
    "request ids swapped": (swap_request_ids, 2),
    "request id forged, checksums redone": (forged_request_id, 2),
    "a key missing": (missing_key, 3),
    "a value of the wrong type": (wrong_type, 2),
    "a job that is no job, checksums redone": (not_a_job, 3),
    "a line duplicated": (duplicate, 5),
    "lines removed from the middle": (remove_middle, 4),
    "lines reordered": (reorder, 2),
    "a CSV file instead": (lambda data: b"name,domain\nacme,acme.example.com\n", 1),
    "cut in half": (lambda data: data[: len(data) // 2], None),
    "cut to a line boundary": (lambda data: b"".join(data.splitlines(keepends=True)[:5]), None),
    "lost entirely": (lambda data: b"", None),  # handled below: the file is deleted
}


@pytest.mark.parametrize("kind", list(DAMAGE))
def test_a_damaged_journal_resumes_without_a_duplicate_or_stops_naming_the_line(run: Run, kind: str) -> None:
    damage, line = DAMAGE[kind]
    damaged = damage(run.path.read_bytes())
    if kind == "lost entirely":
        run.path.unlink()
    else:
        run.path.write_bytes(damaged)
    before = run.submitted()
    if line is None:
        jobs = run.submit()
        assert len(jobs) == ROWS // CHUNK
        assert run.submitted() == ROWS  # the lost batches were recognised, not imported again
        assert run.imports() == ROWS // CHUNK
        return
    with pytest.raises(CheckpointError) as caught:
        run.submit()
    error = caught.value
    assert str(run.path) in str(error)
    assert error.path == str(run.path)
    assert error.line == (line or None)
    if line:
        assert f"line {line}:" in str(error)
    assert run.submitted() == before  # nothing was sent
    assert run.path.read_bytes() == damaged  # and the evidence is left as it was


def test_restart_sets_a_damaged_journal_aside_and_imports_nothing_twice(run: Run) -> None:
    damaged = garble(run.path.read_bytes())
    run.path.write_bytes(damaged)
    with pytest.raises(CheckpointError):
        run.submit()
    jobs = run.submit(restart=True)
    assert len(jobs) == ROWS // CHUNK
    assert run.submitted() == ROWS
    assert Path(f"{run.path}.discarded").read_bytes() == damaged
    assert run.submit() == jobs  # the new journal is whole: a rerun sends nothing
    assert run.submitted() == ROWS


def test_another_runs_journal_is_refused(run: Run) -> None:
    with pytest.raises(CheckpointError, match="another run") as caught:
        run.client.submit_many(rows(run.provider), chunk_size=CHUNK + 1, checkpoint=run.path,
                               **OPTIONS[run.provider])
    assert caught.value.line == 1
    other = run.path.with_name("moved.ckpt")
    other.write_bytes(run.path.read_bytes())
    with pytest.raises(CheckpointError, match="run:"):  # the run id follows the path it began at
        run.client.submit_many(rows(run.provider), chunk_size=CHUNK, checkpoint=other,
                               **OPTIONS[run.provider])
    assert run.submitted() == KILLED_AFTER * CHUNK


def test_the_same_run_id_recognises_the_run_wherever_its_journal_lives(tmp_path: Path) -> None:
    with sandbox.run(rate_limit=None, sync_threshold=100, providers=["micro"]) as sb:
        client = importbridge.connect("micro", retry=FAST, **sb.settings("micro"))
        first = client.submit_many(rows("micro"), chunk_size=CHUNK, checkpoint=tmp_path / "a",
                                   run_id="nightly-2026-12-01")
        again = client.submit_many(rows("micro"), chunk_size=CHUNK, checkpoint=tmp_path / "b",
                                   run_id="nightly-2026-12-01")
        without_journal = client.submit_many(rows("micro"), chunk_size=CHUNK, run_id="nightly-2026-12-01")
        assert sb.state()["micro"]["rows_submitted"] == ROWS
        assert [job.total for job in again] == [job.total for job in first] == [CHUNK] * 6
        assert len(without_journal) == 6
        client.submit_many(rows("micro"), chunk_size=CHUNK, run_id="nightly-2026-12-02")
        assert sb.state()["micro"]["rows_submitted"] == 2 * ROWS  # another run is another import
        client.close()


@pytest.mark.parametrize("bad", ["", 5])
def test_run_id_must_be_a_non_empty_string(bad: Any) -> None:
    with sandbox.run(providers=["micro"]) as sb:
        client = importbridge.connect("micro", **sb.settings("micro"))
        with pytest.raises(ConfigurationError, match="run_id"):
            client.submit_many(rows("micro"), run_id=bad)
        with pytest.raises(ConfigurationError, match="restart"):
            client.submit_many(rows("micro"), restart=True)
        assert sb.state()["micro"]["rows_submitted"] == 0


# -- random damage: truncation anywhere, byte flips anywhere --------------------------------------


@pytest.fixture(scope="module")
def micro_half(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Run, bytes]]:
    with sandbox.run(rate_limit=None, sync_threshold=100, seed=11, providers=["micro"]) as sb:
        half = Run(sb, "micro", tmp_path_factory.mktemp("journal") / "run.ckpt")
        half.half()
        yield half, half.path.read_bytes()
        half.client.close()


def rerun_checks_out(run: Run, damaged: bytes) -> None:
    """Rerun over ``damaged``: a whole import with no row twice, or a CheckpointError sending nothing."""
    run.path.write_bytes(damaged)
    before = run.submitted()
    try:
        jobs, refused = run.submit(), None
    except CheckpointError as error:
        jobs, refused = [], error
    if refused is not None:
        assert str(run.path) in str(refused)
        assert run.submitted() == before
    else:
        assert len(jobs) == ROWS // CHUNK
        assert run.submitted() == ROWS


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_journal_cut_anywhere_never_doubles_an_import(
    micro_half: tuple[Run, bytes], data: st.DataObject
) -> None:
    run, pristine = micro_half
    cut = data.draw(st.integers(min_value=0, max_value=len(pristine)), label="cut")
    rerun_checks_out(run, pristine[:cut])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_flipped_bytes_never_double_an_import(micro_half: tuple[Run, bytes], data: st.DataObject) -> None:
    run, pristine = micro_half
    damaged = bytearray(pristine)
    for _ in range(data.draw(st.integers(min_value=1, max_value=3), label="flips")):
        at = data.draw(st.integers(min_value=0, max_value=len(damaged) - 1), label="at")
        damaged[at] ^= 1 << data.draw(st.integers(min_value=0, max_value=7), label="bit")
    rerun_checks_out(run, bytes(damaged))
