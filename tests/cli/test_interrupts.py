"""Ctrl-C (SIGINT) and SIGTERM during a wait: the resume token on stderr, exit 130 / 143.

Real subprocesses of the command against a sandbox whose virtual clock stands still, so the jobs
stay unfinished until the test moves the clock. A signal is sent only once the command shows
that its wait has begun (its first progress line on stderr), and the printed token must then
finish the very same job.
"""

from __future__ import annotations

import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

import importbridge
from importbridge import sandbox
from importbridge.tokens import decode

from .conftest import clean_env, run_cli, write_csv

#: rows per import: Micro finishes imports of up to 100 rows in its answer, larger ones make a job
ROWS = 150
SIGNALS = [pytest.param(signal.SIGINT, 130, id="SIGINT"), pytest.param(signal.SIGTERM, 143, id="SIGTERM")]
HINT = re.compile(r"importbridge: resume with: importbridge resume (\S+) --timeout SECONDS")
WAITING = re.compile(r"^micro (\S+): (pending|running)")


@pytest.fixture(scope="module")
def still() -> Iterator[sandbox.Sandbox]:
    """A sandbox whose jobs make no progress until ``clock.advance`` is called."""
    with sandbox.run(seed=5, frozen=True) as running:
        yield running


@pytest.fixture(scope="module")
def env(still: sandbox.Sandbox) -> dict[str, str]:
    return clean_env(still.env)


def _records(path: Path) -> Path:
    return write_csv(path, ["name", "domain"], [[f"Org {i}", f"org{i}.example.com"] for i in range(ROWS)])


def _pending_job(still: sandbox.Sandbox) -> importbridge.ImportJob:
    with importbridge.connect("micro", **_settings(still)) as client:
        job = client.submit([{"name": f"Org {i}", "domain": f"o{i}.example.com"} for i in range(ROWS)])
        assert not job.done
        return job


def _settings(still: sandbox.Sandbox) -> dict[str, str]:
    provider = importbridge.get_provider("micro")
    return {setting.name: still.env[setting.env] for setting in provider.settings if setting.env in still.env}


class Running:
    """The command as a live subprocess whose stderr is read line by line as it comes."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "importbridge", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.seen: list[str] = []
        assert self.process.stderr is not None
        stream = self.process.stderr
        self._reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._reader.start()

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:  # a failed test: leave nothing running
            self.process.kill()
            self.process.wait()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, pattern: re.Pattern[str]) -> re.Match[str]:
        """The first stderr line matching ``pattern`` (the command must still be running)."""
        while True:
            line = self.lines.get(timeout=60)
            assert line is not None, f"the command ended first: {''.join(self.seen)}"
            self.seen.append(line)
            match = pattern.search(line)
            if match is not None:
                return match

    def stop(self, signum: int) -> tuple[int, str, str]:
        """Send ``signum``; the exit status, stdout and all of stderr."""
        self.process.send_signal(signum)
        code = self.process.wait(timeout=60)
        assert self.process.stdout is not None
        out = self.process.stdout.read()  # a few lines at most: no pipe can have filled up
        self._reader.join(timeout=60)
        while (line := self.lines.get_nowait()) is not None:
            self.seen.append(line)
        return code, out, "".join(self.seen)


def _interrupt(args: list[str], env: dict[str, str], signum: int) -> tuple[str, int, str]:
    """Run the command until its wait shows, send ``signum``: (job id shown, exit status, stderr)."""
    with Running(args, env) as running:
        job_id = running.wait_for(WAITING).group(1)
        code, out, err = running.stop(signum)
    assert out == ""  # nothing finished, so no job is printed
    return job_id, code, err


def _resumes(token: str, job_id: str, still: sandbox.Sandbox, env: dict[str, str]) -> None:
    """The token names the job, and resuming it (once the job can finish) prints that job."""
    assert decode(token).job_id == job_id
    still.clock.advance(3600)
    result = run_cli("resume", token, "--json", env=env)
    assert result.code == 0, result.err
    assert result.json()["id"] == job_id
    assert result.json()["state"] == "complete"


@pytest.mark.parametrize(("signum", "code"), SIGNALS)
def test_submit_wait_prints_the_token(
    signum: int, code: int, still: sandbox.Sandbox, env: dict[str, str], tmp_path: Path
) -> None:
    records = _records(tmp_path / "orgs.csv")
    job_id, status, err = _interrupt(["submit", "micro", str(records), "--wait"], env, signum)
    assert status == code, err
    assert "Traceback" not in err
    assert "while waiting; the import goes on at the provider" in err
    tokens = HINT.findall(err)
    assert len(tokens) == 1, err
    _resumes(tokens[0], job_id, still, env)


@pytest.mark.parametrize(("signum", "code"), SIGNALS)
def test_wait_by_id_prints_the_token(
    signum: int, code: int, still: sandbox.Sandbox, env: dict[str, str]
) -> None:
    job = _pending_job(still)
    job_id, status, err = _interrupt(["wait", "micro", str(job.id)], env, signum)
    assert (job_id, status) == (job.id, code), err
    assert "Traceback" not in err
    tokens = HINT.findall(err)
    assert len(tokens) == 1, err
    _resumes(tokens[0], job_id, still, env)


@pytest.mark.parametrize(("signum", "code"), SIGNALS)
def test_resume_prints_the_token(
    signum: int, code: int, still: sandbox.Sandbox, env: dict[str, str]
) -> None:
    job = _pending_job(still)
    with importbridge.connect("micro", **_settings(still)) as client:
        given = client.token(job)
    job_id, status, err = _interrupt(["resume", given], env, signum)
    assert (job_id, status) == (job.id, code), err
    assert HINT.findall(err) == [given]
    _resumes(given, job_id, still, env)


def test_wait_for_several_prints_a_token_each(still: sandbox.Sandbox, env: dict[str, str]) -> None:
    jobs = [_pending_job(still) for _ in range(2)]
    with Running(["wait", "micro", *(str(job.id) for job in jobs)], env) as running:
        running.wait_for(WAITING)
        code, _, err = running.stop(signal.SIGINT)
    assert code == 130, err
    assert "2 imports go on at the provider" in err
    assert sorted(decode(token).job_id for token in HINT.findall(err)) == sorted(str(job.id) for job in jobs)


@pytest.fixture
def silent_server() -> Iterator[tuple[str, threading.Event]]:
    """A server that reads a request and never answers; the event says a request arrived."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)  # so the loop sees ``done`` soon after the test
    arrived, done = threading.Event(), threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        while not done.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            held.append(connection)
            connection.settimeout(10)
            try:
                if connection.recv(65536):
                    arrived.set()
            except OSError:  # the command went away first
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", arrived
    done.set()
    thread.join(timeout=10)
    listener.close()
    for connection in held:
        connection.close()


def test_interrupted_submit_says_the_import_may_have_landed(
    silent_server: tuple[str, threading.Event], tmp_path: Path
) -> None:
    url, arrived = silent_server
    env = clean_env({"MICRO_API_KEY": "sk-canary-interrupt", "MICRO_BASE_URL": url, "MICRO_TEAM_ID": "team"})
    with Running(["submit", "micro", str(_records(tmp_path / "orgs.csv")), "--wait"], env) as running:
        assert arrived.wait(timeout=60), "the submit never reached the server"
        code, out, err = running.stop(signal.SIGINT)
    assert code == 130, err
    assert "Traceback" not in err
    assert "sk-canary-interrupt" not in err + out
    assert "the provider may have accepted the import" in err
    assert HINT.search(err) is None  # no job yet, so nothing to resume
