"""A real Redis server and real ``celery worker`` processes, with the sandbox as the provider.

Redis comes from the system's ``redis-server`` (``.ci/run`` installs it). Where it or the
``celery`` extra is missing the tests skip, except in CI (``IMPORTBRIDGE_REQUIRE_EXTRAS``),
where that is a failure.
"""

from __future__ import annotations

import gc
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

REQUIRED = bool(os.environ.get("IMPORTBRIDGE_REQUIRE_EXTRAS"))
if not REQUIRED:
    pytest.importorskip("celery")
    pytest.importorskip("redis")
import redis  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A throwaway Redis server on loopback (no persistence), for the broker and the results."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (apt-get install redis-server)"
        if REQUIRED:
            pytest.fail(message)
        pytest.skip(message)
    port = _free_port()
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(folder)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(200):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    else:
        server.kill()
        pytest.fail("redis-server did not start")
    yield url
    client.close()
    server.terminate()
    server.wait(10)


class Workers:
    """Real ``celery worker`` processes (prefork), started, killed and restarted by name."""

    def __init__(self, env: Mapping[str, str], log_dir: Path) -> None:
        self.env = dict(env)
        self.log_dir = log_dir
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.starts = 0

    def start(self, name: str, *, concurrency: int = 2) -> None:
        self.starts += 1
        log = open(self.log_dir / f"{name}-{self.starts}.log", "wb")  # noqa: SIM115
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "tests.integrations.celery.worker_app", "worker",
             "--pool", "prefork", "--concurrency", str(concurrency), "--loglevel", "WARNING",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{name}@%h"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        log.close()

    def kill(self, name: str) -> None:
        """SIGKILL the worker and its pool children (its own process group), as a crash would."""
        proc = self.procs.pop(name)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def stop(self) -> None:
        for name in list(self.procs):
            proc = self.procs.pop(name)
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


def worker_env(redis_url: str, provider_env: Mapping[str, str], **extra: str) -> dict[str, str]:
    """The environment of a worker: the broker, the sandbox's settings, this tree on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MICRO_", "QOBRA_", "TALKVALUE_"))}
    path = os.pathsep.join([str(ROOT), str(ROOT / "src"), str(ROOT / "providers")])
    env.update(provider_env)
    env.update({"IB_TEST_BROKER": redis_url, "PYTHONPATH": path, **extra})
    return env


@pytest.fixture
def flush(redis_url: str) -> None:
    """Each test starts from an empty broker."""
    client = redis.Redis.from_url(redis_url)
    client.flushall()
    client.close()


def close_app(app: Any) -> None:
    """Let go of the app's results while Redis still runs (they unsubscribe when collected)."""
    gc.collect()
    app.close()
