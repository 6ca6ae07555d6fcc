"""Long arrays decoded in chunks: the same value and the same errors as ``jsontext.loads``, less memory.

The decode is checked against ``loads`` on documents hypothesis writes: entries whose strings hold
what looks like a cut (``}, {"id"``), nested objects and arrays that open like an entry, pretty-printed
and compact text, every chunk size from one character up; and on the same texts damaged.
"""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Callable
from typing import Any, ClassVar

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import importbridge
from importbridge import InvalidPluginError, LongArray, PayloadError, PayloadReader, Provider, longarrays
from importbridge import plugins as plugins_module
from importbridge.jsontext import MAX_DEPTH, JSONTextError, loads
from importbridge.longarrays import decode, paths

#: text that a cut looks for, inside strings, keys and nested values
_TRAPS = ['}, {"id": 1}', "},", '"}, {"', "]", "[{", "\\", '\\"}, {"id"', "}\n,\n{", "é", "\u2028", "😀"]

_text = st.one_of(
    st.text(max_size=12), st.sampled_from(_TRAPS), st.lists(st.sampled_from(_TRAPS)).map("".join)
)
_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    _text,
)
_json = st.recursive(
    _scalar,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_text, inner, max_size=3)),
    max_leaves=8,
)
#: an entry of a row array: usually an object that opens like its neighbours ("id" first)
_entry = st.one_of(
    st.builds(lambda rest, id_: {"id": id_, **rest}, st.dictionaries(_text, _json, max_size=3), _json),
    st.dictionaries(_text, _json, max_size=3),
    _json,
)
_rows = st.lists(_entry, max_size=25)


def _dump(value: Any, style: int) -> str:
    """Compact, spaced, or pretty-printed (indents make every entry open alike)."""
    if style == 0:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if style == 1:
        return json.dumps(value)
    if style == 5:  # space around every comma and colon
        return json.dumps(value, separators=(" , ", " : "))
    return json.dumps(value, indent=style - 1)


def _chunks_seen() -> tuple[list[list[Any]], Callable[[list[Any]], object]]:
    seen: list[list[Any]] = []

    def check(chunk: list[Any]) -> object:
        seen.append(list(chunk))
        return len(chunk), sum(type(entry) is dict for entry in chunk)

    return seen, check


@settings(max_examples=300)
@given(rows=_rows, other=_json, style=st.integers(0, 5), chunk=st.integers(1, 300))
@example(rows=[{"id": '}, {"id": 1}'}, {"id": 2}], other=None, style=1, chunk=1)
@example(rows=[{"id": [{"id": 1}, {"id": 2}]}, {"id": 3}], other=None, style=1, chunk=1)
def test_decode_equals_loads_and_checks_every_chunk_once(
    rows: list[Any], other: Any, style: int, chunk: int
) -> None:
    document = {"before": other, "results": rows, "after": other, "nested": {"results": rows}}
    text = _dump(document, style)
    checks = [_chunks_seen(), _chunks_seen()]
    value = decode(text, paths({"results": checks[0][1], "nested.results": checks[1][1]}), chunk)
    assert value == loads(text)
    for array, (seen, check) in zip([value["results"], value["nested"]["results"]], checks, strict=True):
        if type(array) is list:  # empty, or short enough to be read whole (no check needed)
            assert array == rows
            assert not seen
            continue
        assert type(array) is LongArray
        assert [entry for part in seen for entry in part] == rows  # each entry checked once, in order
        parts = list(array.chunks())
        assert parts == seen  # read again: the very chunks the check saw
        assert array.fold(check) == [check(part) for part in parts]
        assert array.objects == all(type(entry) is dict for entry in rows)


@settings(max_examples=300)
@given(rows=_rows, style=st.integers(0, 3), chunk=st.integers(1, 200), data=st.data())
def test_damaged_text_fails_as_loads_fails(
    rows: list[Any], style: int, chunk: int, data: st.DataObject
) -> None:
    text = _dump({"status": "complete", "results": rows}, style)
    at = data.draw(st.integers(0, len(text)))
    how = data.draw(st.sampled_from(["cut", "drop", "insert"]))
    if how == "cut":
        text = text[:at]
    elif how == "drop":
        text = text[:at] + text[at + 1 :]
    else:
        text = text[:at] + data.draw(st.sampled_from(list('{}[],:"\\ x0'))) + text[at:]
    _, check = _chunks_seen()
    outcomes = []
    for read in (loads, lambda text: decode(text, paths({"results": check}), chunk)):
        try:
            outcomes.append(("value", read(text)))
        except JSONTextError as error:
            outcomes.append(("error", str(error)))
    assert outcomes[1] == outcomes[0]


@pytest.mark.parametrize(
    "text",
    [
        b'{"results": [{"a": 1}, {"a": "\xff"}]}',  # not UTF-8
        '{"results": [{"a": NaN}, {"a": 2}]}',  # a value JSON does not have
        '{"results": [{"a": 1e400}, {"a": 2}]}',  # out of a float's range
        '{"results": [{"a": 1}, {"a": 2}]} x',  # extra data
        '{"results": [{"a": 1}, {"a": 2}], "results": [{"b": 1}, {"b": 2}]',  # cut short
        '{"results": [' + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + ', {"a": 1}]}',  # too deep
    ],
)
def test_refused_texts_raise_what_loads_raises(text: str | bytes) -> None:
    with pytest.raises(JSONTextError) as expected:
        loads(text)
    _, check = _chunks_seen()
    with pytest.raises(JSONTextError) as caught:
        decode(text, paths({"results": check}), 1)
    assert str(caught.value) == str(expected.value)


def test_a_repeated_key_keeps_the_last_value_as_loads_does() -> None:
    text = '{"results": [{"a": 1}, {"a": 2}], "results": [{"b": 1}, {"b": 2}, {"b": 3}]}'
    _, check = _chunks_seen()
    value = decode(text, paths({"results": check}), 1)
    assert value == loads(text)
    assert len(value["results"]) == 3


def _long(rows: list[Any], chunk: int = 1) -> LongArray:
    _seen, check = _chunks_seen()
    array = decode(json.dumps({"results": rows}), paths({"results": check}), chunk)["results"]
    assert type(array) is LongArray
    return array


def test_a_long_array_reads_as_the_list_it_stands_for() -> None:
    rows = [{"id": str(n), "n": n} for n in range(10)]
    array = _long(rows)
    assert len(array) == 10
    assert array[0] == rows[0]
    assert array[9] == rows[9]
    assert array[-1] == rows[-1]
    assert array[-10] == rows[0]
    assert array[2:5] == rows[2:5]
    assert array[::-3] == rows[::-3]
    assert list(array) == rows
    assert list(reversed(array)) == rows[::-1]
    assert array == rows
    assert rows == array
    assert array == _long(rows, 2)
    assert array != rows[:-1]
    assert array != [*rows[:-1], {"id": "x"}]
    assert array != tuple(rows)  # a JSON array equals a list, as json.loads' lists do
    assert array.index(rows[4]) == 4
    assert rows[3] in array
    assert array.count(rows[1]) == 1
    for wrong in (10, -11):
        with pytest.raises(IndexError):
            array[wrong]
    with pytest.raises(TypeError):
        hash(array)
    assert repr(array) == "<LongArray: 10 entries in 10 chunks>"
    for copied in (copy.copy(array), copy.deepcopy(array), pickle.loads(pickle.dumps(array))):
        assert type(copied) is list
        assert copied == rows
    assert json.dumps(list(array)) == json.dumps(rows)
    with pytest.raises(TypeError):
        json.dumps(array)  # says so, rather than writing an empty array


def test_each_read_decodes_afresh_so_a_reader_cannot_change_the_payload() -> None:
    array = _long([{"id": "1"}, {"id": "2"}])
    array[0]["id"] = "changed"
    next(iter(array))["id"] = "changed"
    assert list(array) == [{"id": "1"}, {"id": "2"}]


def test_fold_answers_the_providers_check_from_memory_and_any_other_by_reading() -> None:
    calls: list[int] = []

    def count(chunk: list[Any]) -> object:
        calls.append(len(chunk))
        return len(chunk)

    array = decode(json.dumps({"results": [{"a": n} for n in range(7)]}), paths({"results": count}), 1)[
        "results"
    ]
    assert calls == [1] * 7
    assert PayloadReader.fold(array, count) == [1] * 7
    assert calls == [1] * 7
    assert PayloadReader.fold(array, len) == [1] * 7
    assert PayloadReader.fold([{"a": 1}, {"a": 2}], len) == [2]
    assert PayloadReader.fold(({"a": 1},), list) == [[{"a": 1}]]


def test_readers_take_a_long_array_as_an_array_of_objects() -> None:
    rows = [{"id": str(n)} for n in range(5)]
    payload = {"results": _long(rows), "mixed": _long([{"id": "1"}, 2, {"id": "3"}])}
    reader = PayloadReader("acme", payload)
    assert reader.objects("results") is payload["results"]
    assert reader.array("results") is payload["results"]
    assert reader.item("results", 3).string("id") == "3"
    with pytest.raises(PayloadError, match=r"mixed\[1\]: expected an object, got integer 2"):
        reader.objects("mixed")


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"a..b": len}, "empty step"),
        ({"": len}, "empty step"),
        ({"a": len, "a.b": len}, "inside another"),
        ({"a.b": len, "a": len}, "overlaps"),
        ({"a": "len"}, "must be callable"),
    ],
)
def test_malformed_paths_are_refused(arrays: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        paths(arrays)


def test_paths_read_keys_and_every_element() -> None:
    assert paths({"a.b[].c": len, "a.d": list, "[]": len}) == {
        "a": {"b": {"[]": {"c": len}}, "d": list},
        "[]": len,
    }


class _Listed(Provider):
    """A plugin whose long ``items`` are counted chunk by chunk (and whose paths may be wrong)."""

    name = "listed"
    arrays: ClassVar[dict[str, Any]] = {}

    def row_arrays(self) -> dict[str, Any]:
        return self.arrays

    def normalize(self, payload: Any) -> importbridge.ImportJob:
        reader = PayloadReader(self.name, payload)
        entries = reader.objects("items")
        total = sum(PayloadReader.fold(entries, len)) if entries else 0  # type: ignore[misc]
        return importbridge.ImportJob(
            provider=self.name,
            state=importbridge.JobState.RUNNING,
            provider_state="running",
            total=total,
            raw=payload,
        )


@pytest.fixture
def listed(monkeypatch: pytest.MonkeyPatch) -> _Listed:
    monkeypatch.setattr(longarrays, "LONG_TEXT", 0)
    monkeypatch.setattr(plugins_module, "BULK_TEXT", 0)  # (where normalize hands text to longarrays)
    provider = _Listed()
    importbridge.register(provider)
    yield provider
    plugins_module._registry.unregister(provider.name)


def test_normalize_decodes_a_declared_array_in_chunks(
    listed: _Listed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listed, "arrays", {"items": len})
    text = json.dumps({"items": [{"n": n} for n in range(20_000)]})
    job = importbridge.normalize("listed", text)
    assert job.total == 20_000
    assert type(job.raw["items"]) is LongArray
    assert len(job.raw["items"].fold(len)) > 1
    assert job.raw == json.loads(text)


def test_a_plugins_malformed_row_arrays_is_its_own_error(
    listed: _Listed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listed, "arrays", {"items..x": len})
    with pytest.raises(InvalidPluginError, match=r"provider 'listed': row_arrays\(\): .*empty step"):
        importbridge.normalize("listed", b'{"items": []}')


@pytest.mark.parametrize("separators", [(",", ":"), (" , ", " : "), ("\n,\n", ":")])
def test_entries_are_cut_whatever_space_surrounds_their_commas(separators: tuple[str, str]) -> None:
    rows = [{"id": str(n), "n": n} for n in range(50)]
    seen, check = _chunks_seen()
    array = decode(json.dumps({"results": rows}, separators=separators), paths({"results": check}), 40)[
        "results"
    ]
    assert array == rows
    assert len(seen) > 10  # cut, not read whole


def test_a_check_that_raises_is_the_plugins_error(listed: _Listed, monkeypatch: pytest.MonkeyPatch) -> None:
    def careless(chunk: list[Any]) -> object:
        return [entry["n"] for entry in chunk]

    monkeypatch.setattr(listed, "arrays", {"items": careless})
    with pytest.raises(
        InvalidPluginError, match=r"provider 'listed': a row_arrays\(\) check raised TypeError"
    ):
        importbridge.normalize("listed", json.dumps({"items": [{"n": 1}, 5, *([{"n": 2}] * 20_000)]}))
    with pytest.raises(TypeError):  # decode itself hands the check's error on as it is
        decode(json.dumps({"items": [{"n": 1}, 5]}), paths({"items": careless}), 1)


def test_entries_whose_keys_come_in_any_order_are_cut_too() -> None:
    orders = (("id", "n"), ("n", "id"))
    rows = [{key: {"id": str(n), "n": n}[key] for key in orders[n % 2]} for n in range(1, 60)]
    rows[0] = {"first": True}  # no other entry opens as the first does
    seen, check = _chunks_seen()
    array = decode(json.dumps({"results": rows}), paths({"results": check}), 40)["results"]
    assert array == rows
    assert len(seen) > 10  # cut at any entry's end, not read whole


def test_a_short_array_is_read_whole_as_a_list() -> None:
    tables = [{"errors": [{"line": n, "table": t} for n in range(t % 5)]} for t in range(300)]
    seen, check = _chunks_seen()
    value = decode(json.dumps({"tables": tables}), paths({"tables[].errors": check}))
    assert value == {"tables": tables}
    assert all(type(table["errors"]) is list for table in value["tables"])
    assert not seen  # nothing long, nothing checked: the adapter's fold checks each list itself
