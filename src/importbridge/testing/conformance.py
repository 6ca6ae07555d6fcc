"""The conformance suite every provider runs, the built-ins and third parties alike.

Subclass ``ProviderConformance`` in a test module and name the provider::

    from importbridge.testing import ProviderConformance
    from importbridge_acme import AcmeProvider

    class TestAcme(ProviderConformance):
        provider = AcmeProvider()

pytest then collects every ``test_*`` method below. The samples come from
``provider.sample_payloads()``; the fuzzing derives broken payloads from them with hypothesis
and checks that ``normalize`` answers each with a valid job or a ``PayloadError`` naming the
provider, never anything else, and never touches the caller's payload.

``fuzz_examples`` (default 10,000, or the ``IMPORTBRIDGE_FUZZ_EXAMPLES`` environment variable)
is the total number of fuzz examples, shared among the fuzz checks by ``fuzz_shares``.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import importbridge
from importbridge import Capability, ImportJob, JobState, PayloadError, Provider, UnknownProviderError
from importbridge.provider import NAME_PATTERN

from . import strategies as ibst

__all__ = ["ProviderConformance"]

ENV_FUZZ_EXAMPLES = "IMPORTBRIDGE_FUZZ_EXAMPLES"

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]


def _snapshot(payload: Any) -> str:
    """A comparable copy of a payload (NaN-safe, order-insensitive) to detect mutation."""
    return json.dumps(payload, sort_keys=True, default=repr)


def _is_strict_json(data: Any) -> bool:
    try:
        json.dumps(data, allow_nan=False)
    except ValueError:
        return False
    return True


def _short(payload: Any) -> str:
    text = repr(payload)
    return text if len(text) <= 300 else text[:300] + "..."


def _without_row_data(job: ImportJob) -> dict[str, Any]:
    """The job's contract dict with each row's raw ``data`` blanked (extra keys may land there)."""
    result = importbridge.to_dict(job)
    for row in result["rows"]:
        row["data"] = None
    return result


class ProviderConformance:
    """Base class of a provider's conformance tests: set ``provider`` in a ``Test...`` subclass."""

    provider: ClassVar[Provider]
    fuzz_examples: ClassVar[int] = 10_000
    fuzz_shares: ClassVar[Mapping[str, float]] = {
        "dropped_keys": 0.15,
        "replaced_values": 0.25,
        "wrong_numbers": 0.20,
        "unknown_status_words": 0.10,
        "extra_fields": 0.10,
        "non_objects": 0.05,
        "invalid_utf8": 0.05,
        "truncated_json": 0.10,
    }

    # -- helpers ------------------------------------------------------------------------------

    def _adapter(self) -> Provider:
        provider = getattr(self, "provider", None)
        if not isinstance(provider, Provider):
            pytest.fail(
                f"{type(self).__name__}.provider must be an importbridge.Provider instance, got {provider!r}"
            )
        return provider

    def _samples(self) -> list[Any]:
        samples = list(self._adapter().sample_payloads())
        if not samples:
            pytest.fail(f"{self._adapter().name}: sample_payloads() returned no samples")
        return samples

    def _budget(self, check: str) -> int:
        total = int(os.environ.get(ENV_FUZZ_EXAMPLES) or self.fuzz_examples)
        return max(1, round(total * self.fuzz_shares[check]))

    def _fuzz(self, check: str, strategy: st.SearchStrategy[Any], test: Callable[[Any], object]) -> None:
        @settings(
            max_examples=self._budget(check),
            deadline=None,
            database=None,  # every check shares this inner function's source: keep their examples apart
            suppress_health_check=_QUIET,
        )
        @given(strategy)
        def run(payload: Any) -> None:
            test(payload)

        run()

    def _eligible(self, derive: Callable[[Any], st.SearchStrategy[Any]], what: str) -> st.SearchStrategy[Any]:
        """One strategy over every sample that ``derive`` can work on; skip if there is none."""
        samples = self._samples()
        return self._eligible_indexes(lambda index: derive(samples[index]), what)

    def _eligible_indexes(
        self, derive: Callable[[int], st.SearchStrategy[Any]], what: str
    ) -> st.SearchStrategy[Any]:
        """Like ``_eligible``, for strategies that need to know which sample they came from."""
        strategies = [derive(index) for index in range(len(self._samples()))]
        strategies = [strategy for strategy in strategies if not strategy.is_empty]
        if not strategies:
            pytest.skip(f"{self._adapter().name}: no sample has {what}")
        return st.one_of(strategies)

    def _check_error(self, error: PayloadError, payload: Any) -> None:
        name = self._adapter().name
        assert error.provider == name, (
            f"PayloadError names provider {error.provider!r}, expected {name!r}: {error}"
        )
        assert name in str(error), f"PayloadError message does not name {name!r}: {error}"
        assert isinstance(error.path, str), f"PayloadError.path must be a str: {error.path!r}"
        assert isinstance(error.reason, str), f"PayloadError.reason must be a str: {error!r}"
        assert error.reason, f"PayloadError without a reason: {error!r}"

    def _check_job(self, job: object, payload: Any) -> None:
        provider = self._adapter()
        assert isinstance(job, ImportJob), f"normalize returned {type(job).__name__}, not an ImportJob"
        assert job.provider == provider.name, (
            f"job.provider is {job.provider!r}, expected {provider.name!r} (payload {_short(payload)})"
        )
        assert job.provider_state in provider.status_words, (
            f"job.provider_state {job.provider_state!r} is not one of status_words "
            f"{sorted(provider.status_words)} (payload {_short(payload)})"
        )
        word_state = provider.status_words[job.provider_state]
        if word_state.is_terminal:
            assert job.state.is_terminal, f"{job.provider_state!r} is terminal but job.state is {job.state}"
        else:
            assert job.state is word_state, (
                f"{job.provider_state!r} means {word_state} but job.state is {job.state}"
            )
        data = importbridge.to_dict(job)
        json.dumps(_without_row_data(job), allow_nan=False)  # strict JSON outside the raw rows
        if _is_strict_json(data):
            assert importbridge.from_dict(data) == job, f"from_dict(to_dict(job)) != job for {job!r}"
            assert importbridge.from_json(importbridge.to_json(job)) == job, "from_json(to_json(job)) != job"
        else:  # a caller's NaN in a raw row: equal as text, as NaN != NaN
            text = importbridge.to_json(job)
            assert importbridge.to_json(importbridge.from_dict(data)) == text, "to_dict does not round-trip"
            assert importbridge.to_json(importbridge.from_json(text)) == text, "to_json does not round-trip"

    def _outcome(self, payload: Any, *, decoded: bool = False) -> ImportJob | None:
        """Normalize; the answer must be a valid job or a PayloadError naming the provider."""
        provider = self._adapter()
        before = _snapshot(payload) if not isinstance(payload, (str, bytes)) else None
        try:
            job = provider.normalize(payload) if decoded else importbridge.normalize(provider, payload)
        except PayloadError as error:
            self._check_error(error, payload)
            job = None
        except Exception as error:
            raise AssertionError(
                f"{provider.name}: normalize raised {type(error).__name__}: {error} "
                f"(only PayloadError may escape) for payload {_short(payload)}"
            ) from error
        if before is not None:
            assert _snapshot(payload) == before, f"normalize mutated the caller's payload {_short(payload)}"
        if job is not None:
            self._check_job(job, payload)
        return job

    def _rejects(self, payload: Any, *, decoded: bool = False) -> None:
        job = self._outcome(payload, decoded=decoded)
        assert job is None, f"{self._adapter().name}: accepted a bad payload {_short(payload)} as {job!r}"

    # -- the provider itself ------------------------------------------------------------------

    def test_name_is_valid_and_stable(self) -> None:
        provider = self._adapter()
        assert isinstance(provider.name, str), f"provider name {provider.name!r} must be a str"
        assert NAME_PATTERN.match(provider.name), (
            f"provider name {provider.name!r} must match {NAME_PATTERN.pattern}"
        )
        assert type(provider).name == provider.name, "name must be a class attribute, not set per instance"
        try:
            registered = importbridge.get_provider(provider.name)
        except UnknownProviderError:
            return  # not installed in this environment: nothing to compare with
        assert type(registered) is type(provider), (
            f"the name {provider.name!r} is registered to {type(registered).__qualname__}, "
            f"not {type(provider).__qualname__}"
        )

    def test_declares_normalize_capability(self) -> None:
        assert Capability.NORMALIZE in self._adapter().capabilities

    def test_status_words_map_to_job_states(self) -> None:
        words = self._adapter().status_words
        assert words, "status_words is empty"
        for word, state in words.items():
            assert isinstance(word, str), f"status word {word!r} must be a str"
            assert word, "a status word is empty"
            assert isinstance(state, JobState), f"status word {word!r} maps to {state!r}, not a JobState"
        assert any(state.is_terminal for state in words.values()), "no status word is terminal"

    # -- the samples --------------------------------------------------------------------------

    def test_samples_normalize(self) -> None:
        for sample in self._samples():
            job = self._outcome(sample, decoded=True)
            assert job is not None, f"sample {_short(sample)} was rejected"
            assert self._adapter().normalize(sample) == job, "normalize is not deterministic"

    def test_samples_normalize_from_json_text_and_bytes(self) -> None:
        provider = self._adapter()
        for sample in self._samples():
            expected = provider.normalize(sample)
            text = json.dumps(sample)
            assert importbridge.normalize(provider, text) == expected, "JSON text normalizes differently"
            assert importbridge.normalize(provider, text.encode()) == expected, "JSON bytes differ"
            assert importbridge.normalize(provider, sample) == expected

    def test_samples_are_not_mutated(self) -> None:
        for sample in self._samples():
            before = copy.deepcopy(sample)
            self._adapter().normalize(sample)
            assert sample == before, f"normalize mutated sample {_short(before)}"

    def test_samples_cover_every_status_word(self) -> None:
        provider = self._adapter()
        seen = {provider.normalize(sample).provider_state for sample in self._samples()}
        missing = sorted(set(provider.status_words) - seen)
        assert not missing, f"no sample payload has status word(s) {missing}"

    # -- fuzzing ------------------------------------------------------------------------------

    def test_fuzz_dropped_keys(self) -> None:
        """Keys removed at any depth: a job, or a PayloadError (a required field went missing)."""
        self._fuzz("dropped_keys", self._eligible(ibst.dropped_keys, "keys"), self._outcome)

    def test_fuzz_replaced_values(self) -> None:
        """Any node replaced by a value of the wrong kind: a job, or a PayloadError."""
        self._fuzz("replaced_values", self._eligible(ibst.replaced_values, "fields"), self._outcome)

    def test_fuzz_wrong_numbers(self) -> None:
        """Bools, floats, negative and huge numbers, numeric strings where an integer was.

        A bool is never an integer: if the job read from ``true`` equals the job read from ``1``
        at a place whose value matters (``1`` and ``8`` give different jobs), the bool was taken
        for a number.
        """
        samples = self._samples()

        def derive(index: int) -> st.SearchStrategy[tuple[int, ibst.Path, Any]]:
            return ibst.wrong_number_swaps(samples[index]).map(lambda swap: (index, *swap))

        def check(case: tuple[int, ibst.Path, Any]) -> None:
            index, path, new = case
            job = self._outcome(ibst.replace_at(samples[index], path, new), decoded=True)
            if job is not None and isinstance(new, bool):
                self._check_bool_is_not_a_number(samples[index], path, new, job)

        self._fuzz("wrong_numbers", self._eligible_indexes(derive, "integers"), check)

    def _check_bool_is_not_a_number(self, sample: Any, path: ibst.Path, new: bool, job: ImportJob) -> None:
        as_number = self._outcome(ibst.replace_at(sample, path, int(new)), decoded=True)
        other = self._outcome(ibst.replace_at(sample, path, int(new) + 7), decoded=True)
        if as_number is None or other is None:
            return
        matters = importbridge.to_json(as_number) != importbridge.to_json(other)
        assert not (matters and importbridge.to_json(job) == importbridge.to_json(as_number)), (
            f"{self._adapter().name}: took {new!r} for the integer {int(new)} at {list(path)}"
            f" (a bool is not an integer) in {_short(ibst.replace_at(sample, path, new))}"
        )

    def test_fuzz_unknown_status_words(self) -> None:
        """An unknown word where the status word was is a PayloadError, wherever the word sits."""
        words = self._adapter().status_words
        samples = self._samples()
        provider = self._adapter()

        def replace_all(index: int, new: str) -> Any:
            sample = samples[index]
            return ibst.replace_word_everywhere(sample, provider.normalize(sample).provider_state, new)

        everywhere = st.builds(
            replace_all,
            st.integers(min_value=0, max_value=len(samples) - 1),
            st.text(max_size=20).filter(
                lambda word: word.strip().casefold() not in {w.strip().casefold() for w in words}
            ),
        )
        one_place = self._eligible(lambda sample: ibst.unknown_status_words(sample, words), "status words")

        def check(pair: tuple[bool, Any]) -> None:
            must_fail, payload = pair
            if must_fail:
                self._rejects(payload, decoded=True)
            else:
                self._outcome(payload, decoded=True)

        strategy = st.tuples(st.just(True), everywhere) | st.tuples(st.just(False), one_place)
        self._fuzz("unknown_status_words", strategy, check)

    def test_fuzz_unknown_extra_fields_are_ignored(self) -> None:
        """An added unknown key changes nothing but, at most, a row's raw ``data``."""
        provider = self._adapter()
        samples = self._samples()
        expected = [_without_row_data(provider.normalize(sample)) for sample in samples]

        def derive(index: int) -> st.SearchStrategy[tuple[int, Any]]:
            return ibst.extra_fields(samples[index]).map(lambda payload: (index, payload))

        def check(pair: tuple[int, Any]) -> None:
            index, payload = pair
            job = self._outcome(payload, decoded=True)
            assert job is not None, f"an unknown extra field was rejected: {_short(payload)}"
            assert _without_row_data(job) == expected[index], (
                f"an unknown extra field changed the job: {_short(payload)}"
            )

        self._fuzz("extra_fields", self._eligible_indexes(derive, "JSON objects"), check)

    def test_fuzz_non_objects_are_rejected(self) -> None:
        self._fuzz("non_objects", ibst.non_objects(), lambda value: self._rejects(value, decoded=True))

    def test_fuzz_invalid_utf8_is_rejected(self) -> None:
        self._fuzz("invalid_utf8", self._eligible(ibst.invalid_utf8, "JSON"), self._rejects)

    def test_fuzz_truncated_json_is_rejected(self) -> None:
        def derive(sample: Any) -> st.SearchStrategy[Any]:
            return ibst.truncated_json(sample) if isinstance(sample, (dict, list)) else st.nothing()

        self._fuzz("truncated_json", self._eligible(derive, "objects"), self._rejects)
