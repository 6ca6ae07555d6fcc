"""PayloadReader: exact reading of provider JSON, with the field's path in every error."""

from __future__ import annotations

import copy
import math
from datetime import datetime, timedelta, timezone
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importbridge import JobState, PayloadError, PayloadReader
from importbridge.testing import strategies as ibst

WORDS = {"processing": JobState.RUNNING, "complete": JobState.COMPLETE, "failed": JobState.FAILED}


def reader(payload: Any, path: str = "") -> PayloadReader:
    return PayloadReader("acme", payload, path)


def fails(call: Any, path: str, reason: str) -> PayloadError:
    with pytest.raises(PayloadError) as caught:
        call()
    error = caught.value
    assert error.provider == "acme"
    assert error.path == path
    assert reason in error.reason, error.reason
    assert str(error) == f"acme payload: {path or '<payload>'}: {error.reason}"
    return error


# -- construction -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "kind"),
    [([], "array"), ("{}", "string '{}'"), (None, "null"), (3, "integer 3"), (True, "boolean True")],
)
def test_a_reader_needs_an_object(payload: Any, kind: str) -> None:
    fails(lambda: reader(payload), "", f"expected an object, got {kind}")
    fails(lambda: reader(payload, "data_import"), "data_import", "expected an object")


def test_any_mapping_is_an_object() -> None:
    assert reader(MappingProxyType({"total": 3})).count("total") == 3


# -- counts -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [0, 1, 10**30])
def test_count_accepts_non_negative_ints(value: int) -> None:
    assert reader({"n": value}).count("n") == value


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (True, "boolean True"),
        (False, "boolean False"),
        (3.0, "number 3.0"),
        (-1, "-1"),
        ("3", "string '3'"),
        ([], "array"),
        ({}, "object"),
        (float("nan"), "number nan"),
        pytest.param(-(10**5000), "<negative integer of 16610 bits>", id="huge-negative"),
    ],
)
def test_count_rejects_everything_else(value: Any, shown: str) -> None:
    fails(lambda: reader({"n": value}).count("n"), "n", f"expected a non-negative integer, got {shown}")


def test_missing_and_null_are_unknown_unless_required() -> None:
    r = reader({"n": None})
    assert r.count("n") is None
    assert r.count("absent") is None
    fails(lambda: r.count("n", required=True), "n", "is null")
    fails(lambda: r.count("absent", required=True), "absent", "missing required field")


@given(ibst.json_values())
def test_count_is_exactly_the_non_negative_ints(value: Any) -> None:
    r = reader({"n": value})
    if value is None or (type(value) is int and value >= 0):
        assert r.count("n") == value
    else:
        with pytest.raises(PayloadError):
            r.count("n")


def test_integer_allows_negatives_but_not_bools() -> None:
    assert reader({"n": -4}).integer("n") == -4
    fails(lambda: reader({"n": False}).integer("n"), "n", "expected an integer")


# -- scalars ----------------------------------------------------------------------------------


def test_string_identifier_boolean() -> None:
    r = reader({"s": "", "i": 4218, "t": "abc", "b": False, "n": 1})
    assert r.string("s") == ""
    assert r.identifier("i") == "4218"
    assert r.identifier("t") == "abc"
    assert r.boolean("b") is False
    fails(lambda: r.string("i"), "i", "expected a string, got integer 4218")
    fails(lambda: r.boolean("n"), "n", "expected a boolean, got integer 1")
    fails(lambda: reader({"i": True}).identifier("i"), "i", "string or integer id")
    fails(lambda: reader({"i": 1.5}).identifier("i"), "i", "string or integer id")


def test_long_values_are_clipped_in_messages() -> None:
    error = fails(lambda: reader({"n": "x" * 1000}).count("n"), "n", "string 'xxx")
    assert len(str(error)) < 120


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-12-27T18:11:19.117Z", datetime(2019, 12, 27, 18, 11, 19, 117000, tzinfo=timezone.utc)),
        ("2026-05-15T10:42:01Z", datetime(2026, 5, 15, 10, 42, 1, tzinfo=timezone.utc)),
        ("2026-05-15T12:42:01+02:00", datetime(2026, 5, 15, 10, 42, 1, tzinfo=timezone.utc)),
        ("2026-05-15T10:42:01", datetime(2026, 5, 15, 10, 42, 1, tzinfo=timezone.utc)),
        ("2026-05-15T10:42:01+00:00", datetime(2026, 5, 15, 10, 42, 1, tzinfo=timezone.utc)),
        (" 2026-05-15T10:42:01z ", datetime(2026, 5, 15, 10, 42, 1, tzinfo=timezone.utc)),
    ],
)
def test_datetime_parses_iso_8601_into_utc(text: str, expected: datetime) -> None:
    parsed = reader({"at": text}).datetime("at")
    assert parsed == expected
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "text", ["yesterday", "", "2026-13-01T00:00:00Z", "0001-01-01T00:00:00+05:00", "1e9"]
)
def test_datetime_that_does_not_parse(text: str) -> None:
    fails(lambda: reader({"at": text}).datetime("at"), "at", "does not parse as ISO-8601")


def test_datetime_must_be_a_string() -> None:
    fails(lambda: reader({"at": 1700000000}).datetime("at"), "at", "expected an ISO-8601 date-time string")


@given(ibst.datetimes())
def test_datetime_round_trips_isoformat(moment: datetime) -> None:
    parsed = reader({"at": moment.isoformat()}).datetime("at")
    shown = datetime.fromisoformat(moment.isoformat())  # fixed offset: no DST gaps or folds
    expected = shown.replace(tzinfo=timezone.utc) if shown.tzinfo is None else shown
    assert parsed == expected


@pytest.mark.parametrize(
    ("value", "fraction"),
    [
        (0, 0.0),
        (100, 1.0),
        (50, 0.5),
        (62.5, 0.625),
        ("100", 1.0),
        ("37.5", 0.375),
        (" 5 ", 0.05),
        ("1e1", 0.1),
    ],
)
def test_percent_reads_int_float_and_numeric_strings(value: Any, fraction: float) -> None:
    assert reader({"p": value}).percent("p") == pytest.approx(fraction)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (101, "outside 0..100"),
        (-1, "outside 0..100"),
        (100.5, "outside 0..100"),
        (float("nan"), "outside 0..100"),
        (float("inf"), "outside 0..100"),
        pytest.param(10**400, "outside 0..100", id="huge"),
        ("1e400", "outside 0..100"),
        ("nan", "expected a percentage"),
        ("inf", "expected a percentage"),
        ("1_0", "expected a percentage"),
        ("50%", "expected a percentage"),
        pytest.param("\u0665\u0660", "expected a percentage", id="arabic-indic-digits"),
        pytest.param("\uff11\uff10\uff10", "expected a percentage", id="full-width-digits"),
        ("", "expected a percentage"),
        (True, "expected a percentage"),
        ([50], "expected a percentage"),
    ],
)
def test_percent_rejects(value: Any, reason: str) -> None:
    fails(lambda: reader({"p": value}, "t[0]").percent("p"), "t[0].p", reason)


@given(st.integers(0, 100), st.sampled_from(["", "0", "00"]))
def test_percent_strings_read_as_their_number(number: int, zeros: str) -> None:
    text = zeros + str(number)
    assert reader({"p": text}).percent("p") == number / 100


@given(ibst.json_values() | st.floats() | st.text(alphabet="0123456789.eE+-_ na", max_size=8))
def test_percent_is_a_fraction_or_a_payload_error(value: Any) -> None:
    try:
        fraction = reader({"p": value}).percent("p")
    except PayloadError as error:
        assert error.path == "p"  # noqa: PT017 - the property is "this, or a PayloadError at p"
    else:
        assert fraction is None or (math.isfinite(fraction) and 0.0 <= fraction <= 1.0)


# -- status words -------------------------------------------------------------------------------


def test_status_returns_the_word_and_its_mapping() -> None:
    assert reader({"status": "complete"}).status("status", WORDS) == ("complete", JobState.COMPLETE)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"status": "done"}, "unknown status word 'done'; known words: complete, failed, processing"),
        ({"status": "Complete"}, "unknown status word"),
        ({}, "missing required field (a status word); known words: complete, failed, processing"),
        ({"status": None}, "is null"),
        ({"status": ["complete"]}, "expected a status word, got array"),
        ({"status": 1}, "expected a status word, got integer 1"),
    ],
)
def test_status_rejects_unknown_or_missing_words(payload: Any, reason: str) -> None:
    fails(lambda: reader(payload).status("status", WORDS), "status", reason)


# -- nesting --------------------------------------------------------------------------------------


NESTED = {
    "data_import": {
        "results": [{"error": {"code": "a"}}, {"error": {"code": "b"}}, {}, {"error": {"code": 5}}],
    }
}


def test_paths_follow_children_and_items() -> None:
    top = reader(NESTED).child("data_import", required=True)
    assert top is not None
    items = top.items("results")
    assert [item.path for item in items] == [f"data_import.results[{n}]" for n in range(4)]
    error = items[3].child("error")
    assert error is not None
    fails(
        lambda: error.string("code"), "data_import.results[3].error.code", "expected a string, got integer 5"
    )
    assert items[2].child("error") is None
    assert top.item("results", 1).child("error").string("code") == "b"  # type: ignore[union-attr]


STEPS = st.lists(
    st.tuples(st.sampled_from(["a", "b_c", "data"]), st.one_of(st.none(), st.integers(0, 3))), max_size=5
)


@given(st.sampled_from(["", "top", "t[0]"]), STEPS, st.booleans())
def test_nested_paths_are_written_as_the_steps_say(start: str, steps: list[Any], deepest_first: bool) -> None:
    """``child`` / ``items`` / ``item`` readers write their path out only when asked: in any
    order of asking, each is its parent's path, ``.key``, then ``[index]`` for an element."""
    payload: dict[str, Any] = {}
    inner = payload
    for key, index in steps:  # build the payload the steps walk through
        nested: dict[str, Any] = {}
        inner[key] = nested if index is None else [{} for _ in range(index)] + [nested]
        inner = nested
    readers, expected = [reader(payload, start)], [start]
    for key, index in steps:
        parent = readers[-1]
        if index is None:
            child = parent.child(key, required=True)
        elif index % 2:
            child = parent.items(key)[index]
        else:
            child = parent.item(key, index)
        assert child is not None
        readers.append(child)
        path = f"{expected[-1]}.{key}" if expected[-1] else key
        expected.append(path if index is None else f"{path}[{index}]")
    order = readers[::-1] if deepest_first else readers
    assert [r.path for r in order] == (expected[::-1] if deepest_first else expected)
    fails(lambda: readers[-1].string("x", required=True), readers[-1].where("x"), "missing required field")


def test_a_path_can_be_set() -> None:
    nested = reader({"a": {"b": 1}}, "top").child("a")
    assert nested is not None
    nested.path = "elsewhere"
    assert nested.where("b") == "elsewhere.b"


def test_child_must_be_an_object() -> None:
    fails(lambda: reader({"error": "boom"}, "x").child("error"), "x.error", "expected an object, got string")
    fails(lambda: reader({}).child("error", required=True), "error", "missing required field")


def test_arrays_and_objects() -> None:
    r = reader({"a": [1, {"x": 1}], "t": ({"x": 2},), "o": {"k": 1}})
    assert r.array("a") == [1, {"x": 1}]
    assert r.array("missing") is None
    assert r.objects("missing") == []
    assert r.objects("t") == [{"x": 2}]
    assert r.items("missing") == []
    fails(lambda: r.array("o"), "o", "expected an array, got object")
    fails(lambda: r.objects("a"), "a[0]", "expected an object, got integer 1")
    fails(lambda: r.items("a"), "a[0]", "expected an object, got integer 1")
    fails(lambda: r.item("a", 5), "a", "has no element 5")
    fails(lambda: r.objects("missing", required=True), "missing", "missing required field")


def test_first_present_has_get() -> None:
    r = reader({"totalCount": 3, "totalRows": None, "raw": {"any": ["thing"]}})
    assert r.first_present("totalRows", "totalCount") == "totalCount"
    assert r.first_present("a", "b") is None
    assert r.has("totalCount")
    assert not r.has("totalRows")
    assert r.get("raw") == {"any": ["thing"]}
    assert r.get("nope") is None


def test_at_most() -> None:
    r = reader({}, "job")
    r.at_most("processed", 3, "total", 3)
    r.at_most("processed", None, "total", 1)
    r.at_most("processed", 5, "total", None)
    fails(lambda: r.at_most("processed", 4, "total", 3), "job.processed", "4 exceeds total (3)")
    fails(
        lambda: r.at_most("failed", 9, "total", 3, what="all counts"),
        "job.failed",
        "all counts (9) exceeds total (3)",
    )


def test_where_and_error() -> None:
    r = reader({}, "a.b[2]")
    assert r.where("c") == "a.b[2].c"
    assert r.where(0) == "a.b[2][0]"
    assert reader({}).where("c") == "c"
    assert r.error("c", "why").path == "a.b[2].c"
    assert "a.b[2]" in repr(r)
    assert PayloadReader.describe([1]) == "array"


# -- the payload is never changed; only PayloadError escapes ---------------------------------------

ACCESSORS = ("count", "integer", "string", "identifier", "boolean", "datetime", "percent", "child")


@given(ibst.json_values(max_leaves=12), st.sampled_from(ACCESSORS), st.booleans())
def test_every_accessor_raises_only_payload_errors_and_never_mutates(
    value: Any, accessor: str, required: bool
) -> None:
    payload = {"f": value}
    before = copy.deepcopy(payload)
    r = reader(payload)
    for call in (
        lambda: getattr(r, accessor)("f", required=required),
        lambda: r.status("f", WORDS),
        lambda: r.items("f"),
        lambda: r.objects("f"),
        lambda: r.array("f"),
    ):
        try:
            call()
        except PayloadError as error:
            assert error.path.startswith("f")  # noqa: PT017 - any outcome but another exception
    assert payload == before


# -- unix timestamps ------------------------------------------------------------------------------

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
# what datetime can hold, in whole seconds since the epoch
FIRST, LAST = -62135596800, 253402300799


@given(st.integers(min_value=FIRST, max_value=LAST))
def test_unix_seconds_read_as_utc(seconds: int) -> None:
    parsed = reader({"at": seconds}).datetime("at", unit="s")
    assert parsed == EPOCH + timedelta(seconds=seconds)
    assert parsed is not None
    assert parsed.tzinfo is timezone.utc
    assert reader({"at": str(seconds)}).datetime("at", unit="s") == parsed


@given(st.integers(min_value=FIRST * 1000, max_value=LAST * 1000 + 999))
def test_unix_milliseconds_read_exactly(millis: int) -> None:
    parsed = reader({"at": millis}).datetime("at", unit="ms")
    assert parsed == EPOCH + timedelta(milliseconds=millis)
    assert parsed is not None
    assert parsed.tzinfo is timezone.utc
    assert round((parsed - EPOCH).total_seconds() * 1000) == millis


@given(st.floats(min_value=-1e10, max_value=1e10, allow_nan=False))
def test_fractional_seconds_read_to_the_microsecond(seconds: float) -> None:
    parsed = reader({"at": seconds}).datetime("at", unit="s")
    assert parsed is not None
    assert abs((parsed - EPOCH).total_seconds() - seconds) <= 1e-6 + abs(seconds) * 1e-15


@given(ibst.datetimes())
def test_timestamps_and_iso_8601_agree(moment: datetime) -> None:
    text = moment.isoformat()
    shown = datetime.fromisoformat(text)  # fixed offset: no DST gaps or folds
    aware = shown.replace(tzinfo=timezone.utc) if shown.tzinfo is None else shown
    assert reader({"at": text}).datetime("at", unit="ms") == aware  # ISO text still reads
    millis = (aware - EPOCH) // timedelta(milliseconds=1)
    from_millis = reader({"at": millis}).datetime("at", unit="ms")
    assert from_millis == aware - timedelta(microseconds=aware.microsecond % 1000)


def test_the_unit_is_never_guessed() -> None:
    seconds = reader({"at": 1714557600}).datetime("at", unit="s")
    millis = reader({"at": 1714557600}).datetime("at", unit="ms")
    assert seconds == datetime(2024, 5, 1, 10, 0, tzinfo=timezone.utc)
    assert millis == datetime(1970, 1, 20, 20, 15, 57, 600000, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "value", [LAST + 1, FIRST - 1, 2**70, -(2**70), math.inf, -math.inf, math.nan, "1e400", "99" * 200]
)
def test_timestamps_out_of_range_are_payload_errors(value: object) -> None:
    fails(lambda: reader({"at": value}).datetime("at", unit="s"), "at", "is not a date within the years")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        *[(value, "or a unix timestamp in ms, got") for value in (True, False, [1], {"s": 1})],
        *[(text, "does not parse as ISO-8601") for text in ("NaN", "soon", "0x10", "1_000")],
    ],
)
def test_timestamps_of_the_wrong_kind(value: object, reason: str) -> None:
    fails(lambda: reader({"at": value}).datetime("at", unit="ms"), "at", reason)


@given(st.integers() | st.floats())
def test_timestamps_never_raise_anything_else(value: float) -> None:
    try:
        parsed = reader({"at": value}).datetime("at", unit="ms")
    except PayloadError:
        return
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(0)


def test_a_percentage_of_thousands_of_digits_is_a_payload_error() -> None:
    # int("9" * 5000) is a ValueError (Python's digit limit), not a percentage
    fails(lambda: reader({"p": "9" * 5000}).percent("p"), "p", "is outside 0..100")


@pytest.mark.parametrize(("value", "expected"), [(1, 1), (7, 7), (None, None)])
def test_row_numbers_start_at_one(value: int | None, expected: int | None) -> None:
    assert reader({"n": value}).row_number("n") == expected


def test_row_number_zero_is_a_payload_error() -> None:
    fails(lambda: reader({"n": 0}).row_number("n"), "n", "expected a row number from 1, got 0")
    fails(lambda: reader({"n": True}).row_number("n"), "n", "expected a non-negative integer")


# -- plain_rows: the column check agrees with reading each entry ------------------------------

_cells = st.one_of(st.none(), st.text(max_size=3), st.integers(-2, 3), st.booleans(), st.floats(0, 2))
_entries = st.lists(
    st.one_of(
        st.dictionaries(st.sampled_from(["code", "message", "row", "other"]), _cells, max_size=4),
        _cells,
    ),
    max_size=8,
)


def _each_plain(entries: list[Any]) -> bool:
    """The specification: every entry a dict, its texts str or None, its row an int >= 1 or None."""
    for entry in entries:
        if type(entry) is not dict:
            return False
        if any(entry.get(key) is not None and type(entry.get(key)) is not str for key in ("code", "message")):
            return False
        row = entry.get("row")
        if row is not None and (type(row) is not int or row < 1):
            return False
    return True


@given(_entries)
def test_plain_rows_agrees_with_reading_each_entry(entries: list[Any]) -> None:
    plain = PayloadReader.plain_rows(entries, texts=("code", "message"), row_number="row")
    assert plain is _each_plain(entries)


def test_plain_rows_without_a_row_number_column_checks_types_only() -> None:
    assert PayloadReader.plain_rows([{"code": "x", "row": 0}], texts=("code",))
    assert not PayloadReader.plain_rows([{"code": 1}], texts=("code",))
    assert PayloadReader.plain_rows([])
