"""The model: the job state machine, the contract's terminal rule, and the validators."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importbridge import (
    ImportJob,
    InvalidJobError,
    JobError,
    JobState,
    PayloadError,
    RowOutcome,
    RowResult,
    TableImport,
    settle_state,
)
from importbridge.testing import strategies as ibst

TERMINAL = {JobState.COMPLETE, JobState.PARTIAL, JobState.FAILED}
FLOW = [JobState.PENDING, JobState.RUNNING]  # then any terminal state

states = st.sampled_from(JobState)
counts = st.none() | st.integers(min_value=0, max_value=10**6)


def test_values_are_the_contracts_words() -> None:
    assert [state.value for state in JobState] == ["pending", "running", "complete", "partial", "failed"]
    assert [outcome.value for outcome in RowOutcome] == [
        "created",
        "updated",
        "duplicate",
        "skipped",
        "failed",
    ]
    assert str(JobState.PARTIAL) == "partial"
    assert str(RowOutcome.DUPLICATE) == "duplicate"


def test_terminal_states_are_exactly_the_three_outcomes() -> None:
    assert {state for state in JobState if state.is_terminal} == TERMINAL


def _expected_move(here: JobState, there: JobState) -> bool:
    """The contract drawn independently: forward along pending -> running -> terminal, or stay."""
    if here is there:
        return True
    if here.is_terminal:
        return False
    if there.is_terminal:
        return True
    return FLOW.index(there) > FLOW.index(here)


@given(states, states)
def test_legal_moves_follow_the_machine(here: JobState, there: JobState) -> None:
    assert here.can_move_to(there) is _expected_move(here, there)


@given(states, states)
def test_rank_orders_every_legal_move(here: JobState, there: JobState) -> None:
    if here.can_move_to(there):
        assert there.rank >= here.rank
    if there.rank < here.rank:
        assert not here.can_move_to(there)


def test_a_job_may_skip_running() -> None:
    assert JobState.PENDING.can_move_to(JobState.COMPLETE)
    assert not JobState.RUNNING.can_move_to(JobState.PENDING)
    assert not JobState.COMPLETE.can_move_to(JobState.FAILED)


# -- settle_state: "counts decide; the word keeps provider_state" ---------------------------------


def _contract(reported: JobState, succeeded: int | None, failed: int | None, job_error: bool) -> JobState:
    """The terminal rule written out case by case, for jobs whose counts are both known."""
    assert succeeded is not None
    assert failed is not None
    landed, rejected = succeeded > 0, failed > 0 or job_error
    if landed and rejected:
        return JobState.PARTIAL
    if landed:
        return JobState.COMPLETE
    if rejected:
        return JobState.FAILED
    return JobState.FAILED if reported is JobState.FAILED else JobState.COMPLETE  # zero rows


@given(st.sampled_from(sorted(TERMINAL)), counts, counts, st.booleans())
def test_known_counts_decide(
    reported: JobState, succeeded: int | None, failed: int | None, error: bool
) -> None:
    settled = settle_state(reported, succeeded=succeeded, failed=failed, job_error=error)
    assert settled.is_terminal
    if succeeded is not None and failed is not None:
        assert settled is _contract(reported, succeeded, failed, error)


@given(st.sampled_from(sorted(TERMINAL)), counts, counts, st.booleans())
def test_settled_state_never_contradicts_a_known_count(
    reported: JobState, succeeded: int | None, failed: int | None, error: bool
) -> None:
    settled = settle_state(reported, succeeded=succeeded, failed=failed, job_error=error)
    if succeeded:  # something landed: not failed
        assert settled is not JobState.FAILED
    if succeeded == 0:  # nothing landed: not partial
        assert settled is not JobState.PARTIAL
    if failed or error:  # something rejected: not complete
        assert settled is not JobState.COMPLETE
    if failed == 0 and not error:  # nothing rejected: not partial
        assert settled is not JobState.PARTIAL


@given(st.sampled_from(sorted(TERMINAL)))
def test_without_counts_the_word_stands(reported: JobState) -> None:
    assert settle_state(reported, succeeded=None, failed=None) is reported


@pytest.mark.parametrize(
    ("reported", "succeeded", "failed", "error", "expected"),
    [
        (JobState.COMPLETE, 10, 0, False, JobState.COMPLETE),
        (JobState.COMPLETE, 0, 0, False, JobState.COMPLETE),  # zero rows is complete
        (JobState.COMPLETE, 8, 2, False, JobState.PARTIAL),
        (JobState.COMPLETE, 0, 5, False, JobState.FAILED),
        (JobState.FAILED, 3, 0, True, JobState.PARTIAL),  # job-level failure after rows landed
        (JobState.FAILED, None, None, False, JobState.FAILED),
        (JobState.COMPLETE, None, None, True, JobState.FAILED),  # job error, nothing known landed
        (JobState.PARTIAL, 5, None, False, JobState.PARTIAL),  # the word fills the unknown count
        (JobState.PARTIAL, None, 3, False, JobState.PARTIAL),
        (JobState.COMPLETE, None, 3, False, JobState.PARTIAL),
        (JobState.FAILED, None, 3, False, JobState.FAILED),
        (JobState.FAILED, 5, None, False, JobState.PARTIAL),
        (JobState.PARTIAL, 0, 0, False, JobState.COMPLETE),
    ],
)
def test_terminal_rule_examples(
    reported: JobState, succeeded: int | None, failed: int | None, error: bool, expected: JobState
) -> None:
    assert settle_state(reported, succeeded=succeeded, failed=failed, job_error=error) is expected


@given(st.sampled_from([JobState.PENDING, JobState.RUNNING]), counts, counts, st.booleans())
def test_non_terminal_states_pass_through(
    reported: JobState, succeeded: int | None, failed: int | None, error: bool
) -> None:
    assert settle_state(reported, succeeded=succeeded, failed=failed, job_error=error) is reported


# -- validators -----------------------------------------------------------------------------------

COUNT_FIELDS = ["total", "processed", "succeeded", "failed", "created", "updated", "duplicates", "skipped"]


def _job(**fields: object) -> ImportJob:
    values: dict[str, object] = {"provider": "p", "state": JobState.RUNNING, "provider_state": "w"}
    return ImportJob(**{**values, **fields})  # type: ignore[arg-type]


@pytest.mark.parametrize("field", COUNT_FIELDS)
@pytest.mark.parametrize("bad", [-1, True, False, 1.0, "3", [1]])
def test_counts_must_be_non_negative_ints(field: str, bad: object) -> None:
    with pytest.raises(ValueError, match=field):
        _job(**{field: bad})


@given(st.sampled_from(COUNT_FIELDS), st.none() | st.integers(min_value=0, max_value=10**4299))
def test_counts_accept_none_and_non_negative_ints(field: str, value: int | None) -> None:
    assert getattr(_job(**{field: value}), field) == value


@pytest.mark.parametrize("bad", [-0.01, 1.01, float("nan"), float("inf"), True, "0.5"])
def test_progress_is_a_fraction(bad: object) -> None:
    with pytest.raises(ValueError, match="progress"):
        _job(progress=bad)
    with pytest.raises(ValueError, match="progress"):
        TableImport(key="t", state=JobState.RUNNING, provider_state="w", progress=bad)  # type: ignore[arg-type]


@given(st.floats(min_value=0.0, max_value=1.0))
def test_progress_accepts_fractions(value: float) -> None:
    assert _job(progress=value).progress == value


def test_row_numbers_and_table_records_are_validated() -> None:
    with pytest.raises(ValueError, match="row"):
        RowResult(row=-1, outcome=RowOutcome.FAILED)
    with pytest.raises(ValueError, match="records"):
        TableImport(key="t", state=JobState.RUNNING, provider_state="w", records=True)  # type: ignore[arg-type]


@given(st.datetimes(timezones=st.timezones(), min_value=datetime(1900, 1, 2)))
def test_timestamps_are_kept_in_utc(value: datetime) -> None:
    job = _job(created_at=value)
    assert job.created_at is not None
    assert job.created_at.utcoffset() == timedelta(0)
    assert job.created_at == value.astimezone(timezone.utc)


@given(st.datetimes(min_value=datetime(1900, 1, 2)))
def test_naive_timestamps_are_refused_not_guessed(value: datetime) -> None:
    with pytest.raises(InvalidJobError, match="naive") as info:
        _job(started_at=value)
    assert info.value.path == "started_at"


def test_a_timestamp_with_no_utc_date_is_refused() -> None:
    with pytest.raises(InvalidJobError, match="out of range in UTC"):
        _job(expires_at=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))))


def test_raw_takes_no_part_in_equality_or_repr() -> None:
    first = _job(raw={"secret-looking": "payload"})
    assert first == _job(raw=[1, 2, 3])
    assert "secret-looking" not in repr(first)


def test_rows_and_tables_become_tuples_and_failed_rows_filters() -> None:
    rows = [RowResult(row=1, outcome=RowOutcome.CREATED), RowResult(row=2, outcome=RowOutcome.FAILED)]
    job = _job(rows=rows, state=JobState.PARTIAL)
    assert isinstance(job.rows, tuple)
    assert [row.row for row in job.failed_rows()] == [2]
    assert job.done
    assert not _job().done


def test_states_and_outcomes_must_be_the_enums() -> None:
    with pytest.raises(InvalidJobError, match="state"):
        _job(state="complete")
    with pytest.raises(InvalidJobError, match="outcome"):
        RowResult(outcome="failed")  # type: ignore[arg-type]
    with pytest.raises(InvalidJobError, match="state"):
        TableImport(key="t", state="running", provider_state="w")  # type: ignore[arg-type]


def test_models_are_frozen() -> None:
    job = _job(error=JobError(code="c"))
    with pytest.raises(AttributeError):
        job.state = JobState.FAILED  # type: ignore[misc]


# -- what the model refuses (the contract's rules, one error type) ---------------------------------


def _nested_list(depth: int) -> list[object]:
    value: list[object] = []
    for _ in range(depth):
        value = [value]
    return value


def _row_with(data: object) -> RowResult:
    return RowResult(outcome=RowOutcome.FAILED, data=data)


@pytest.mark.parametrize(
    ("build", "path"),
    [
        # the three
        (lambda: _job(state=JobState.COMPLETE, total=1, succeeded=5, failed=3), "total"),
        (lambda: JobError(message=5), "message"),  # type: ignore[arg-type]
        (lambda: _job(progress=1.5), "progress"),
        # counts that contradict each other
        (lambda: _job(succeeded=3, failed=2, processed=4), "processed"),
        (lambda: _job(processed=7, total=6), "total"),
        (lambda: _job(failed=7, total=6), "total"),
        (lambda: _job(created=2, updated=2, succeeded=3), "succeeded"),
        (lambda: _job(created=2, skipped=2, processed=3), "processed"),
        # a terminal state the counts rule out
        (lambda: _job(state=JobState.COMPLETE, succeeded=92, failed=8), "state"),
        (lambda: _job(state=JobState.COMPLETE, failed=8), "state"),
        (lambda: _job(state=JobState.FAILED, succeeded=1, failed=0), "state"),
        (lambda: _job(state=JobState.PARTIAL, succeeded=0, failed=3), "state"),
        (lambda: _job(state=JobState.COMPLETE, succeeded=0, failed=0, error=JobError()), "state"),
        (lambda: _job(skipped=10**4300), "skipped"),  # more digits than JSON text carries back
        (lambda: _job(total=-(10**5000)), "total"),
        # strings where strings are promised
        (lambda: _job(provider_state=3), "provider_state"),
        (lambda: _job(id=42), "id"),
        (lambda: _job(file_name=b"f.csv"), "file_name"),
        (lambda: _job(mode=_nested_list(100_000)), "mode"),
        (lambda: RowResult(outcome=RowOutcome.FAILED, record_id=7), "record_id"),  # type: ignore[arg-type]
        (lambda: RowResult(outcome=RowOutcome.FAILED, table=["t"]), "table"),  # type: ignore[arg-type]
        (lambda: TableImport(key=None, state=JobState.RUNNING, provider_state="w"), "key"),  # type: ignore[arg-type]
        (lambda: JobError(code=404), "code"),  # type: ignore[arg-type]
        (lambda: RowResult(outcome=RowOutcome.FAILED, error="bad"), "error"),  # type: ignore[arg-type]
        # pass-through data that is not strict JSON
        (lambda: _job(rows=[_row_with(data={"x": float("nan")})]), "rows[0].data.x"),
        (lambda: _job(rows=[_row_with(data=[1, 2, 1e400])]), "rows[0].data[2]"),
    ],
)
def test_impossible_jobs_raise_one_error_naming_the_field(build: object, path: str) -> None:
    with pytest.raises(InvalidJobError) as info:
        build()  # type: ignore[operator]
    assert info.value.path == path
    assert f": {path}: " in str(info.value)
    assert isinstance(info.value, PayloadError)
    assert isinstance(info.value, ValueError)


def test_a_job_error_names_its_provider_a_part_built_alone_names_importbridge() -> None:
    with pytest.raises(InvalidJobError) as job:
        ImportJob(provider="acme", state=JobState.RUNNING, provider_state="w", processed=2, total=1)
    assert job.value.provider == "acme"
    assert str(job.value).startswith("acme payload: total: ")
    with pytest.raises(InvalidJobError) as row:
        RowResult(row=-1, outcome=RowOutcome.FAILED)
    assert row.value.provider == "importbridge"


@given(ibst.impossible_jobs())
def test_every_impossible_job_is_refused(case: tuple[dict[str, object], str]) -> None:
    fields, path = case
    with pytest.raises(InvalidJobError) as info:
        ImportJob(**fields)  # type: ignore[arg-type]
    assert info.value.path.startswith(path), (info.value.path, path)


@given(ibst.import_jobs())
def test_every_generated_job_satisfies_the_rules_it_is_built_under(job: ImportJob) -> None:
    known = [c for c in (job.created, job.updated, job.duplicates, job.skipped) if c is not None]
    if job.succeeded is not None:
        assert sum(known) <= job.succeeded
    if job.processed is not None and job.total is not None:
        assert job.processed <= job.total
    if job.state.is_terminal:
        words = [state for state in JobState if state.is_terminal]
        assert any(
            settle_state(word, succeeded=job.succeeded, failed=job.failed, job_error=flag) is job.state
            for word in words
            for flag in ((True,) if job.error is not None else (False, True))
        )


def test_unknown_counts_bound_nothing_and_known_ones_chain() -> None:
    # unknown is not zero: a job may say only what it knows
    _job(state=JobState.COMPLETE, succeeded=5)
    _job(state=JobState.PARTIAL, failed=3)
    _job(failed=3, total=3)
    _job(created=1, updated=1, duplicates=1, skipped=1, succeeded=4, failed=1, processed=5, total=9)
    # a job-level failure may stand on the provider's word alone, after rows landed
    _job(state=JobState.PARTIAL, succeeded=300, failed=0)


def test_settled_table_matches_settle_state_everywhere() -> None:
    """The model's table of allowed terminal states is settle_state itself, for every count."""
    for succeeded in (None, 0, 1, 7):
        for failed in (None, 0, 1, 7):
            for error in (None, JobError(code="x")):
                for word in (JobState.COMPLETE, JobState.PARTIAL, JobState.FAILED):
                    for flag in (True,) if error is not None else (False, True):
                        state = settle_state(word, succeeded=succeeded, failed=failed, job_error=flag)
                        _job(state=state, succeeded=succeeded, failed=failed, error=error)


def test_validators_can_still_be_disabled_for_a_trusted_bulk_load() -> None:
    import attrs

    attrs.validators.set_disabled(True)
    try:
        job = _job(state=JobState.COMPLETE, succeeded=1, failed=1)
    finally:
        attrs.validators.set_disabled(False)
    assert job.state is JobState.COMPLETE


def test_rows_data_is_plain_json_within_the_depth_bound() -> None:
    from importbridge.jsontext import MAX_DEPTH

    def nested(depth: int) -> object:
        value: object = "leaf"
        for _ in range(depth):
            value = [value]
        return value

    fine = RowResult(outcome=RowOutcome.FAILED, data=nested(MAX_DEPTH - 3))
    _job(rows=[fine])
    too_deep = RowResult(outcome=RowOutcome.FAILED, data=nested(MAX_DEPTH - 2))
    with pytest.raises(InvalidJobError, match="nested deeper than"):
        _job(rows=[too_deep])
    for bad in ({1: "x"}, (1, 2), {"when": datetime(2024, 1, 1, tzinfo=timezone.utc)}, 10**5000):
        with pytest.raises(InvalidJobError, match=r"rows\[0\]\.data"):
            _job(rows=[RowResult(outcome=RowOutcome.FAILED, data=bad)])
