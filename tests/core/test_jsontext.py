"""Strict JSON text: no NaN / Infinity, no overflow, no number too long, no nesting beyond MAX_DEPTH."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importbridge import PayloadError, normalize
from importbridge.jsontext import MAX_DEPTH, JSONTextError, _deeper_than, loads


def depth(value: Any) -> int:
    """The reference: how many containers nest, read from the decoded value."""
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


# Strings full of what the text-level depth check must see through: brackets, quotes, escapes.
tricky_text = st.text(alphabet='[]{}"\\ab\n\u00e9', max_size=6)
values = st.recursive(
    st.none() | st.integers() | tricky_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(tricky_text, children, max_size=3),
    max_leaves=40,
)


@given(values, st.integers(min_value=0, max_value=8), st.booleans(), st.booleans())
def test_the_depth_check_agrees_with_the_decoded_value(
    value: Any, limit: int, ascii_only: bool, as_bytes: bool
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    raw = text.encode("utf-8") if as_bytes else None
    assert _deeper_than(text, raw, limit) is (depth(value) > limit)


@pytest.mark.parametrize("wrap", ["[{}]", '{{"a": {}}}'])
def test_max_depth_is_accepted_and_one_more_is_not(wrap: str) -> None:
    text = "0"
    for _ in range(MAX_DEPTH):
        text = wrap.format(text)
    assert depth(loads(text)) == MAX_DEPTH
    with pytest.raises(JSONTextError, match=f"nested deeper than {MAX_DEPTH} levels"):
        loads(wrap.format(text))
    with pytest.raises(JSONTextError, match="nested deeper than"):
        loads(wrap.format(text).encode())


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("NaN", "NaN is not a JSON value"),
        ('{"a": -Infinity}', "-Infinity is not a JSON value"),
        ("[1e400]", "out of range for a float"),
        ("1" * 5000, "integer with too many digits"),
        ("[" * 100_000 + "]" * 100_000, "nested deeper than"),
        (b"\xff", "not UTF-8"),
        ("{", "not JSON"),
    ],
)
def test_what_strict_json_refuses(text: str | bytes, says: str) -> None:
    with pytest.raises(JSONTextError, match=says):
        loads(text)


@pytest.mark.parametrize("provider", ["micro", "qobra", "talkvalue"])
@pytest.mark.parametrize(
    "text",
    ['{"status": NaN}', '{"x": 1e400}', '{"x": ' + "[" * 101 + "]" * 101 + "}", "[" * 10**5 + "]" * 10**5],
)
def test_normalize_turns_each_into_a_payload_error(provider: str, text: str) -> None:
    with pytest.raises(PayloadError) as info:
        normalize(provider, text)
    assert info.value.provider == provider


# JSON text, whole or cut short, with whitespace and stray characters around it.
texts = st.builds(
    lambda value, cut, before, after: before + json.dumps(value)[:cut] + after,
    values,
    st.one_of(st.none(), st.integers(min_value=0, max_value=20)),
    st.sampled_from(["", " ", "\n\t ", "\ufeff", "x"]),
    st.sampled_from(["", " \r\n", "]", " 1", "x"]),
)


@given(texts)
def test_valid_or_not_as_the_standard_decoder_says(text: str) -> None:
    """``loads`` takes the decoder's steps itself (no Python frames): same values, same errors."""
    try:
        expected: Any = ("value", json.JSONDecoder().decode(text))
    except json.JSONDecodeError as exc:
        expected = ("error", f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    try:
        got: Any = ("value", loads(text))
    except JSONTextError as exc:
        got = ("error", str(exc))
    assert got == expected
