"""The conformance suite itself: a careful provider passes it, and each kind of sloppiness fails it.

A suite that cannot fail proves nothing, so every check is run here against a provider with
exactly that one fault.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any, ClassVar

import attrs
import pytest

from importbridge import (
    ImportJob,
    JobError,
    JobState,
    LongArray,
    PayloadError,
    PayloadReader,
    Provider,
    RowOutcome,
    RowResult,
    TableImport,
    settle_state,
)
from importbridge.testing import ProviderConformance
from importbridge.testing.conformance import ENV_FUZZ_EXAMPLES, _model_refused, check_contract_rules

# The model refusing what a provider built fails the provider (with the model's own checks,
# some faults are caught there first, whatever the model's error class).
MODEL_REFUSED = "the model refused the job normalize built"

WORDS = {"waiting": JobState.PENDING, "busy": JobState.RUNNING, "done": JobState.COMPLETE}


class Careful(Provider):
    """``{"status": word, "count": n, "ok": n, "bad": n, "at": unix seconds, "rows": [{"n": line,
    "data": ...}]}``, read carefully: ``ok`` rows landed and ``bad`` were rejected of ``count``."""

    name = "careful"
    status_words = WORDS
    first_line = 1

    def count(self, payload: dict[str, Any], key: str) -> int | None:
        value = payload.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise PayloadError(self.name, key, f"expected a non-negative integer, got {value!r}")
        return value

    def normalize(self, payload: Any) -> ImportJob:
        if not isinstance(payload, dict):
            raise PayloadError(self.name, "", f"expected an object, got {type(payload).__name__}")
        status = payload.get("status")
        if not isinstance(status, str) or status not in WORDS:
            raise PayloadError(self.name, "status", f"unknown status {status!r}")
        count, ok, bad = (self.count(payload, key) for key in ("count", "ok", "bad"))
        processed = None if ok is None or bad is None else ok + bad
        if processed is not None and count is not None and processed > count:
            raise PayloadError(self.name, "bad", f"ok + bad ({processed}) exceeds count ({count})")
        rows = payload.get("rows", [])
        if not isinstance(rows, list):
            raise PayloadError(self.name, "rows", "expected an array")
        results = []
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                raise PayloadError(self.name, f"rows[{index}]", "expected an object")
            line = row.get("n")
            if isinstance(line, bool) or not isinstance(line, int) or line < self.first_line:
                raise PayloadError(self.name, f"rows[{index}].n", "expected a positive integer")
            results.append(RowResult(row=line, outcome=RowOutcome.FAILED, data=row.get("data")))
        return ImportJob(
            provider=self.name,
            state=settle_state(WORDS[status], succeeded=ok, failed=bad),
            provider_state=status,
            total=count,
            processed=processed,
            succeeded=ok,
            failed=bad,
            updated_at=PayloadReader(self.name, payload).datetime("at", unit="s"),
            rows=results,
            raw=payload,
        )

    def sample_payloads(self) -> list[Any]:
        return [
            {"status": "waiting", "at": 1714557600},
            {"status": "busy", "count": 4, "ok": 1, "bad": 1},
            {"status": "done", "count": 3, "ok": 2, "bad": 1, "rows": [{"n": 1, "data": {"email": "x"}}]},
        ]


class LeaksKeyError(Careful):
    def normalize(self, payload: Any) -> ImportJob:
        if isinstance(payload, dict):
            payload["status"]  # the fault under test: a bare lookup
        return super().normalize(payload)


class AcceptsBools(Careful):
    def normalize(self, payload: Any) -> ImportJob:
        if isinstance(payload, dict):
            payload = {
                key: int(value) if isinstance(value, bool) else value for key, value in payload.items()
            }
        return super().normalize(payload)


class LetsTheModelComplain(Careful):
    """Passes the payload's count unchecked to a row, whose refusal cannot name the provider."""

    def normalize(self, payload: Any) -> ImportJob:
        job = super().normalize({**payload, "count": None} if isinstance(payload, dict) else payload)
        row = RowResult(row=payload.get("count"), outcome=RowOutcome.CREATED)
        return ImportJob(provider=self.name, state=job.state, provider_state=job.provider_state, rows=[row])


class Mutates(Careful):
    def normalize(self, payload: Any) -> ImportJob:
        if isinstance(payload, dict):
            payload.setdefault("rows", [])
        return super().normalize(payload)


class PassesUnknownWords(Careful):
    def normalize(self, payload: Any) -> ImportJob:
        if (
            isinstance(payload, dict)
            and isinstance(payload.get("status"), str)
            and payload["status"] not in WORDS
        ):
            return ImportJob(provider=self.name, state=JobState.RUNNING, provider_state=payload["status"])
        return super().normalize(payload)


class RejectsExtraFields(Careful):
    def normalize(self, payload: Any) -> ImportJob:
        if isinstance(payload, dict) and set(payload) - {"status", "count", "ok", "bad", "at", "rows"}:
            raise PayloadError(self.name, "", "unexpected field")
        return super().normalize(payload)


class BlamesAnotherProvider(Careful):
    def normalize(self, payload: Any) -> ImportJob:
        try:
            return super().normalize(payload)
        except PayloadError as error:
            raise PayloadError("someone-else", error.path, error.reason) from None


class ForgetsAStatusWord(Careful):
    def sample_payloads(self) -> list[Any]:
        return [{"status": "waiting"}, {"status": "busy"}]


class NoSamples(Careful):
    def sample_payloads(self) -> list[Any]:
        return []


class InstanceName(Careful):
    def __init__(self) -> None:
        self.name = "renamed"  # type: ignore[misc]


class TaintsItsName(Careful):
    def normalize(self, payload: Any) -> ImportJob:
        job = super().normalize(payload)
        return ImportJob(provider="Careful", state=job.state, provider_state=job.provider_state)


class SkipsSettleState(Careful):
    """Maps the word straight to its state: "done" is complete, whatever was rejected."""

    def normalize(self, payload: Any) -> ImportJob:
        job = super().normalize(payload)
        return attrs.evolve(job, state=WORDS[job.provider_state])


class InventsZeros(Careful):
    """Reports a count the payload does not carry as 0."""

    def normalize(self, payload: Any) -> ImportJob:
        job = super().normalize(payload)
        return attrs.evolve(job, succeeded=job.succeeded or 0)


class NaiveLocalTime(Careful):
    """Reads the unix timestamp with ``datetime.fromtimestamp`` (local time, no zone)."""

    def normalize(self, payload: Any) -> ImportJob:
        job = super().normalize(payload)
        at = payload.get("at") if isinstance(payload, dict) else None
        return attrs.evolve(job, updated_at=None if at is None else datetime.fromtimestamp(at))


class OverCounts(Careful):
    """Does not check that ok + bad fits in count."""

    def normalize(self, payload: Any) -> ImportJob:
        if isinstance(payload, dict) and payload.get("count") is not None:
            job = super().normalize({**payload, "count": None})
            return attrs.evolve(job, total=self.count(payload, "count"))
        return super().normalize(payload)


class CountsRowsFromZero(Careful):
    first_line = 0  # takes line 0 (rows count from 1)


class LeavesATableRunning(Careful):
    def normalize(self, payload: Any) -> ImportJob:
        job = super().normalize(payload)
        table = TableImport(key="main", state=JobState.RUNNING, provider_state="busy")
        return attrs.evolve(job, tables=[table])


class ReadsNumbersFromText(Careful):
    """Takes ``"12"`` for 12 with ``int(float(text))``: NaN, inf and 5,000 digits then crash."""

    def normalize(self, payload: Any) -> ImportJob:
        if isinstance(payload, dict) and isinstance(payload.get("count"), str):
            payload = {**payload, "count": int(float(payload["count"]))}
        return super().normalize(payload)


class EncodesText(Careful):
    """Encodes row data to UTF-8 (a lone surrogate, valid in JSON text, cannot be)."""

    def normalize(self, payload: Any) -> ImportJob:
        job = super().normalize(payload)
        for row in job.rows:
            json.dumps(row.data, ensure_ascii=False).encode("utf-8")
        return job


class DeclaresNoCapability(Careful):
    capabilities = frozenset()


class HasNoTerminalWord(Careful):
    status_words = MappingProxyType({"waiting": JobState.PENDING, "busy": JobState.RUNNING})


class TrustsTheKindOfRows(Careful):
    """Counts ``rows`` with ``len()`` before checking it is an array."""

    def normalize(self, payload: Any) -> ImportJob:
        if isinstance(payload, dict) and payload.get("rows") is not None and len(payload["rows"]) > 1000:
            raise PayloadError(self.name, "rows", "too many rows")
        return super().normalize(payload)


def _numbered(chunk: list[Any]) -> bool:
    """Whether every row of a chunk is an object numbered from 1 (one to build as it is)."""
    return all(type(row) is dict and type(row.get("n")) is int and row["n"] >= 1 for row in chunk)


class ChunksItsRows(Careful):
    """Careful, with ``rows`` a long row array (``row_arrays``): when ``_numbered`` passed every
    chunk, the rows are built without a second look; else Careful reads (and explains) them."""

    def row_arrays(self) -> Mapping[str, Callable[[list[Any]], object]]:
        return MappingProxyType({"rows": _numbered})

    def sample_payloads(self) -> list[Any]:
        rows = [{"n": line, "data": {"email": f"x{line}"}} for line in (1, 2, 4)]
        return [*super().sample_payloads(), {"status": "done", "count": 4, "ok": 1, "bad": 3, "rows": rows}]

    def plain(self, rows: Sequence[Any]) -> bool:
        return all(PayloadReader.fold(rows, _numbered))

    def normalize(self, payload: Any) -> ImportJob:
        rows = payload.get("rows") if isinstance(payload, dict) else None
        if type(rows) in (list, LongArray) and rows and self.plain(rows):
            job = super().normalize({**payload, "rows": []})
            built = [RowResult(row=row["n"], outcome=RowOutcome.FAILED, data=row.get("data")) for row in rows]
            return attrs.evolve(job, rows=built, raw=payload)
        if type(rows) is LongArray:
            payload = {**payload, "rows": list(rows)}
        return super().normalize(payload)


class ChecksTheFirstChunkOnly(ChunksItsRows):
    """Takes the first chunk's answer for them all (right for a list: it has one chunk)."""

    def plain(self, rows: Sequence[Any]) -> bool:
        return bool(PayloadReader.fold(rows, _numbered)[0])


def _numbered_carelessly(chunk: list[Any]) -> bool:
    return all(row["n"] >= 1 for row in chunk)  # the fault: a TypeError for an entry not an object


class ChecksCarelessly(ChunksItsRows):
    """Its ``row_arrays`` check takes every entry for an object: for a long text, the TypeError
    escapes the decode, before normalize is called (its own reading is careful)."""

    def row_arrays(self) -> Mapping[str, Callable[[list[Any]], object]]:
        return {"rows": _numbered_carelessly}


class TakesOnlyLists(Careful):
    """Declares ``rows`` a long row array, but reads it only as a list."""

    def row_arrays(self) -> Mapping[str, Callable[[list[Any]], object]]:
        return {"rows": _numbered}


class DeclaresAnEmptyStep(ChunksItsRows):
    def row_arrays(self) -> Mapping[str, Callable[[list[Any]], object]]:
        return {"rows..n": _numbered}


class DeclaresNoFunction(ChunksItsRows):
    def row_arrays(self) -> Mapping[str, Callable[[list[Any]], object]]:
        return {"rows": None}  # type: ignore[dict-item]


class DeclaresAnArrayNoSampleHas(ChunksItsRows):
    def row_arrays(self) -> Mapping[str, Callable[[list[Any]], object]]:
        return {"rows": _numbered, "lines": _numbered}


def suite_for(provider: Provider, examples: int = 400) -> ProviderConformance:
    class Suite(ProviderConformance):
        fuzz_examples: ClassVar[int] = examples

    Suite.provider = provider
    return Suite()


def failure_text(check: Callable[[], None]) -> str:
    """Run one suite check that must fail; return everything it said (groups included)."""
    try:
        check()
    except BaseException as error:  # AssertionError, hypothesis' groups, pytest's Failed
        if isinstance(error, KeyboardInterrupt):
            raise
        return "".join(traceback.format_exception(error))
    pytest.fail("the conformance check passed a provider with a fault")


@pytest.fixture(autouse=True)
def _own_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_FUZZ_EXAMPLES, raising=False)


CHECKS = [name for name in dir(ProviderConformance) if name.startswith("test_")]


@pytest.mark.parametrize("check", CHECKS)
def test_a_careful_provider_passes_every_check(check: str) -> None:
    getattr(suite_for(Careful()), check)()


@pytest.mark.parametrize("check", CHECKS)
def test_a_provider_reading_its_rows_in_chunks_passes_every_check(check: str) -> None:
    getattr(suite_for(ChunksItsRows()), check)()


def test_checking_only_the_first_chunk_is_right_for_lists() -> None:
    # so the kit's long row array checks, and only they, can tell the fault
    sample = ChecksTheFirstChunkOnly().sample_payloads()[-1]
    bad = {**sample, "rows": [*sample["rows"][:2], {"n": 0}]}
    with pytest.raises(PayloadError, match=r"rows\[2\]\.n"):
        ChecksTheFirstChunkOnly().normalize(bad)


@pytest.mark.parametrize(
    ("provider", "check", "says"),
    [
        (LeaksKeyError(), "test_fuzz_dropped_keys", "KeyError"),
        (LeaksKeyError(), "test_fuzz_dropped_keys", "only PayloadError may escape"),
        (AcceptsBools(), "test_fuzz_wrong_numbers", ("(a bool is not an integer)", "count")),
        (LetsTheModelComplain(), "test_fuzz_wrong_numbers", (MODEL_REFUSED, "names provider 'importbridge'")),
        (Mutates(), "test_samples_are_not_mutated", "mutated"),
        (Mutates(), "test_fuzz_dropped_keys", "mutated the caller's payload"),
        (PassesUnknownWords(), "test_fuzz_unknown_status_words", "is not one of status_words"),
        (RejectsExtraFields(), "test_fuzz_unknown_extra_fields_are_ignored", "unknown extra field"),
        (BlamesAnotherProvider(), "test_fuzz_non_objects_are_rejected", "names provider 'someone-else'"),
        (ForgetsAStatusWord(), "test_samples_cover_every_status_word", "['done']"),
        (NoSamples(), "test_samples_normalize", "returned no samples"),
        (InstanceName(), "test_name_is_valid_and_stable", "class attribute"),
        (TaintsItsName(), "test_samples_normalize", "job.provider is 'Careful'"),
        (DeclaresNoCapability(), "test_declares_normalize_capability", "assert 'normalize' in frozenset()"),
        (HasNoTerminalWord(), "test_status_words_map_to_job_states", "no status word is terminal"),
        (TrustsTheKindOfRows(), "test_fuzz_replaced_values", "normalize raised TypeError"),
        (SkipsSettleState(), "test_samples_normalize", ("the counts decide, not the word", MODEL_REFUSED)),
        (SkipsSettleState(), "test_fuzz_recounted", ("the counts decide, not the word", MODEL_REFUSED)),
        (InventsZeros(), "test_unknown_counts_stay_unknown", "succeeded: 1 -> 0"),
        (
            NaiveLocalTime(),
            "test_samples_do_not_depend_on_the_host_time_zone",
            ("fromtimestamp", MODEL_REFUSED),
        ),
        (OverCounts(), "test_fuzz_recounted", ("exceeds", MODEL_REFUSED)),
        (CountsRowsFromZero(), "test_fuzz_recounted", "rows count from 1"),
        (LeavesATableRunning(), "test_samples_normalize", "table 'main' is running"),
        (ReadsNumbersFromText(), "test_fuzz_hostile_values", "only PayloadError may escape"),
        (EncodesText(), "test_fuzz_hostile_values", "UnicodeEncodeError"),
        (EncodesText(), "test_fuzz_hostile_json_text", "UnicodeEncodeError"),
        (TakesOnlyLists(), "test_samples_normalize_alike_from_long_row_arrays", "rejected a payload with"),
        (  # an unchecked late entry: refused by the model, accepted, or (not an object) a TypeError
            ChecksTheFirstChunkOnly(),
            "test_fuzz_long_row_arrays",
            (
                MODEL_REFUSED,
                "accepted a payload with",
                "(only PayloadError may escape) with its row arrays as LongArrays",
            ),
        ),
        (ChecksCarelessly(), "test_fuzz_long_row_arrays", "a row_arrays() check raised"),
        (DeclaresAnEmptyStep(), "test_row_arrays_are_declared_well", "'rows..n' has an empty step"),
        (DeclaresNoFunction(), "test_row_arrays_are_declared_well", "must be callable, got NoneType"),
        (DeclaresAnArrayNoSampleHas(), "test_row_arrays_are_declared_well", "names 'lines', but no sample"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Provider) else None,
)
def test_each_fault_fails_its_check(provider: Provider, check: str, says: str | tuple[str, ...]) -> None:
    # a generous budget: a failing check stops at its first failure, so it costs little
    said = failure_text(getattr(suite_for(provider, examples=20_000), check))
    assert any(text in said for text in ((says,) if isinstance(says, str) else says)), said[-3000:]


def test_a_missing_provider_is_reported() -> None:
    class Forgot(ProviderConformance):
        pass

    assert "must be an importbridge.Provider instance" in failure_text(Forgot().test_samples_normalize)


def test_the_default_budget_is_ten_thousand_examples_split_over_the_fuzz_checks() -> None:
    suite = ProviderConformance()
    fuzz = [name.removeprefix("test_fuzz_") for name in CHECKS if name.startswith("test_fuzz_")]
    assert len(fuzz) == len(suite.fuzz_shares)
    assert sum(suite._budget(check) for check in suite.fuzz_shares) >= 10_000


def test_the_environment_overrides_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_FUZZ_EXAMPLES, "100")
    suite = ProviderConformance()
    assert sum(suite._budget(check) for check in suite.fuzz_shares) == 100


# -- the rules on one job, without the model's help ------------------------------------------------
# The model refuses some of these jobs itself; the kit's rules must hold on their own, so these
# jobs are built past the model's checks (``object.__setattr__`` on the frozen instance).


def _job(**fields: Any) -> ImportJob:
    job = ImportJob(provider="careful", state=JobState.RUNNING, provider_state="busy")
    for name, value in fields.items():
        object.__setattr__(job, name, value)
    return job


DONE = {"provider_state": "done"}
RUNNING = TableImport(key="a", state=JobState.RUNNING, provider_state="busy")
FAILED_TABLE = TableImport(key="a", state=JobState.FAILED, provider_state="done", error=JobError())


def _rule_failure(job: ImportJob) -> str:
    with pytest.raises(AssertionError) as caught:
        check_contract_rules(job, WORDS)
    return str(caught.value)


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"updated_at": datetime(2024, 5, 1, 10)}, "not an aware UTC datetime"),
        ({"created_at": datetime(2024, 5, 1, 10, tzinfo=timezone.max)}, "not an aware UTC datetime"),
        ({"succeeded": 3, "failed": 2, "processed": 4}, "succeeded + failed (5) exceeds processed (4)"),
        ({"processed": 5, "total": 4}, "processed (5) exceeds total (4)"),
        ({"succeeded": 1, "created": 1, "updated": 1}, "created + updated (2) exceeds succeeded (1)"),
        ({"failed": -1}, "job.failed is -1"),
        ({"succeeded": True}, "job.succeeded is True"),
        ({"progress": 1.5}, "job.progress is 1.5"),
        ({"rows": (RowResult(row=0, outcome=RowOutcome.FAILED),)}, "rows count from 1"),
        ({"provider_state": "gone"}, "is not one of status_words"),
        ({"provider_state": "done"}, "'done' is terminal but job.state is running"),
        ({**DONE, "state": JobState.COMPLETE, "succeeded": 1, "failed": 2}, "settle_state gives partial"),
        ({**DONE, "state": JobState.FAILED, "succeeded": 1}, "settle_state gives"),
        ({**DONE, "state": JobState.COMPLETE, "error": JobError()}, "settle_state gives failed"),
        ({"rows": (RowResult(row=1, outcome=RowOutcome.FAILED, table="b"),), "tables": (RUNNING,)}, "'b'"),
        ({**DONE, "state": JobState.COMPLETE, "tables": (FAILED_TABLE,)}, "but table 'a' is failed"),
        ({**DONE, "state": JobState.PARTIAL, "tables": (FAILED_TABLE,)}, "every table failed but the job"),
        ({"tables": (attrs.evolve(RUNNING, state=JobState.COMPLETE, error=JobError()),)}, "is complete"),
    ],
)  # fmt: skip
def test_each_broken_rule_is_named(fields: dict[str, Any], says: str) -> None:
    assert says in _rule_failure(_job(**fields))


@pytest.mark.parametrize(
    "fields",
    [
        {**DONE, "state": JobState.PARTIAL, "failed": 1, "error": JobError()},  # succeeded unknown
        {**DONE, "state": JobState.COMPLETE, "succeeded": 0, "failed": 0},  # zero rows
        {**DONE, "state": JobState.FAILED, "error": JobError()},
        {**DONE, "state": JobState.PARTIAL, "succeeded": 2, "failed": 1, "processed": 3, "total": 3},
        {**DONE, "state": JobState.FAILED, "tables": (FAILED_TABLE, attrs.evolve(FAILED_TABLE, key="b"))},
    ],
)  # fmt: skip
def test_jobs_that_keep_the_rules_pass(fields: dict[str, Any]) -> None:
    check_contract_rules(_job(**fields), WORDS)


def test_a_word_that_means_failed_is_a_job_level_failure() -> None:
    words = {**WORDS, "failed": JobState.FAILED}
    partial = _job(state=JobState.PARTIAL, provider_state="failed", succeeded=3, failed=0)
    check_contract_rules(partial, words)  # some landed, then the job failed: partial
    complete = _job(state=JobState.COMPLETE, provider_state="failed", succeeded=3, failed=0)
    check_contract_rules(complete, words)  # the word does not say a job-level error struck


def test_a_subclass_with_its_own_shares_gets_the_new_checks_default_share() -> None:
    class OldShares(ProviderConformance):
        fuzz_shares: ClassVar[dict[str, float]] = {"dropped_keys": 0.5}

    suite = OldShares()
    assert suite._budget("dropped_keys") == 5000
    assert suite._budget("recounted") == ProviderConformance()._budget("recounted")


def test_model_refusals_are_told_by_where_they_are_raised() -> None:
    def rows() -> Iterator[RowResult]:
        raise PayloadError("careful", "rows", "raised while the model builds the job")
        yield  # pragma: no cover

    with pytest.raises(PayloadError) as through_the_model:
        ImportJob(provider="careful", state=JobState.RUNNING, provider_state="busy", rows=rows())
    assert _model_refused(through_the_model.value)
    with pytest.raises(ValueError, match="row") as by_the_model:
        RowResult.of(-1, RowOutcome.FAILED)
    assert _model_refused(by_the_model.value)
    with pytest.raises(PayloadError) as by_the_adapter:
        Careful().normalize({"status": "gone"})
    assert not _model_refused(by_the_adapter.value)
