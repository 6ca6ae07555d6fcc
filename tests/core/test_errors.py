"""The exception tree: one root, the documented shape, messages that say what and where, pickling."""

from __future__ import annotations

import pickle
import re

import pytest

import importbridge
from importbridge import errors
from importbridge.model import ImportJob, JobState

JOB = ImportJob(provider="p", id="1", state=JobState.RUNNING, provider_state="w")

# (child, parent) as drawn in errors.py's docstring
TREE = [
    ("PayloadError", "ImportBridgeError"),
    ("InvalidJobError", "PayloadError"),
    ("UnknownProviderError", "ImportBridgeError"),
    ("PluginError", "ImportBridgeError"),
    ("PluginLoadError", "PluginError"),
    ("PluginConflictError", "PluginError"),
    ("InvalidPluginError", "PluginError"),
    ("ConfigurationError", "ImportBridgeError"),
    ("CheckpointError", "ConfigurationError"),
    ("InputError", "ImportBridgeError"),
    ("TokenError", "ImportBridgeError"),
    ("TransportError", "ImportBridgeError"),
    ("SubmitOutcomeUnknown", "TransportError"),
    ("ResponseTooLarge", "TransportError"),
    ("ProviderError", "ImportBridgeError"),
    ("AuthenticationError", "ProviderError"),
    ("JobNotFound", "ProviderError"),
    ("JobExpired", "JobNotFound"),
    ("RateLimited", "ProviderError"),
    ("ConflictError", "ProviderError"),
    ("WaitError", "ImportBridgeError"),
    ("PollTimeout", "WaitError"),
    ("StateRegression", "WaitError"),
]

# One instance of every class, built the way the library builds them.
INSTANCES: list[BaseException] = [
    errors.ImportBridgeError("root"),
    errors.PayloadError("micro", "results[3].created", "expected a boolean, got str"),
    errors.InvalidJobError("acme", "succeeded", "succeeded + failed = 8 exceeds total = 1"),
    errors.UnknownProviderError("acme", ["micro", "qobra"]),
    errors.PluginError("plugin trouble"),
    errors.PluginLoadError("acme", "importbridge-acme", "ImportError: no module named x"),
    errors.PluginConflictError("micro", "distribution 'importbridge'", "distribution 'evil'"),
    errors.InvalidPluginError("registered 3, which is not a Provider"),
    errors.ConfigurationError("set MICRO_API_KEY"),
    errors.CheckpointError("checkpoint run.ckpt line 3: garbled", path="run.ckpt", line=3),
    errors.InputError("record 3: field amount: NaN is not a JSON value"),
    errors.TokenError("token is from another version"),
    errors.TransportError("connection reset", provider="micro", method="GET", url="http://h/x"),
    errors.SubmitOutcomeUnknown("timed out", provider="micro", method="POST", url="u", request_id="k1"),
    errors.ResponseTooLarge("larger than 1,024 bytes", provider="micro", method="GET", url="u", limit=1024),
    errors.ProviderError("qobra", 500, "boom", retryable=True, code="E1"),
    errors.AuthenticationError("micro", 403, "key revoked"),
    errors.JobNotFound("micro", 404, "not found"),
    errors.JobExpired("micro", 404, "older than 7 days"),
    errors.RateLimited("micro", 429, "slow down", retry_after=2.5),
    errors.ConflictError("micro", 409, "idempotency_key_mismatch"),
    errors.WaitError("gave up"),
    errors.PollTimeout("deadline passed", job=JOB, token="tok"),
    errors.StateRegression("went backwards", previous=JOB, snapshot=JOB),
]


def _drawn_tree() -> list[tuple[str, str]]:
    """(child, parent) pairs read from the tree drawn in errors.py's docstring."""
    pairs: list[tuple[str, str]] = []
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        match = re.match(r"^(\s*(?:[│ ]\s*)*(?:[├└]── )?)([A-Z]\w+)\b", line)
        if match is None or match.group(2) not in errors.__all__:
            continue
        depth = len(match.group(1))
        while stack and stack[-1][0] >= depth:
            stack.pop()
        if stack:
            pairs.append((match.group(2), stack[-1][1]))
        stack.append((depth, match.group(2)))
    return pairs


def test_the_drawn_tree_is_the_real_one() -> None:
    assert sorted(_drawn_tree()) == sorted(TREE)
    for child, parent in TREE:
        own_bases = [base for base in getattr(errors, child).__bases__ if base.__module__ == errors.__name__]
        assert [base.__name__ for base in own_bases] == [parent]


def test_every_class_is_exported() -> None:
    assert set(errors.__all__) <= set(importbridge.__all__)
    for name in errors.__all__:
        assert getattr(importbridge, name) is getattr(errors, name)


@pytest.mark.parametrize(("child", "parent"), TREE)
def test_tree(child: str, parent: str) -> None:
    assert issubclass(getattr(errors, child), getattr(errors, parent))


def test_every_class_is_in_the_tree_and_under_the_root() -> None:
    assert {child for child, _ in TREE} | {"ImportBridgeError"} == set(errors.__all__)
    assert {type(error).__name__ for error in INSTANCES} == set(errors.__all__)
    for error in INSTANCES:
        assert isinstance(error, errors.ImportBridgeError)


def test_builtin_bases_let_callers_catch_the_usual_way() -> None:
    assert issubclass(errors.PayloadError, ValueError)
    assert issubclass(errors.TokenError, ValueError)
    assert issubclass(errors.InputError, ValueError)
    assert issubclass(errors.UnknownProviderError, LookupError)


def test_payload_error_names_provider_path_and_reason() -> None:
    error = errors.PayloadError("micro", "results[3].created", "expected a boolean, got str")
    assert str(error) == "micro payload: results[3].created: expected a boolean, got str"
    assert (error.provider, error.path, error.reason) == (
        "micro",
        "results[3].created",
        "expected a boolean, got str",
    )
    assert "<payload>" in str(errors.PayloadError("qobra", "", "not JSON"))


def test_invalid_job_error_names_provider_field_and_reason() -> None:
    error = errors.InvalidJobError("acme", "rows[2].data.amount", "nan is not a JSON number")
    assert str(error) == "acme payload: rows[2].data.amount: nan is not a JSON number"
    assert (error.provider, error.path) == ("acme", "rows[2].data.amount")
    assert error.reason == "nan is not a JSON number"
    assert isinstance(error, errors.PayloadError)


def test_the_model_raises_it_and_its_old_name_still_catches_it() -> None:
    from importbridge import model

    with pytest.raises(errors.InvalidJobError):
        ImportJob(provider="p", state=JobState.RUNNING, provider_state="w", progress=1.5)
    assert model.InvalidField is errors.InvalidJobError


def test_unknown_provider_lists_what_is_installed() -> None:
    error = errors.UnknownProviderError("acme", ["micro", "qobra"])
    assert str(error) == "unknown provider 'acme'; installed providers: micro, qobra"
    assert "none" in str(errors.UnknownProviderError("acme", []))


def test_plugin_errors_name_plugin_and_distributions() -> None:
    load = errors.PluginLoadError("acme", "importbridge-acme", "ImportError: x")
    assert all(part in str(load) for part in ("acme", "importbridge-acme", "ImportError: x"))
    conflict = errors.PluginConflictError("micro", "distribution 'a'", "distribution 'b'")
    assert all(part in str(conflict) for part in ("'micro'", "distribution 'a'", "distribution 'b'"))


def test_provider_error_says_who_answered_what() -> None:
    error = errors.RateLimited("micro", 429, "slow down", retry_after=2.5)
    assert str(error) == "micro answered HTTP 429: slow down"
    assert (error.status, error.retryable, error.retry_after) == (429, True, 2.5)


@pytest.mark.parametrize("error", INSTANCES, ids=lambda error: type(error).__name__)
def test_pickling_round_trips(error: BaseException) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.args == error.args
    assert vars(copy) == vars(error)
