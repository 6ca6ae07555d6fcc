"""ImportTrigger on a real Airflow: serialized, re-imported by class path, run to its event
against the sandbox, without a scheduler or a database."""

from __future__ import annotations

import asyncio
import importlib
import logging
import time
from typing import Any

import pytest

import importbridge
from importbridge import sandbox
from importbridge.integrations.airflow.triggers import ImportTrigger
from importbridge.tokens import looks_like_token

from .conftest import IMPORTS, connection_env


def submit_token(sb: sandbox.Sandbox, provider: str, deadline: float) -> str:
    from importbridge.polling import make_token

    with importbridge.connect(provider, **sb.settings(provider)) as client:
        records, options = IMPORTS[provider]
        return make_token(client, client.submit(records, **options), deadline=deadline)


def rebuilt(trigger: ImportTrigger) -> Any:
    """The trigger as a triggerer makes it: from its serialized form, the class found by its path."""
    classpath, kwargs = trigger.serialize()
    module, name = classpath.rsplit(".", 1)
    return getattr(importlib.import_module(module), name)(**kwargs)


async def first_event(trigger: Any) -> dict[str, Any]:
    async for event in trigger.run():
        return dict(event.payload)
    raise AssertionError("the trigger ended without an event")


def test_serialized_trigger_runs_to_its_event(sb: sandbox.Sandbox, connections: dict[str, str]) -> None:
    before = sb.state()["micro"]["imports"]
    token = submit_token(sb, "micro", time.time() + 120)
    trigger = ImportTrigger(conn_id=connections["micro"], token=token, deadline=time.time() + 120)
    classpath, kwargs = trigger.serialize()
    assert classpath == "importbridge.integrations.airflow.triggers.ImportTrigger"
    assert set(kwargs) == {"conn_id", "token", "deadline"}
    assert sb.settings("micro")["api_key"] not in repr(kwargs)
    event = asyncio.run(first_event(rebuilt(trigger)))
    assert event["status"] == "done"
    assert event["job"]["state"] in ("complete", "partial")
    assert sb.state()["micro"]["imports"] == before + 1


def test_a_trigger_rebuilt_mid_wait_never_submits_and_ends_alike(
    sb: sandbox.Sandbox, connections: dict[str, str]
) -> None:
    deadline = time.time() + 120
    before = sb.state()["talkvalue"]["imports"]
    token = submit_token(sb, "talkvalue", deadline)
    trigger = ImportTrigger(conn_id=connections["talkvalue"], token=token, deadline=deadline)

    async def torn_down_then_rebuilt() -> tuple[dict[str, Any], dict[str, Any]]:
        first = asyncio.ensure_future(first_event(rebuilt(trigger)))
        await asyncio.sleep(0.5)  # a triggerer restart: the running trigger is cancelled mid-wait
        first.cancel()
        # two triggerers running the same trigger
        return tuple(await asyncio.gather(first_event(rebuilt(trigger)), first_event(rebuilt(trigger))))  # type: ignore[return-value]

    one, two = asyncio.run(torn_down_then_rebuilt())
    assert one == two
    assert one["status"] == "done"
    assert sb.state()["talkvalue"]["imports"] == before + 1


def test_a_deadline_in_the_past_ends_in_timeout_with_a_token(
    sb: sandbox.Sandbox, connections: dict[str, str]
) -> None:
    token = submit_token(sb, "qobra", time.time() + 120)
    event = asyncio.run(first_event(ImportTrigger(conn_id=connections["qobra"], token=token,
                                                  deadline=time.time() - 1)))
    assert event["status"] == "timeout"
    assert looks_like_token(event["token"])


def test_bad_input_is_an_error_event_naming_the_cause(
    sb: sandbox.Sandbox, connections: dict[str, str], monkeypatch: Any
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SB_NOPE", connection_env(sb, "micro", conn_type="importbridge_nope"))
    token = submit_token(sb, "micro", time.time() + 120)
    cases = {
        "sb_nope": (token, "UnknownProviderError", "nope"),
        "sb_missing": (token, "ConfigurationError", "sb_missing"),
        connections["micro"]: ("ib1.not-a-token.x", "TokenError", "token"),
    }
    for conn_id, (given, error, named) in cases.items():
        trigger = ImportTrigger(conn_id=conn_id, token=given, deadline=time.time() + 60)
        event = asyncio.run(first_event(trigger))
        assert event["status"] == "error", event
        assert event["error"] == error
        assert named in event["message"]


def test_a_transient_failure_is_waited_out_not_an_error(
    sb: sandbox.Sandbox, connections: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    deadline = time.time() + 120
    token = submit_token(sb, "micro", deadline)
    # more 503s in a row than the transport's own retries ride out: the poll fails, the wait goes on
    fault = sb.faults.script(kind="503", method="GET", path="/micro/*", times=8)
    trigger = ImportTrigger(conn_id=connections["micro"], token=token, deadline=deadline)
    with caplog.at_level(logging.WARNING):
        event = asyncio.run(first_event(trigger))
    assert event["status"] == "done"
    assert fault.remaining == 0
    assert any("poll failed" in record.getMessage() for record in caplog.records)
