"""The canary: a secret that must never appear in a repr, an error, a log record, output or a token."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

import pytest

import importbridge
from importbridge import ImportBridgeError

from .support import CANARY, EchoProvider, Reply, ScriptedServer

JOB = {"id": "7", "status": "queued"}


def scan(*texts: str) -> None:
    for text in texts:
        assert CANARY not in text, f"the canary leaked into: {text[:300]!r}"


def failures(client: importbridge.ImportClient, server: ScriptedServer) -> list[BaseException]:
    """Provoke every kind of error, with the provider echoing the key back in its messages."""
    echoed = {"message": f"key {CANARY} is not valid", "code": f"bad-{CANARY}"}
    scripted: list[tuple[list[Reply], Callable[[], object]]] = [
        ([Reply(401, echoed)], lambda: client.get("7")),
        ([Reply(403, echoed)], lambda: client.get("7")),
        ([Reply(404, echoed)], lambda: client.get("7", created_at="2000-01-01T00:00:00Z")),
        ([Reply(409, echoed)], lambda: client.submit([{"a": 1}])),
        ([Reply(400, f"plain text with {CANARY}")], lambda: client.get("7")),
        ([Reply(500, echoed)], lambda: client.submit([{"a": 1}])),
        ([Reply(action="reset")], lambda: client.submit([{"a": 1}])),
        ([Reply(429, echoed, {"Retry-After": "999"})], lambda: client.get("7")),
        ([], lambda: client.connection.transport.request("GET", f"http://elsewhere.invalid/{CANARY}")),
    ]
    caught: list[BaseException] = []
    for replies, call in scripted:
        server.queue(*replies)
        with pytest.raises(ImportBridgeError) as info:
            call()
        caught.append(info.value)
    return caught


def test_the_canary_never_leaks(
    client: importbridge.ImportClient,
    server: ScriptedServer,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with caplog.at_level(logging.DEBUG):  # every logger: urllib3's too
        errors = failures(client, server)
        server.queue(Reply(200, JOB))
        job = client.get("7")
        token = client.token(job)
    everything = [caplog.text, *(repr(record.__dict__) for record in caplog.records)]
    caplog.clear()
    # a secret inside a URL: urllib3 logs URLs verbatim (providers must keep secrets in headers),
    # but our own log line scrubs it
    with caplog.at_level(logging.DEBUG, logger="importbridge"):
        server.queue(Reply(200, JOB))
        client.connection.transport.request("GET", "/jobs/7", params={"sig": CANARY})
    ours = [record.getMessage() for record in caplog.records if record.name == "importbridge"]
    assert any("sig=***" in line for line in ours)
    scan(*ours, *everything)
    assert server.seen[0].headers["x-echo-key"] == CANARY  # the key was really in use
    connection = client.connection
    scan(repr(client), str(client), repr(connection), repr(connection.settings), repr(connection.transport))
    for error in errors:
        scan(str(error), repr(error), "".join(traceback.format_exception(error)), repr(error.__dict__))
    scan(token)
    out, err = capsys.readouterr()
    scan(out, err)


def test_tokens_carry_context_but_no_credentials(
    client: importbridge.ImportClient, server: ScriptedServer
) -> None:
    from importbridge import tokens

    server.queue(Reply(200, JOB))
    job = client.get("7")
    token = client.token(job)
    scan(token)
    decoded = tokens.decode(token)
    assert decoded.job_id == "7"
    scan(repr(decoded))


def test_echo_provider_is_what_the_tests_think(echo: EchoProvider) -> None:
    assert [s.name for s in echo.settings if s.secret] == ["api_key"]


SUBMITS = {
    "micro": ([{"name": "Acme", "domain": "acme.example.com"}, {"name": ""}], {}),
    "qobra": ([{"id": "1", "amount": "x"}], {"table": "deals"}),
    "talkvalue": ([{"email": "a@example.com"}, {"email": "bad"}], {"source_id": 1}),
}


@pytest.mark.parametrize("name", sorted(SUBMITS))
@pytest.mark.importbridge_sandbox(rate_limit=None)
def test_no_provider_leaks_its_credential(
    name: str, importbridge_sandbox, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    sb = importbridge_sandbox
    settings = sb.settings(name)
    provider = importbridge.get_provider(name)
    secret_names = [setting.name for setting in provider.settings if setting.secret]
    secrets = [settings[key] for key in secret_names]
    records, options = SUBMITS[name]
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        with importbridge.connect(name, **settings) as client:
            job = client.submit(records, **options)
            sb.clock.advance(3600)
            job = client.get(str(job.id)) if job.id else job
            rows = list(client.failed_rows(job))
            texts += [repr(client), repr(client.connection), repr(job), repr(rows), importbridge.to_json(job)]
            if job.id:
                texts.append(client.token(job))
        wrong = {**settings, **dict.fromkeys(secret_names, CANARY)}
        with (
            importbridge.connect(name, **wrong) as client,
            pytest.raises(importbridge.AuthenticationError) as info,
        ):
            client.submit(records, **options)
        texts += [str(info.value), repr(info.value), "".join(traceback.format_exception(info.value))]
    assert rows, "the partly bad batch produced failed rows"
    texts += [caplog.text, *(repr(record.__dict__) for record in caplog.records), *capsys.readouterr()]
    for text in texts:
        for secret in [*secrets, CANARY]:
            assert secret not in text, f"{name}: a credential leaked into {text[:200]!r}"


@pytest.mark.parametrize(
    "dressed", [f"{CANARY}\r\n", f" {CANARY}\n", f"{CANARY}\r\nX-Other: 1", f"\n{CANARY}"]
)
def test_a_key_with_stray_whitespace_is_a_configuration_error_that_names_no_secret(
    dressed: str, server: ScriptedServer, echo: EchoProvider, caplog: pytest.LogCaptureFixture
) -> None:
    """requests refuses such a header and quotes it escaped (a CRLF .env file does this)."""
    with (
        caplog.at_level(logging.DEBUG),
        importbridge.connect(echo, api_key=dressed, base_url=server.url) as client,
    ):
        for call in (lambda: client.get("7"), lambda: client.submit([{"a": 1}])):
            with pytest.raises(importbridge.ConfigurationError) as info:
                call()
            assert "header" in str(info.value)
            scan(str(info.value), repr(info.value), "".join(traceback.format_exception(info.value)))
    scan(caplog.text)
    assert server.seen == []  # refused before sending, and never retried
