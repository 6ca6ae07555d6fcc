"""Bad input fails the task at once with an error of our tree, never retried forever."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

import importbridge
from importbridge import sandbox
from importbridge.integrations.celery import ImportTasks, create_app

from .conftest import Workers, close_app, worker_env

TIMEOUT = 60


@pytest.fixture(scope="module")
def fleet(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ImportTasks, Any]]:
    """One worker whose environment lacks TalkValue's token; micro and qobra are configured."""
    with sandbox.run(rate_limit=None) as sb:
        env = {k: v for k, v in sb.env.items() if k != "TALKVALUE_TOKEN"}
        workers = Workers(worker_env(redis_url, env), tmp_path_factory.mktemp("workers"))
        workers.start("bad")
        try:
            app, tasks = create_app(redis_url, visibility_timeout=8, countdown_cap=2)
            yield tasks, sb
            close_app(app)
        finally:
            workers.stop()


def _failure(result: Any) -> BaseException:
    """The task's error, once it failed (for good: a task retried would not be FAILURE yet)."""
    try:
        result.get(timeout=TIMEOUT)
    except Exception as error:  # the task's error, as Celery hands it back
        assert result.state == "FAILURE"
        return error
    raise AssertionError("the task succeeded")


def test_unknown_provider(fleet: tuple[ImportTasks, Any]) -> None:
    tasks, _ = fleet
    error = _failure(tasks.submit.delay("nosuch", [{"a": 1}], key="bad-1"))
    # its constructor takes more than a message, so Celery's JSON results hand it back as a
    # generic exception naming the class (the others below come back as themselves)
    assert isinstance(error, importbridge.UnknownProviderError) or (
        "importbridge.errors.UnknownProviderError" in str(error)
    )
    assert "unknown provider 'nosuch'" in str(error)


def test_missing_credentials_on_the_worker(fleet: tuple[ImportTasks, Any]) -> None:
    tasks, sb = fleet
    result = tasks.submit.delay("talkvalue", [{"email": "a@b.io"}], key="bad-2", options={"source_id": 1})
    error = _failure(result)
    assert isinstance(error, importbridge.ConfigurationError)
    assert "TALKVALUE_TOKEN" in str(error)
    assert requests.get(f"{sb.url}/_sandbox/state", timeout=10).json()["talkvalue"]["requests"] == 0


@pytest.mark.parametrize("token", ["ib1.garbage.12345678", "not a token", ""])
def test_malformed_token(fleet: tuple[ImportTasks, Any], token: str) -> None:
    tasks, _ = fleet
    error = _failure(tasks.wait.delay(token))
    assert isinstance(error, importbridge.TokenError)


def test_missing_key(fleet: tuple[ImportTasks, Any]) -> None:
    tasks, _ = fleet
    error = _failure(tasks.submit.delay("micro", [{"name": "x"}], key=""))
    assert isinstance(error, importbridge.ConfigurationError)
    assert "key" in str(error)


def test_a_good_import_goes_through(fleet: tuple[ImportTasks, Any]) -> None:
    """The same worker does import when the input is right (the failures above are the input's)."""
    tasks, _ = fleet
    rows = [{"name": f"org {i}", "domain": f"o{i}.example"} for i in range(150)]
    result = (tasks.submit.s("micro", rows, key="good-1") | tasks.wait.s()).delay()
    job = importbridge.from_dict(result.get(timeout=TIMEOUT)["job"])
    assert job.state is importbridge.JobState.COMPLETE
    assert job.succeeded == 150
