"""Forged resume tokens against a real network: not one request reaches another origin.

Each provider's sandbox stands for the configured origin, reached through the providers' own
environment variables exactly as in production. A second loopback server, the "attacker", on
another port, records every connection it is offered; forged tokens name it every way a token
could (a ``base_url`` in the context, another origin, credentials in the context, signed with a
wrong key, edited) and go through ``importbridge.resume()``, ``wait_all([token])`` and the
command ``importbridge resume TOKEN``. The attacker must receive nothing, the environment's key
must appear in no output or error, and every outcome must be a job or an error of the tree.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import importbridge
from importbridge import ImportBridgeError, ImportJob, PollPolicy, TokenError, sandbox
from importbridge.cli import main
from importbridge.tokens import Token, TokenKey, context_names, encode, origin

from .forgery import (
    CHARACTERS,
    EDITS,
    HOSTILE,
    KEY,
    OTHER_KEY,
    PATHS,
    TEMPTING_KEYS,
    body_of,
    corrupt,
    mutate,
    seal,
)

PROVIDERS = ("micro", "qobra", "talkvalue")
RECORDS: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {
    "micro": ([{"name": "Co 1", "domain": "co1.example.com"}], {}),
    "qobra": ([{"id": "1", "amount": 1.5}], {"table": "deals"}),
    "talkvalue": ([{"email": "p1@example.com"}], {"source_id": 1}),
}
SECRET_VARIABLES = {"micro": "MICRO_API_KEY", "qobra": "QOBRA_API_KEY", "talkvalue": "TALKVALUE_TOKEN"}
#: hypothesis examples per provider and way in; each one is a real resume against the sandbox
NETWORK_EXAMPLES = 300


class Attacker:
    """A loopback HTTP server on its own port that records every connection and request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.connections = 0
        self.lock = threading.Lock()
        attacker = self

        class Handler(BaseHTTPRequestHandler):
            def _record(self) -> None:
                with attacker.lock:
                    attacker.requests.append((self.command, self.path, dict(self.headers)))
                body = b'{"id": "1", "status": "finished", "state": "COMPLETED"}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _record

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request: Any, client_address: Any) -> bool:
                with attacker.lock:
                    attacker.connections += 1
                return True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def urls(self, name: str) -> list[str]:
        """Every way a forged token could name this server: by address and by host name."""
        return [
            f"http://127.0.0.1:{self.port}/{name}",
            f"http://localhost:{self.port}",
            f"http://127.0.0.1:{self.port}",
        ]

    def received(self) -> int:
        with self.lock:
            return self.connections + len(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def clean_env(values: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any provider's or importbridge's variables, plus ``values``."""
    kept = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MICRO_", "QOBRA_", "TALKVALUE_", "IMPORTBRIDGE_"))
    }
    return {**kept, **values}


def run_cli(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """The command as a shell user runs it: a real subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "importbridge", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(env),
    )


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """``os.environ`` as a fresh shell would have it plus ``values``, restored afterwards."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(clean_env(values))
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


class Instant:
    """A clock whose sleeps take no time, so a resumed wait ends in a few requests."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def policy() -> PollPolicy:
    clock = Instant()
    return PollPolicy(clock=clock, sleep=clock.sleep, max_attempts=3)


@pytest.fixture(scope="module")
def attacker() -> Iterator[Attacker]:
    server = Attacker()
    yield server
    server.close()


@pytest.fixture(scope="module")
def sb() -> Iterator[sandbox.Sandbox]:
    with sandbox.run(seed=9, rate_limit=None, speed=1000, sync_threshold=0) as running:
        yield running


@pytest.fixture(scope="module")
def jobs(sb: sandbox.Sandbox) -> dict[str, ImportJob]:
    """One real job per provider, so admitted tokens lead to real waits."""
    made = {}
    for name, (records, options) in RECORDS.items():
        with importbridge.connect(name, **sb.settings(name)) as client:
            made[name] = client.submit(records, **options)
    return made


def forged(name: str, job_id: str, configured: str, attacker: Attacker) -> st.SearchStrategy[str]:
    """Tokens aimed at the attacker: every tempting context key and origin, made, sealed, edited."""
    allowed = sorted(context_names(importbridge.get_provider(name)))
    targets = attacker.urls(name)
    contexts = [{key: target} for key in TEMPTING_KEYS for target in targets[:2]] + [
        {"team_id": "team-7", "base_url": targets[0]},
        {"api_key": "attacker-chosen"},
        {},
        {key: "2026-11-30T10:00:00Z" for key in allowed if key.endswith("_at")},
    ]
    origins = [None, configured, *(origin(target) for target in targets)]
    made = st.builds(
        lambda context, made_for, job, state, key: encode(
            Token(provider=name, job_id=job, context=context, origin=made_for, state=state), key=key
        ),
        st.sampled_from(contexts),
        st.sampled_from(origins),
        st.sampled_from([job_id, "imp_404", "../x"]),
        st.sampled_from([None, importbridge.JobState.RUNNING, importbridge.JobState.COMPLETE]),
        st.sampled_from([None, KEY, OTHER_KEY]),
    )
    edited = st.builds(
        mutate, made, st.sampled_from(EDITS), st.integers(0, 4096), st.sampled_from(CHARACTERS)
    )
    template = body_of(encode(Token(provider=name, job_id=job_id, origin=configured)))
    sealed = st.builds(
        lambda path, value, version, key: seal(corrupt(template, path, value), version=version, key=key),
        st.sampled_from(PATHS),
        st.sampled_from(HOSTILE + tuple(targets)),
        st.sampled_from([1, 2]),
        st.sampled_from([KEY, OTHER_KEY]),
    )
    legitimate = st.builds(
        lambda context, made_for, state, key: encode(
            Token(provider=name, job_id=job_id, context=context, origin=made_for, state=state), key=key
        ),
        st.dictionaries(
            st.sampled_from(allowed), st.sampled_from(["team-7", "2026-11-30T10:00:00Z", "x"]), max_size=3
        ),
        st.sampled_from([None, configured]),
        st.sampled_from([None, *importbridge.JobState]),
        st.sampled_from([None, KEY]),
    )
    return legitimate | made | edited | sealed


def _resume(token: str) -> object:
    return importbridge.resume(token, policy=policy())


def _wait_all(token: str) -> object:
    return list(importbridge.wait_all([token], policy=policy()))


class Exited(Exception):
    """What the command printed and its exit status, as the outcome of one run."""


def _command(token: str) -> object:
    """``importbridge resume TOKEN --timeout 0`` in this process: at most one request.

    A string that starts with "-" is an option to argparse: a usage error (2) before any code
    of ours runs, as in a shell.
    """
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["resume", token, "--timeout", "0"])
        except SystemExit as exited:  # argparse's usage errors
            code = exited.code
    assert code in (0, 1, 2, 3, 4, 5), code
    assert "internal error" not in err.getvalue(), err.getvalue()
    assert "Traceback" not in err.getvalue(), err.getvalue()
    raise Exited(f"exit {code}", out.getvalue() + err.getvalue())


WAYS_IN = {"resume": _resume, "wait_all": _wait_all, "command": _command}


@pytest.mark.parametrize("way", list(WAYS_IN))
@pytest.mark.parametrize("name", PROVIDERS)
def test_no_forged_token_sends_anything_to_another_origin(name, way, sb, jobs, attacker):
    configured = origin(sb.settings(name)["base_url"])
    secret = sb.env[SECRET_VARIABLES[name]]
    outcomes: Counter[str] = Counter()

    @settings(max_examples=NETWORK_EXAMPLES, database=None, suppress_health_check=list(HealthCheck))
    @given(forged(name, str(jobs[name].id), configured, attacker), st.sampled_from([None, KEY]))
    @example("-b1.eyJw.AAAAAAAA", None)  # an option to argparse, once edited into the first character
    def attack(token: str, key: TokenKey | None) -> None:
        variables = {
            **sb.env,
            **({"IMPORTBRIDGE_TOKEN_KEY": "test-token-key-0123456789abcdef"} if key else {}),
        }
        with environment(variables):
            try:
                shown = str(WAYS_IN[way](token))
                outcomes["a job"] += 1
            except Exited as exited:
                shown = str(exited.args[1])
                outcomes[exited.args[0]] += 1
            except ImportBridgeError as error:
                shown = f"{error!r} {error}"
                outcomes[type(error).__name__] += 1
        assert attacker.received() == 0, attacker.requests
        assert secret not in shown

    attack()
    print(f"{name} via {way}: {dict(outcomes)}")
    assert attacker.received() == 0
    assert outcomes.total() >= NETWORK_EXAMPLES


# -- the attacks one by one (each of these sent the key to the attacker before tokens were bounded)


def _attacks(name: str, job_id: str, configured: str, attacker: Attacker) -> dict[str, str]:
    target = attacker.urls(name)[0]
    return {
        "base_url in the context": encode(Token(provider=name, job_id=job_id, context={"base_url": target})),
        "base_url and the right origin": encode(
            Token(provider=name, job_id=job_id, context={"base_url": target}, origin=configured)
        ),
        "made for the attacker's origin": encode(Token(provider=name, job_id=job_id, origin=origin(target))),
        "made for the attacker's host name": encode(
            Token(provider=name, job_id=job_id, origin=origin(attacker.urls(name)[1]))
        ),
        "a key in the context": encode(
            Token(
                provider=name, job_id=job_id, context={SECRET_VARIABLES[name].split("_", 1)[1].lower(): "x"}
            )
        ),
    }


@pytest.mark.parametrize("name", PROVIDERS)
def test_each_attack_is_refused_before_anything_is_sent(name, sb, jobs, attacker):
    configured = origin(sb.settings(name)["base_url"])
    before = sb.state()[name]["requests_received"]
    for attack, token in _attacks(name, str(jobs[name].id), configured, attacker).items():
        with environment(sb.env):
            with pytest.raises(TokenError):
                importbridge.resume(token)
            with pytest.raises(TokenError):
                list(importbridge.wait_all([token]))
            with pytest.raises(TokenError):
                importbridge.resume(token, **sb.settings(name))
            with importbridge.connect(name) as client:  # a client of the caller's own
                for step in (
                    client.wait,
                    client.poll_once,
                    lambda t: list(importbridge.wait_all([t], clients=[client])),
                ):
                    with pytest.raises(TokenError):
                        step(token)
        assert attacker.received() == 0, attack
    assert sb.state()[name]["requests_received"] == before  # refused before any request at all


@pytest.mark.parametrize("name", PROVIDERS)
def test_the_command_refuses_a_forged_token_with_a_usage_error(name, sb, jobs, attacker):
    configured = origin(sb.settings(name)["base_url"])
    attacks = _attacks(name, str(jobs[name].id), configured, attacker)
    for attack in ("base_url in the context", "made for the attacker's origin"):
        result = run_cli("resume", attacks[attack], "--timeout", "5", env=clean_env(sb.env))
        assert result.returncode == 2, (attack, result.stderr)
        assert result.stderr.startswith("importbridge: error: ")
        assert "resume token" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.stderr
        assert sb.env[SECRET_VARIABLES[name]] not in result.stdout + result.stderr
    assert attacker.received() == 0


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_legitimate_token_still_resumes_signed_or_not(name, sb, jobs):
    with importbridge.connect(name, **sb.settings(name)) as client:
        unsigned = client.token(jobs[name])
    with importbridge.connect(name, token_key=KEY, **sb.settings(name)) as client:
        signed = client.token(jobs[name])
    assert unsigned.startswith("ib1.")
    assert signed.startswith("ib2.")
    with environment(sb.env):
        assert importbridge.resume(unsigned, policy=policy()).id == jobs[name].id
        assert importbridge.resume(signed, token_key=KEY, policy=policy()).id == jobs[name].id
        with pytest.raises(TokenError, match="unsigned"):
            importbridge.resume(unsigned, token_key=KEY)
        with pytest.raises(TokenError, match="IMPORTBRIDGE_TOKEN_KEY"):
            list(importbridge.wait_all([signed]))
        assert [job.id for job in importbridge.wait_all([signed], token_key=KEY, policy=policy())] == [
            jobs[name].id
        ]
    key_env = {**sb.env, "IMPORTBRIDGE_TOKEN_KEY": "test-token-key-0123456789abcdef"}
    signed_run = run_cli("resume", signed, "--json", env=clean_env(key_env))
    assert signed_run.returncode in (0, 1, 3), signed_run.stderr
    assert json.loads(signed_run.stdout)["id"] == jobs[name].id
    unsigned_run = run_cli("resume", unsigned, env=clean_env(key_env))
    assert unsigned_run.returncode == 2
    assert "unsigned" in unsigned_run.stderr
