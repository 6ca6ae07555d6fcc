"""The journal file itself: whatever bytes it holds, opening it either succeeds or raises
``CheckpointError`` naming the file (never KeyError, TypeError or RecursionError), and it
never touches a file it refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from importbridge import CheckpointError, ImportJob, JobState, to_dict
from importbridge.checkpoint import FIELDS, Checkpoint, Intent, request_id, run_id, stamp

RUN = run_id("key", "ledger", 4, "0" * 64)
HEADER = {"provider": "ledger", "chunk_size": 4, "options": "0" * 64, "run": RUN}
HEADER_LINE = {"kind": "run", "version": 2, **HEADER}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-3, max_value=5) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
field_names = st.sampled_from(sorted({name for fields in FIELDS.values() for name in fields} | {"n", "sum"}))
entries = st.builds(
    lambda kind, fields: {**fields, "kind": kind},
    st.sampled_from([*FIELDS, "other"]),
    st.dictionaries(field_names, json_values, max_size=7),
)

DIGESTS = ["a" * 64, "b" * 64]
VALID_JOB = to_dict(
    ImportJob(provider="ledger", id="1", state=JobState.COMPLETE, provider_state="done", total=4)
)
# entries whose fields all have the right types, so the checks of sequence and derivation run
typed_values: dict[type, st.SearchStrategy[Any]] = {
    int: st.integers(min_value=0, max_value=2),
    str: st.sampled_from([
        *DIGESTS, "x",
        *(request_id(HEADER["run"], chunk, digest, attempt)
          for chunk in range(2) for digest in DIGESTS for attempt in range(2)),
    ]),
    dict: st.sampled_from([VALID_JOB, {}, {"state": "exploded"}]),
}
typed_entries = st.sampled_from(sorted(FIELDS)).flatmap(
    lambda kind: st.fixed_dictionaries({name: typed_values[kind_] for name, kind_ in FIELDS[kind].items()})
    .map(lambda fields: {**fields, "kind": kind})
)


def chained(lines: list[dict[str, Any]]) -> bytes:
    out, previous = [], ""
    for number, entry in enumerate(lines, start=1):
        fields = {key: value for key, value in entry.items() if key not in ("n", "sum")}
        line, previous = stamp(previous, {**fields, "n": number})
        out.append(line + b"\n")
    return b"".join(out)


def opens_or_refuses(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        Checkpoint.open(path, HEADER)
        refused = None
    except CheckpointError as error:
        refused = error
    if refused is not None:
        assert str(path) in str(refused)
        assert path.read_bytes() == data  # a refused file is left as it was


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(entries, max_size=6), header=st.booleans(), chain=st.booleans())
def test_any_entries_open_or_raise_checkpoint_error(tmp_path_factory: Any, lines: list[dict[str, Any]],
                                                    header: bool, chain: bool) -> None:
    lines = [HEADER_LINE, *lines] if header else lines
    data = chained(lines) if chain else b"".join(json.dumps(line).encode() + b"\n" for line in lines)
    opens_or_refuses(tmp_path_factory.mktemp("cp") / "journal", data)


@settings(max_examples=150, deadline=None)
@given(lines=st.lists(typed_entries, max_size=6))
def test_well_typed_entries_in_any_order_open_or_raise_checkpoint_error(
    tmp_path_factory: Any, lines: list[dict[str, Any]]
) -> None:
    opens_or_refuses(tmp_path_factory.mktemp("cp") / "journal", chained([HEADER_LINE, *lines]))


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=300))
def test_any_bytes_open_or_raise_checkpoint_error(tmp_path_factory: Any, data: bytes) -> None:
    opens_or_refuses(tmp_path_factory.mktemp("cp") / "journal", data)


def test_deep_nesting_is_a_checkpoint_error(tmp_path: Path) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    opens_or_refuses(tmp_path / "journal", chained([HEADER_LINE])[:-1] + b"\n" + deep + b"\n")


def test_a_well_formed_journal_replays(tmp_path: Path) -> None:
    digest = "a" * 64
    intent = {"kind": "intent", "chunk": 0, "rows": 4, "digest": digest, "attempt": 0,
              "request_id": request_id(HEADER["run"], 0, digest, 0)}
    retry = {**intent, "attempt": 1, "request_id": request_id(HEADER["run"], 0, digest, 1)}
    path = tmp_path / "journal"
    path.write_bytes(chained([HEADER_LINE, intent, {"kind": "void", "chunk": 0}, retry]))
    journal = Checkpoint.open(path, HEADER)
    assert journal.intents[0].attempt == 1
    assert journal.attempt(0) == 1
    assert journal.jobs == {}


def test_a_checkpoint_that_cannot_be_read_or_created_is_a_checkpoint_error(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="cannot be read"):
        Checkpoint.open(tmp_path, HEADER)  # a directory
    (tmp_path / "file").write_text("")
    journal = Checkpoint.open(tmp_path / "file" / "journal", HEADER)
    digest = "a" * 64
    with pytest.raises(CheckpointError, match="cannot be created"):
        journal.record_intent(Intent(chunk=0, rows=1, digest=digest, attempt=0,
                                     request_id=request_id(RUN, 0, digest, 0)))


def test_restart_never_moves_a_directory(tmp_path: Path) -> None:
    (tmp_path / "keep").mkdir()
    with pytest.raises(CheckpointError, match="cannot be read"):
        Checkpoint.open(tmp_path / "keep", HEADER, restart=True)
    assert (tmp_path / "keep").is_dir()
