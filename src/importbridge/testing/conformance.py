"""The conformance suite every provider runs, the built-ins and third parties alike.

Subclass ``ProviderConformance`` in a test module and name the provider::

    from importbridge.testing import ProviderConformance
    from importbridge_acme import AcmeProvider

    class TestAcme(ProviderConformance):
        provider = AcmeProvider()

pytest then collects every ``test_*`` method below. The samples come from
``provider.sample_payloads()``; the fuzzing derives broken and recounted payloads from them
with hypothesis and checks that ``normalize`` answers each with a ``PayloadError`` naming the
provider or with a job that keeps the contract's rules, never anything else, and never touches
the caller's payload. The rules, checked on every job (``check_contract_rules``):

- ``provider_state`` is one of ``provider.status_words``; a non-terminal word gives its state,
  a terminal word a terminal state;
- a terminal state is one ``settle_state`` gives for the job's counts and error (a count the
  job leaves unknown may be anything; a word that means failed counts as a job-level error);
- counts are consistent where known (succeeded + failed <= processed <= total; created +
  updated + duplicates + skipped <= succeeded); progress is within 0..1;
- timestamps are aware and in UTC; rows are numbered from 1;
- tables agree with the job: a finished job has no unfinished table, a complete job no failed
  one, a job whose every table failed failed, and a row's ``table`` names one of its tables.

Beyond single jobs: a count the payload does not carry is None (every optional integer field
deleted, no count of the job may change to another value), a job does not depend on the host's
time zone (``datetime.fromtimestamp`` without ``tz``), and the model refusing the job the
provider built is the provider's failure, even when the model's error is a ``PayloadError``.

Long row arrays: a provider that declares ``row_arrays()`` must normalize each payload alike
whether those arrays arrive as lists or as ``LongArray`` objects cut into many chunks (the
shape ``importbridge.normalize`` gives a payload text of ``LONG_TEXT`` bytes or more): the same
job and rows, or the same ``PayloadError``, also with a wrong value inside a row array.

``fuzz_examples`` (default 10,000, or the ``IMPORTBRIDGE_FUZZ_EXAMPLES`` environment variable)
is the total number of fuzz examples, shared among the fuzz checks by ``fuzz_shares`` (a
subclass that sets its own ``fuzz_shares`` without the newer checks gets the default share
for those).
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import importbridge
from importbridge import (
    Capability,
    ImportJob,
    InvalidJobError,
    JobState,
    PayloadError,
    Provider,
    UnknownProviderError,
    longarrays,
    settle_state,
)
from importbridge.jsontext import loads as strict_loads
from importbridge.provider import NAME_PATTERN

from . import strategies as ibst

__all__ = ["ProviderConformance", "check_contract_rules"]

ENV_FUZZ_EXAMPLES = "IMPORTBRIDGE_FUZZ_EXAMPLES"

_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]


def _snapshot(payload: Any) -> str:
    """A comparable copy of a payload (NaN-safe, order-insensitive) to detect mutation."""
    return json.dumps(payload, sort_keys=True, default=repr)


def _short(payload: Any) -> str:
    text = repr(payload)
    return text if len(text) <= 300 else text[:300] + "..."


def _without_row_data(job: ImportJob) -> dict[str, Any]:
    """The job's contract dict with each row's raw ``data`` blanked (extra keys may land there)."""
    result = importbridge.to_dict(job)
    for row in result["rows"]:
        row["data"] = None
    return result


_COUNTS = ("total", "processed", "succeeded", "failed", "created", "updated", "duplicates", "skipped")
_TIMESTAMPS = ("created_at", "started_at", "finished_at", "updated_at", "expires_at")
_ZERO = timedelta(0)
# Host time zones the samples are normalized under (POSIX TZ strings: no tz database needed).
_HOST_ZONES = ("UTC0", "<+0530>-5:30", "<-0700>7")
_MODEL_MODULE = ImportJob.__module__
_PASS_THROUGH = re.compile(r"^rows\[\d+\]\.data(?:[.\[]|$)")
_MODEL_INIT = "<importbridge fast __init__"  # the file name of the model's compiled __init__s


#: chunk sizes every sample's row arrays are cut in: about one entry each, a few entries, and the
#: size ``importbridge.normalize`` uses (a small sample's array in one chunk)
_CHUNKS = (1, 64, longarrays.CHUNK)


def _long_arrays(value: Any, path: ibst.Path = ()) -> Iterator[ibst.Path]:
    """Where ``value`` (a decoded payload) holds a ``LongArray``, as paths of keys and indexes."""
    if isinstance(value, longarrays.LongArray):
        yield path
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from _long_arrays(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _long_arrays(child, (*path, index))


def _inside(path: ibst.Path, arrays: list[ibst.Path]) -> bool:
    """Whether ``path`` is an entry of one of ``arrays``, or a node within one."""
    return any(len(path) > len(array) and path[: len(array)] == array for array in arrays)


def _node(value: Any, path: ibst.Path) -> Any:
    for step in path:
        value = value[step]
    return value


def _known(value: int | None) -> tuple[int, ...]:
    """The values a count may have: itself, or any (0 or some) when unknown."""
    return (0, 1) if value is None else (value,)


def _settled(job: ImportJob, word: JobState) -> set[JobState]:
    """The terminal states ``settle_state`` can give for what the job knows."""
    reported = {job.state} | ({word} if word.is_terminal else set())
    errors = {job.error is not None} | ({True} if word is JobState.FAILED else set())
    return {
        settle_state(state, succeeded=succeeded, failed=failed, job_error=error)
        for state in reported
        for succeeded in _known(job.succeeded)
        for failed in _known(job.failed)
        for error in errors
    }


def _at_most(job: ImportJob, parts: tuple[str, ...], whole: str) -> None:
    """The known ``parts`` add up to no more than ``whole`` (unknown parts are at least 0)."""
    known = [name for name in parts if getattr(job, name) is not None]
    bound = getattr(job, whole)
    if bound is None or not known:
        return
    total = sum(getattr(job, name) for name in known)
    assert total <= bound, f"{' + '.join(known)} ({total}) exceeds {whole} ({bound})"


def check_contract_rules(job: ImportJob, status_words: Mapping[str, JobState]) -> None:
    """Assert the contract's rules on one job (see the module docstring); ``AssertionError`` if not.

    Holds on its own: it does not rely on the model having refused anything.
    """
    assert job.provider_state in status_words, (
        f"job.provider_state {job.provider_state!r} is not one of status_words {sorted(status_words)}"
    )
    word = status_words[job.provider_state]
    if word.is_terminal:
        assert job.state.is_terminal, f"{job.provider_state!r} is terminal but job.state is {job.state}"
    else:
        assert job.state is word, f"{job.provider_state!r} means {word} but job.state is {job.state}"
    if job.state.is_terminal:
        settled = _settled(job, word)
        assert job.state in settled, (
            f"job.state is {job.state}, but settle_state gives {' or '.join(sorted(settled))} for "
            f"succeeded={job.succeeded}, failed={job.failed}, error={job.error!r} "
            f"(word {job.provider_state!r}): the counts decide, not the word"
        )
    for name in _COUNTS:
        value = getattr(job, name)
        assert value is None or (type(value) is int and value >= 0), f"job.{name} is {value!r}"
    _at_most(job, ("succeeded", "failed"), "processed")
    _at_most(job, ("succeeded", "failed"), "total")
    _at_most(job, ("processed",), "total")
    _at_most(job, ("created", "updated", "duplicates", "skipped"), "succeeded")
    assert job.progress is None or 0.0 <= job.progress <= 1.0, f"job.progress is {job.progress!r}"
    for name in _TIMESTAMPS:
        moment = getattr(job, name)
        assert moment is None or (isinstance(moment, datetime) and moment.utcoffset() == _ZERO), (
            f"job.{name} is {moment!r}, not an aware UTC datetime"
        )
    for row in job.rows:
        assert row.row is None or row.row >= 1, f"a row is numbered {row.row} (rows count from 1)"
    _check_tables(job)


def _check_tables(job: ImportJob) -> None:
    if not job.tables:
        return
    keys = {table.key for table in job.tables}
    for row in job.rows:
        assert row.table is None or row.table in keys, (
            f"row {row.row} names table {row.table!r}, not in {keys}"
        )
    for table in job.tables:
        if job.state.is_terminal:
            assert table.state.is_terminal, f"job is {job.state} but table {table.key!r} is {table.state}"
        if table.error is not None:
            assert table.state is not JobState.COMPLETE, f"table {table.key!r} has an error, is complete"
        if job.state is JobState.COMPLETE:
            fine = table.error is None and table.state is JobState.COMPLETE
            assert fine, (
                f"job is complete but table {table.key!r} is {table.state} with error {table.error!r}"
            )
    if job.state.is_terminal and all(table.state is JobState.FAILED for table in job.tables):
        assert job.state is JobState.FAILED, f"every table failed but the job is {job.state}"


def _model_refused(error: BaseException) -> bool:
    """Whether ``error`` was raised by the model rejecting a job (or part) the provider built:
    its class or a frame it passed through is the model's (its module, or the fast
    ``__init__`` compiled for its classes).

    A row's raw ``data`` is passed through as the payload holds it, and the model checks it
    on the adapter's behalf (strict JSON, bounded depth): its refusal there, naming the
    provider, is the right answer to a payload no provider could send, not an adapter's bug.
    """
    if isinstance(error, InvalidJobError) and _PASS_THROUGH.match(error.path):
        return False
    if type(error).__module__ == _MODEL_MODULE:
        return True
    tb = error.__traceback__
    while tb is not None:
        frame = tb.tb_frame
        if frame.f_globals.get("__name__") == _MODEL_MODULE or frame.f_code.co_filename.startswith(
            _MODEL_INIT
        ):
            return True
        tb = tb.tb_next
    return False


def _changed_counts(before: ImportJob, after: ImportJob) -> list[str]:
    """Counts of ``after`` that are known but differ from ``before`` (tables by position)."""
    changed = [
        f"{name}: {getattr(before, name)!r} -> {getattr(after, name)!r}"
        for name in _COUNTS
        if getattr(after, name) is not None and getattr(after, name) != getattr(before, name)
    ]
    if len(before.tables) == len(after.tables):
        changed += [
            f"tables[{index}].records: {old.records!r} -> {new.records!r}"
            for index, (old, new) in enumerate(zip(before.tables, after.tables, strict=True))
            if new.records is not None and new.records != old.records
        ]
    return changed


@contextlib.contextmanager
def _host_zone(zone: str) -> Iterator[None]:
    """Run with the process's local time zone set to ``zone`` (POSIX), then restore it."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


class ProviderConformance:
    """Base class of a provider's conformance tests: set ``provider`` in a ``Test...`` subclass."""

    provider: ClassVar[Provider]
    fuzz_examples: ClassVar[int] = 10_000
    fuzz_shares: ClassVar[Mapping[str, float]] = {
        "dropped_keys": 0.12,
        "replaced_values": 0.13,
        "wrong_numbers": 0.13,
        "recounted": 0.15,
        "hostile_values": 0.10,
        "hostile_json_text": 0.08,
        "unknown_status_words": 0.08,
        "extra_fields": 0.07,
        "non_objects": 0.03,
        "invalid_utf8": 0.03,
        "truncated_json": 0.04,
        "long_row_arrays": 0.04,
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
        share = self.fuzz_shares.get(check, ProviderConformance.fuzz_shares[check])
        return max(1, round(total * share))

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
        try:
            check_contract_rules(job, provider.status_words)
        except AssertionError as error:
            raise AssertionError(f"{provider.name}: {error} (payload {_short(payload)})") from None
        data = importbridge.to_dict(job)
        json.dumps(data, allow_nan=False)  # strict JSON throughout (the model refuses NaN in rows)
        assert importbridge.from_dict(data) == job, f"from_dict(to_dict(job)) != job for {job!r}"
        assert importbridge.from_json(importbridge.to_json(job)) == job, "from_json(to_json(job)) != job"

    def _normalized(self, payload: Any, how: str, *, decoded: bool = True) -> ImportJob | PayloadError:
        """The job normalize gives (rows built) or its ``PayloadError``; nothing else may escape.
        ``decoded``: the provider's own ``normalize``, else ``importbridge.normalize`` (text too)."""
        provider = self._adapter()
        try:
            job = provider.normalize(payload) if decoded else importbridge.normalize(provider, payload)
            job.rows  # noqa: B018 (rows built on first read are part of what normalize gave)
        except Exception as error:
            if _model_refused(error):
                raise AssertionError(
                    f"{provider.name}: the model refused the job normalize built: "
                    f"{type(error).__name__}: {error} (the adapter must check what it reads and "
                    f"raise its own PayloadError) {how}"
                ) from error
            if not isinstance(error, PayloadError):
                raise AssertionError(
                    f"{provider.name}: normalize raised {type(error).__name__}: {error} "
                    f"(only PayloadError may escape) {how}"
                ) from error
            return error
        return job

    def _outcome(self, payload: Any, *, decoded: bool = False) -> ImportJob | None:
        """Normalize; the answer must be a valid job or a PayloadError naming the provider."""
        before = _snapshot(payload) if not isinstance(payload, (str, bytes)) else None
        job: ImportJob | None = None
        outcome = self._normalized(payload, f"for payload {_short(payload)}", decoded=decoded)
        if isinstance(outcome, PayloadError):
            self._check_error(outcome, payload)
        else:
            job = outcome
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

    def test_samples_do_not_depend_on_the_host_time_zone(self) -> None:
        """Each sample gives the same job whatever the host's local time zone (a naive
        ``datetime.fromtimestamp(x)`` is local time: right only on hosts set to UTC)."""
        if not hasattr(time, "tzset"):
            pytest.skip("time.tzset() is not available on this platform")
        provider = self._adapter()
        for sample in self._samples():
            jobs: dict[str, str] = {}
            for zone in _HOST_ZONES:
                with _host_zone(zone):
                    job = self._outcome(sample, decoded=True)
                assert job is not None, f"sample {_short(sample)} was rejected with TZ={zone}"
                jobs[zone] = importbridge.to_json(job)
            assert len(set(jobs.values())) == 1, (
                f"{provider.name}: sample {_short(sample)} normalizes differently with the host's "
                f"time zone set to {' / '.join(_HOST_ZONES)} (local time: datetime.fromtimestamp "
                f"without tz=timezone.utc? use PayloadReader.datetime(key, unit=...))"
            )

    def test_unknown_counts_stay_unknown(self) -> None:
        """A count the payload does not carry is None, not 0: with every integer field the
        provider can do without deleted from a sample, no count of the job may take another
        value (it may stay, derived from what is left per the provider's rulings, or go None)."""
        provider = self._adapter()

        def accepts(payload: Any) -> bool:
            return self._outcome(payload, decoded=True) is not None

        for sample in self._samples():
            optional = ibst.optional_integer_keys(sample, accepts)
            stripped = ibst.without_keys(sample, optional)
            after = self._outcome(stripped, decoded=True) if optional else None
            if after is None:
                continue  # nothing to delete, or not all of it at once
            changed = _changed_counts(provider.normalize(sample), after)
            assert not changed, (
                f"{provider.name}: without its integer fields {[list(path) for path in optional]}, "
                f"sample {_short(sample)} still gives counts {changed}: a count the payload does "
                "not carry must be None (unknown is not zero)"
            )

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
        at a place whose value matters (``0`` or ``8`` gives another job), the bool was taken
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
        if as_number is None:
            return
        others = (self._outcome(ibst.replace_at(sample, path, n), decoded=True) for n in (1 - new, new + 7))
        shown = importbridge.to_json(as_number)
        matters = any(other is not None and importbridge.to_json(other) != shown for other in others)
        assert not (matters and importbridge.to_json(job) == shown), (
            f"{self._adapter().name}: took {new!r} for the integer {int(new)} at {list(path)}"
            f" (a bool is not an integer) in {_short(ibst.replace_at(sample, path, new))}"
        )

    def test_fuzz_recounted(self) -> None:
        """Plausible payloads with other counts: every rule holds, above all that the counts
        decide a terminal state (``settle_state``), not the provider's word."""
        self._fuzz(
            "recounted", self._eligible(ibst.recounted, "integers"), lambda p: self._outcome(p, decoded=True)
        )

    def test_fuzz_hostile_values(self) -> None:
        """NaN, infinities and huge numbers (as numbers and as text), lone surrogates, deep
        nesting: a job or a PayloadError, nothing else."""
        self._fuzz(
            "hostile_values",
            self._eligible(ibst.hostile_values, "fields"),
            lambda payload: self._outcome(payload, decoded=True),
        )

    def test_fuzz_hostile_json_text(self) -> None:
        """JSON text with NaN, Infinity, 1e400 or nesting 5,000+ deep is refused; nesting
        within reach and lone-surrogate escapes give a job or a PayloadError."""

        def check(case: tuple[bool, str]) -> None:
            refused, text = case
            if refused:
                self._rejects(text)
            else:
                self._outcome(text)

        self._fuzz("hostile_json_text", self._eligible(ibst.hostile_json_text, "fields"), check)

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

    # -- long row arrays (``Provider.row_arrays``) -----------------------------------------------

    def _row_array_tree(self) -> longarrays.Paths:
        """``row_arrays()`` as ``importbridge.normalize`` reads it; a malformed one fails here."""
        provider = self._adapter()
        try:
            return longarrays.paths(provider.row_arrays())
        except ValueError as error:
            raise AssertionError(f"{provider.name}: row_arrays(): {error}") from None

    def _check_alike(self, payload: Any, chunk: int) -> None:
        """``payload`` normalizes alike with its row arrays as lists and as LongArrays of ``chunk``."""
        name = self._adapter().name
        text = json.dumps(payload, allow_nan=False)
        how = f"with its row arrays as LongArrays (chunk={chunk}), for payload {_short(payload)}"
        expected = self._normalized(json.loads(text), f"for payload {_short(payload)}")
        try:
            long = longarrays.decode(text, self._row_array_tree(), chunk=chunk)
        except Exception as error:
            raise AssertionError(
                f"{name}: a row_arrays() check raised {type(error).__name__}: {error} on a chunk "
                f"(chunk={chunk}) of payload {_short(payload)}: a check gets whatever JSON values the "
                "array holds; answer so that normalize reads (and explains) them entry by entry"
            ) from error
        got = self._normalized(long, how)
        if isinstance(expected, PayloadError):
            assert isinstance(got, PayloadError), f"{name}: accepted a payload {how}; as lists: {expected}"
            assert (str(got), got.path) == (str(expected), expected.path), (
                f"{name}: {got} (path {got.path!r}) {how}; as lists: {expected} (path {expected.path!r})"
            )
            return
        assert not isinstance(got, PayloadError), f"{name}: rejected a payload {how}: {got}"
        assert got.rows == expected.rows, f"{name}: other rows {how}: {got.rows}; as lists: {expected.rows}"
        assert got == expected, f"{name}: another job {how}: {got!r}; as lists: {expected!r}"
        assert importbridge.to_dict(got) == importbridge.to_dict(expected), f"{name}: another to_dict {how}"

    def _inside_row_arrays(self, sample: Any) -> st.SearchStrategy[Any]:
        """``sample`` with a wrong value inside one of its row arrays: an entry or a field replaced
        (``replaced_values``' values), or an integer swapped (a bool, 0, -1, a float...)."""
        if not isinstance(sample, (dict, list)):
            return st.nothing()
        decoded = longarrays.decode(json.dumps(sample), self._row_array_tree(), chunk=1)
        arrays = list(_long_arrays(decoded))
        nodes = [path for path in ibst.node_paths(sample) if _inside(path, arrays)]
        if not nodes:
            return st.nothing()
        numbers = [path for path in ibst.integer_paths(sample) if _inside(path, arrays)]
        replaced = st.builds(
            lambda path, new: ibst.replace_at(sample, path, new), st.sampled_from(nodes), ibst.wrong_values()
        )
        if not numbers:
            return replaced
        swapped = st.sampled_from(numbers).flatmap(
            lambda path: (ibst.number_swaps(_node(sample, path)) | st.integers(-1, 2)).map(
                lambda new: ibst.replace_at(sample, path, new)
            )
        )
        return replaced | swapped

    def test_row_arrays_are_declared_well(self) -> None:
        """Each ``row_arrays()`` path parses, names a callable, and finds a non-empty array in some
        sample (else its chunked reading goes untested)."""
        provider = self._adapter()
        arrays = provider.row_arrays()
        self._row_array_tree()
        texts = [json.dumps(sample) for sample in self._samples() if isinstance(sample, (dict, list))]
        for path, check in arrays.items():
            tree = longarrays.paths({path: check})
            found = any(next(_long_arrays(longarrays.decode(text, tree, chunk=1)), None) for text in texts)
            assert found, (
                f"{provider.name}: row_arrays() names {path!r}, but no sample has a non-empty array there"
                ": add one, so the kit can read it in chunks"
            )

    def test_samples_normalize_alike_from_long_row_arrays(self) -> None:
        """Each sample gives the same job, rows and ``to_dict`` with its row arrays as lists and as
        ``LongArray`` objects cut into chunks of about one entry, a few, and the default size."""
        if not self._adapter().row_arrays():
            return  # nothing declared: every array arrives as a list
        for sample in self._samples():
            if isinstance(sample, (dict, list)):
                for chunk in _CHUNKS:
                    self._check_alike(sample, chunk)

    def test_fuzz_long_row_arrays(self) -> None:
        """A wrong value inside a row array: the same job, or the same ``PayloadError`` (message and
        path), with the arrays as lists and as ``LongArray`` objects of one entry or more a chunk."""
        if not self._adapter().row_arrays():
            return  # nothing declared: every array arrives as a list

        def check(case: tuple[Any, int]) -> None:
            payload, chunk = case
            try:
                strict_loads(json.dumps(payload, allow_nan=False))
            except ValueError:  # (JSONTextError too)
                return  # NaN, infinities, nesting: text importbridge refuses before any provider reads it
            for size in sorted({1, chunk}):
                self._check_alike(payload, size)

        strategy = st.tuples(
            self._eligible(self._inside_row_arrays, "entries in its row arrays"), st.integers(1, 512)
        )
        self._fuzz("long_row_arrays", strategy, check)
