"""The public hypothesis strategies do what they promise, and never touch the payload they break."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import timezone
from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from importbridge import ImportJob
from importbridge.jsontext import JSONTextError, loads
from importbridge.provider import NAME_PATTERN
from importbridge.testing import strategies as ibst

PAYLOAD: dict[str, Any] = {
    "status": "done",
    "counts": {"total": 5, "ok": 4, "flag": True},
    "rows": [{"n": 1, "data": {"email": "a@b"}}, {"n": 2, "error": None}],
    "note": "x",
}
ORIGINAL = copy.deepcopy(PAYLOAD)


def _leaves(value: Any) -> int:
    if isinstance(value, dict):
        return sum(_leaves(child) for child in value.values()) + len(value)
    if isinstance(value, list):
        return sum(_leaves(child) for child in value) + len(value)
    return 0


@given(ibst.import_jobs())
def test_import_jobs_are_valid_jobs(job: ImportJob) -> None:
    assert NAME_PATTERN.match(job.provider)
    for moment in (job.created_at, job.started_at, job.finished_at, job.updated_at, job.expires_at):
        assert moment is None or moment.tzinfo is timezone.utc


@given(ibst.import_jobs(provider="acme"))
def test_import_jobs_can_pin_the_provider(job: ImportJob) -> None:
    assert job.provider == "acme"


@given(ibst.json_values())
def test_json_values_survive_strict_json(value: Any) -> None:
    assert json.loads(json.dumps(value, allow_nan=False)) == value


@given(ibst.dropped_keys(PAYLOAD))
def test_dropped_keys_removes_keys_and_leaves_the_original(payload: Any) -> None:
    assert PAYLOAD == ORIGINAL
    assert _leaves(payload) < _leaves(PAYLOAD)


@given(ibst.replaced_values(PAYLOAD))
def test_replaced_values_keeps_every_key(payload: Any) -> None:
    assert PAYLOAD == ORIGINAL
    assert set(payload) == set(PAYLOAD)  # a value changes somewhere; no key goes


@given(ibst.wrong_number_swaps(PAYLOAD))
def test_wrong_numbers_target_integers_only(swap: tuple[ibst.Path, Any]) -> None:
    path, new = swap
    assert path in ibst.integer_paths(PAYLOAD)
    assert ("counts", "flag") not in ibst.integer_paths(PAYLOAD)  # a bool is not an integer leaf
    assert PAYLOAD == ORIGINAL
    replaced = ibst.replace_at(PAYLOAD, path, new)
    node = replaced
    for step in path:
        node = node[step]
    assert node is new


@given(ibst.extra_fields(PAYLOAD))
def test_extra_fields_add_one_prefixed_key(payload: Any) -> None:
    assert PAYLOAD == ORIGINAL
    added = json.dumps(payload).count(f'"{ibst.EXTRA_KEY_PREFIX}')
    assert added == 1


@given(ibst.unknown_status_words(PAYLOAD, {"done", "busy"}))
def test_unknown_status_words_replace_the_word(payload: Any) -> None:
    assert payload["status"].strip().casefold() not in {"done", "busy"}


def test_replace_word_everywhere() -> None:
    payload = {"a": "done", "b": ["done", {"c": "done"}], "d": "x"}
    replaced = ibst.replace_word_everywhere(payload, "done", "?")
    assert payload["a"] == "done"
    assert replaced == {"a": "?", "b": ["?", {"c": "?"}], "d": "x"}


@given(ibst.non_objects())
def test_non_objects_are_not_objects(value: Any) -> None:
    assert not isinstance(value, dict)


@given(ibst.invalid_utf8(PAYLOAD))
def test_invalid_utf8_never_decodes(data: bytes) -> None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return
    raise AssertionError(f"decoded: {data!r}")


@given(ibst.truncated_json(PAYLOAD))
def test_truncated_json_never_parses(text: str | bytes) -> None:
    try:
        json.loads(text)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError alike
        return
    raise AssertionError(f"parsed: {text!r}")


def test_breakers_of_a_scalar_have_nothing_to_break() -> None:
    for breaker in (ibst.dropped_keys, ibst.replaced_values, ibst.wrong_numbers, ibst.extra_fields):
        assert breaker(3).is_empty
    assert ibst.unknown_status_words({"status": 1}, {"done"}).is_empty


@given(st.data())
def test_datetimes_cover_naive_and_aware(data: st.DataObject) -> None:
    value = data.draw(ibst.datetimes())
    assert value.tzinfo is None or value.utcoffset() is not None


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


@given(ibst.recounted(PAYLOAD))
def test_recounted_changes_only_integers_to_small_non_negative_ones(payload: Any) -> None:
    assert PAYLOAD == ORIGINAL
    paths = ibst.integer_paths(ORIGINAL)
    assert ibst.without_keys(payload, paths) == ibst.without_keys(ORIGINAL, paths)  # the rest as it was
    assert ibst.integer_paths(payload) == paths
    for path in paths:
        new, old = payload, ORIGINAL
        for step in path:
            new, old = new[step], old[step]
        assert 0 <= new <= max(3, 2 * old)


@given(ibst.hostile_values(PAYLOAD))
def test_hostile_values_replace_one_node_within_reach(payload: Any) -> None:
    assert PAYLOAD == ORIGINAL
    assert _depth(payload) <= _depth(ORIGINAL) + ibst.MAX_NESTING + 1
    json.dumps(payload)  # within what json can encode (NaN as Python writes it)


@pytest.mark.parametrize(
    "wanted",
    [
        lambda text: text == "NaN",
        lambda text: text == "1e400",
        lambda text: len(text) > 4300 and text.isdigit(),  # beyond int()'s digit limit
        lambda text: any(0xD800 <= ord(char) <= 0xDFFF for char in text),  # a lone surrogate
    ],
)
def test_hostile_texts_include_the_classics(wanted: Callable[[str], bool]) -> None:
    assert wanted(find(ibst.hostile_texts(), wanted, settings=settings(database=None)))


@given(ibst.hostile_json_text(PAYLOAD))
def test_hostile_json_text_is_refused_exactly_when_it_says(case: tuple[bool, str]) -> None:
    refused, text = case
    assert PAYLOAD == ORIGINAL
    try:
        value = loads(text)
    except JSONTextError:
        assert refused, f"refused: {text[:200]}"
        return
    assert not refused, f"accepted: {text[:200]}"
    assert _depth(value) <= _depth(ORIGINAL) + ibst.MAX_NESTING + 1


def test_optional_integer_keys_are_those_whose_removal_is_accepted() -> None:
    def accepts(payload: Any) -> bool:
        return "total" in payload["counts"]  # "total" is required, the rest is optional

    optional = ibst.optional_integer_keys(PAYLOAD, accepts)
    assert optional == [("counts", "ok"), ("rows", 0, "n"), ("rows", 1, "n")]
    stripped = ibst.without_keys(PAYLOAD, [("counts", "ok"), ("rows", 0, "n")])
    assert stripped["counts"] == {"total": 5, "flag": True}
    assert stripped["rows"][0] == {"data": {"email": "a@b"}}
    assert PAYLOAD == ORIGINAL
