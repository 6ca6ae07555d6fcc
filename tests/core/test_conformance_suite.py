"""The conformance suite itself: a careful provider passes it, and each kind of sloppiness fails it.

A suite that cannot fail proves nothing, so every check is run here against a provider with
exactly that one fault.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from importbridge import ImportJob, JobState, PayloadError, Provider, RowOutcome, RowResult
from importbridge.testing import ProviderConformance
from importbridge.testing.conformance import ENV_FUZZ_EXAMPLES

WORDS = {"waiting": JobState.PENDING, "busy": JobState.RUNNING, "done": JobState.COMPLETE}


class Careful(Provider):
    """``{"status": word, "count": n, "rows": [{"n": line, "data": ...}]}``, read carefully."""

    name = "careful"
    status_words = WORDS

    def normalize(self, payload: Any) -> ImportJob:
        if not isinstance(payload, dict):
            raise PayloadError(self.name, "", f"expected an object, got {type(payload).__name__}")
        status = payload.get("status")
        if not isinstance(status, str) or status not in WORDS:
            raise PayloadError(self.name, "status", f"unknown status {status!r}")
        count = payload.get("count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
            raise PayloadError(self.name, "count", f"expected a non-negative integer, got {count!r}")
        rows = payload.get("rows", [])
        if not isinstance(rows, list):
            raise PayloadError(self.name, "rows", "expected an array")
        results = []
        for index, row in enumerate(rows):
            if not isinstance(row, dict):
                raise PayloadError(self.name, f"rows[{index}]", "expected an object")
            line = row.get("n")
            if isinstance(line, bool) or not isinstance(line, int) or line < 1:
                raise PayloadError(self.name, f"rows[{index}].n", "expected a positive integer")
            results.append(RowResult(row=line, outcome=RowOutcome.FAILED, data=row.get("data")))
        return ImportJob(
            provider=self.name,
            state=WORDS[status],
            provider_state=status,
            total=count,
            rows=results,
            raw=payload,
        )

    def sample_payloads(self) -> list[Any]:
        return [
            {"status": "waiting"},
            {"status": "busy", "count": 4},
            {"status": "done", "count": 2, "rows": [{"n": 1, "data": {"email": "x"}}]},
        ]


class LeaksKeyError(Careful):
    def normalize(self, payload: Any) -> ImportJob:
        if isinstance(payload, dict):
            payload["status"]  # the fault under test: a bare lookup
        return super().normalize(payload)


class AcceptsBools(Careful):
    def normalize(self, payload: Any) -> ImportJob:
        if isinstance(payload, dict) and isinstance(payload.get("count"), bool):
            payload = {**payload, "count": int(payload["count"])}
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
        if isinstance(payload, dict) and set(payload) - {"status", "count", "rows"}:
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


def suite_for(provider: Provider) -> ProviderConformance:
    class Suite(ProviderConformance):
        fuzz_examples: ClassVar[int] = 400

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


@pytest.mark.parametrize(
    ("provider", "check", "says"),
    [
        (LeaksKeyError(), "test_fuzz_dropped_keys", "KeyError"),
        (LeaksKeyError(), "test_fuzz_dropped_keys", "only PayloadError may escape"),
        (AcceptsBools(), "test_fuzz_wrong_numbers", "count"),
        (LetsTheModelComplain(), "test_fuzz_wrong_numbers", "names provider 'importbridge'"),
        (Mutates(), "test_samples_are_not_mutated", "mutated"),
        (Mutates(), "test_fuzz_dropped_keys", "mutated the caller's payload"),
        (PassesUnknownWords(), "test_fuzz_unknown_status_words", "is not one of status_words"),
        (RejectsExtraFields(), "test_fuzz_unknown_extra_fields_are_ignored", "unknown extra field"),
        (BlamesAnotherProvider(), "test_fuzz_non_objects_are_rejected", "names provider 'someone-else'"),
        (ForgetsAStatusWord(), "test_samples_cover_every_status_word", "['done']"),
        (NoSamples(), "test_samples_normalize", "returned no samples"),
        (InstanceName(), "test_name_is_valid_and_stable", "class attribute"),
        (TaintsItsName(), "test_samples_normalize", "job.provider is 'Careful'"),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Provider) else None,
)
def test_each_fault_fails_its_check(provider: Provider, check: str, says: str) -> None:
    assert says in failure_text(getattr(suite_for(provider), check))


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
