"""The transport's edge functions, property-tested: per-attempt timeouts, header and body checks."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
import requests.utils
from hypothesis import given
from hypothesis import strategies as st

from importbridge import budget, jsontext
from importbridge.bodies import BodyFault, encode_json, header_fault

seconds = st.floats(min_value=0.001, max_value=1e6)


@given(st.one_of(st.none(), seconds, st.tuples(seconds, seconds)), st.floats(-10, 1e4), seconds)
def test_an_attempts_timeouts_never_outlast_the_time_left(timeout: Any, left: float, now: float) -> None:
    connect, read = budget.attempt_timeout(timeout, now + left, now)
    configured = timeout if isinstance(timeout, tuple) else (timeout, timeout)
    for got, wanted in zip((connect, read), configured, strict=True):
        assert got is not None
        assert 0 < got <= max(left, 1e-3) + 1e-6
        assert wanted is None or got <= wanted


@given(st.one_of(st.none(), st.floats(-1e6, 1e6)), seconds)
def test_a_deadline_leaves_at_least_the_grace(left: float | None, now: float) -> None:
    with budget.limited(left):
        deadline = budget.deadline(now)
    if left is None:
        assert deadline is None
    else:
        assert deadline == now + max(left, budget.GRACE)


@given(st.text())
def test_a_header_value_passes_only_if_http_can_carry_it(value: str) -> None:
    fault = header_fault(value)
    if not fault:
        value.encode("latin-1")  # what http.client sends
        requests.utils.check_header_validity(("X-Key", value))
        assert value == value.strip()
    else:
        assert value not in fault  # the value (a credential) is never quoted


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


def _at(value: Any, path: str) -> Any:
    """The value at a ``$.key[3]`` path (keys without dots or brackets, as generated below)."""
    for key, index in re.findall(r"\.([^.\[]*)|\[(\d+)\]", path[1:]):
        value = value[int(index)] if index else value[key]
    return value


@given(json_values)
def test_a_body_is_strict_json_or_refused_naming_the_value_at_fault(value: Any) -> None:
    try:
        encoded = encode_json(value)
    except BodyFault as fault:
        keys_plain = not re.search(r"[.\[\]]", str(value))
        bad = _at(value, fault.path) if keys_plain else None
        assert bad is None or (isinstance(bad, float) and not math.isfinite(bad)) or isinstance(bad, str)
        return
    assert jsontext.loads(encoded) == value


@pytest.mark.parametrize(
    ("value", "path"),
    [
        (
            {"objects": [{"default": {"a": 1}}, {"default": {"price": math.nan}}]},
            "$.objects[1].default.price",
        ),
        ([{"a": [1, 2, math.inf]}], "$[0].a[2]"),
        ({"when": object()}, "$.when"),
        ({"x": {math.nan: 1}}, "$.x"),
    ],
)
def test_the_fault_names_its_path(value: Any, path: str) -> None:
    with pytest.raises(BodyFault) as caught:
        encode_json(value)
    assert caught.value.path == path
