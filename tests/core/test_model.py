"""The model: the job state machine, the contract's terminal rule, and the validators."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from importbridge import ImportJob, JobError, JobState, RowOutcome, RowResult, TableImport, settle_state

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


@given(st.sampled_from(COUNT_FIELDS), st.none() | st.integers(min_value=0))
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


@given(st.datetimes(timezones=st.none() | st.timezones(), min_value=datetime(1900, 1, 2)))
def test_timestamps_are_kept_in_utc(value: datetime) -> None:
    job = _job(created_at=value)
    assert job.created_at is not None
    assert job.created_at.utcoffset() == timedelta(0)
    in_utc = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    assert job.created_at == in_utc


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
    with pytest.raises(TypeError, match="state"):
        _job(state="complete")
    with pytest.raises(TypeError, match="outcome"):
        RowResult(outcome="failed")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="state"):
        TableImport(key="t", state="running", provider_state="w")  # type: ignore[arg-type]


def test_models_are_frozen() -> None:
    job = _job(error=JobError(code="c"))
    with pytest.raises(AttributeError):
        job.state = JobState.FAILED  # type: ignore[misc]
