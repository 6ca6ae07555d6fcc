"""The models' fast ``__init__`` behaves exactly like the attrs-generated one it replaces."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from importbridge import ImportJob, JobError, JobState, RowOutcome, RowResult, TableImport
from importbridge.testing import strategies as ibst

MODELS = (JobError, RowResult, TableImport, ImportJob)

ODD = st.sampled_from(
    [
        None,
        True,
        False,
        0,
        1,
        -1,
        2**70,
        0.0,
        0.5,
        1.0,
        1.5,
        float("nan"),
        float("inf"),
        "x",
        "",
        (),
        [],
        {},
        JobState.RUNNING,
        RowOutcome.FAILED,
        datetime(2024, 1, 1),
        datetime(2024, 1, 1, tzinfo=timezone.utc),
        datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=2))),
    ]
)


def build(init: Any, cls: type, kwargs: dict[str, Any]) -> tuple[str, Any]:
    instance = cls.__new__(cls)
    try:
        init(instance, **kwargs)
    except Exception as exc:  # the comparison is the point: same type, same message
        return ("raised", (type(exc), str(exc)))
    return ("built", tuple(getattr(instance, field.name) for field in attrs.fields(cls)))


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_signature_matches_the_attrs_fields(cls: type) -> None:
    import inspect

    fast = inspect.signature(cls.__init__)
    generated = inspect.signature(cls.__attrs_generated_init__)  # type: ignore[attr-defined]
    assert list(fast.parameters) == list(generated.parameters)
    assert [p.default for p in fast.parameters.values()] == [p.default for p in generated.parameters.values()]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in list(fast.parameters.values())[1:])


@given(st.sampled_from(MODELS).flatmap(lambda cls: st.tuples(st.just(cls), st.data())))
def test_same_result_or_same_error_as_attrs(case: tuple[type, Any]) -> None:
    cls, data = case
    kwargs = {
        field.name: data.draw(ODD, label=field.name)
        for field in attrs.fields(cls)
        if data.draw(st.booleans(), label=f"pass {field.name}")
    }
    fast = build(cls.__init__, cls, kwargs)
    generated = build(cls.__attrs_generated_init__, cls, kwargs)  # type: ignore[attr-defined]
    if fast[0] == "built" and generated[0] == "built":
        assert [repr(v) for v in fast[1]] == [repr(v) for v in generated[1]]
    else:
        assert fast == generated


@given(ibst.import_jobs())
def test_valid_jobs_rebuild_identically(job: ImportJob) -> None:
    kwargs = {field.name: getattr(job, field.name) for field in attrs.fields(ImportJob)}
    assert ImportJob(**kwargs) == job
    assert build(ImportJob.__init__, ImportJob, kwargs) == build(
        ImportJob.__attrs_generated_init__,  # type: ignore[attr-defined]
        ImportJob,
        kwargs,
    )


@given(st.sampled_from([TableImport, ImportJob]), st.data())
def test_of_is_the_constructor(cls: Any, data: Any) -> None:
    kwargs = {
        field.name: data.draw(ODD, label=field.name)
        for field in attrs.fields(cls)
        if data.draw(st.booleans(), label=f"pass {field.name}")
    }

    def outcome(make: Any) -> Any:
        try:
            built = make(**kwargs)
        except Exception as exc:  # same type, same message as the constructor (by its name)
            return (type(exc), str(exc).replace(f"{cls.__name__}.of()", f"{cls.__name__}.__init__()"))
        return (type(built), repr(built), getattr(built, "raw", None))

    assert outcome(cls.of) == outcome(cls)


@given(ibst.import_jobs())
def test_import_job_of_rebuilds_valid_jobs(job: ImportJob) -> None:
    kwargs = {field.name: getattr(job, field.name) for field in attrs.fields(ImportJob)}
    rebuilt = ImportJob.of(**kwargs)
    assert type(rebuilt) is ImportJob
    assert rebuilt == job


@pytest.mark.parametrize("cls", MODELS, ids=lambda cls: cls.__name__)
def test_built_instances_are_of_the_model_and_frozen(cls: type) -> None:
    instance = {
        JobError: lambda: JobError(code="c"),
        RowResult: lambda: RowResult.of(1, RowOutcome.CREATED),
        TableImport: lambda: TableImport.of(key="k", state=JobState.RUNNING, provider_state="r"),
        ImportJob: lambda: ImportJob.of(provider="p", state=JobState.RUNNING, provider_state="r"),
    }[cls]()
    assert type(instance) is cls
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        instance.x = 1


def test_a_subclass_keeps_its_class_and_its_fields() -> None:
    class Tagged(TableImport):
        __slots__ = ()

    table = Tagged(key="k", state=JobState.RUNNING, provider_state="r", records=3)
    assert type(table) is Tagged
    assert (table.key, table.records) == ("k", 3)
    with pytest.raises(ValueError, match="records"):
        Tagged(key="k", state=JobState.RUNNING, provider_state="r", records=-1)


def test_disabled_validators_are_honoured() -> None:
    with attrs.validators.disabled():
        row = RowResult(row=-5, outcome=RowOutcome.FAILED)
    assert row.row == -5
    with pytest.raises(ValueError, match="row"):
        RowResult(row=-5, outcome=RowOutcome.FAILED)


def test_instances_stay_frozen() -> None:
    row = RowResult(row=1, outcome=RowOutcome.CREATED)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        row.row = 2  # type: ignore[misc]


@given(st.lists(ODD, min_size=6, max_size=6))
def test_row_result_of_is_the_constructor_positionally(values: list[Any]) -> None:
    names = [field.name for field in attrs.fields(RowResult)]
    try:
        built: Any = RowResult.of(*values)
    except Exception as exc:  # same type, same message as the constructor
        built = (type(exc), str(exc))
    try:
        expected: Any = RowResult(**dict(zip(names, values, strict=True)))
    except Exception as exc:
        expected = (type(exc), str(exc))
    assert repr(built) == repr(expected)


def test_row_result_of_defaults_the_trailing_fields() -> None:
    assert RowResult.of(3, RowOutcome.CREATED) == RowResult(row=3, outcome=RowOutcome.CREATED)
    assert RowResult.of(None, RowOutcome.FAILED, "id", JobError(code="x"), {"a": 1}, "t") == RowResult(
        outcome=RowOutcome.FAILED, record_id="id", error=JobError(code="x"), data={"a": 1}, table="t"
    )


ROW_VALUES = st.one_of(st.none(), st.integers(min_value=-2, max_value=2**70), ODD)
COLUMN_VALUES = {
    "row": ROW_VALUES,
    "outcome": st.one_of(st.sampled_from(RowOutcome), ODD),
    "record_id": st.one_of(st.none(), st.text(max_size=3), ODD),
    "error": st.one_of(st.none(), st.just(JobError(code="x")), ODD),
    "data": st.one_of(st.none(), st.text(max_size=3), ODD),
    "table": st.one_of(st.none(), st.text(max_size=3), ODD),
}


@st.composite
def columns(draw: st.DrawFn) -> list[Any]:
    """Six columns: lists of mostly valid values (sometimes of unequal length), or repeats."""
    count = draw(st.integers(min_value=0, max_value=6))
    drawn: list[Any] = []
    for name, values in COLUMN_VALUES.items():
        shape = draw(st.sampled_from(["list", "list", "repeat", "finite repeat", "none"]))
        if shape == "none" and name not in ("row", "outcome"):
            drawn.append(None)
        elif shape == "repeat" and name != "row":
            drawn.append(("repeat", draw(values)))
        elif shape == "finite repeat":
            drawn.append(("repeat", draw(values), draw(st.integers(min_value=0, max_value=7))))
        else:
            valid = st.sampled_from([1, 0]) if name == "row" else values
            drawn.append(draw(st.lists(st.one_of(valid, values), min_size=count, max_size=count + 2)))
    return drawn


def _column(spec: Any) -> Any:
    if isinstance(spec, tuple) and spec and spec[0] == "repeat":
        return itertools.repeat(*spec[1:])
    return spec


@given(columns())
def test_row_result_of_columns_is_map_of_of(specs: list[Any]) -> None:
    def outcome(build: Any) -> Any:
        try:
            return repr(build())
        except Exception as exc:  # same type, same message as row by row
            return (type(exc), str(exc))

    given_columns = [_column(spec) for spec in specs]
    expected_columns = [itertools.repeat(None) if spec is None else _column(spec) for spec in specs]
    assert outcome(lambda: RowResult.of_columns(*given_columns)) == outcome(
        lambda: list(map(RowResult.of, *expected_columns))
    )


def test_row_result_of_columns_needs_an_end() -> None:
    with pytest.raises(ValueError, match="repeats forever"):
        RowResult.of_columns(itertools.repeat(1), itertools.repeat(RowOutcome.FAILED))


def test_row_result_of_columns_honours_disabled_validators() -> None:
    with attrs.validators.disabled():
        rows = RowResult.of_columns([-5, 2], itertools.repeat(RowOutcome.FAILED))
    assert [row.row for row in rows] == [-5, 2]
