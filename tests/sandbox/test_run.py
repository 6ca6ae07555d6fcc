"""run(): settings and env derived from each provider's Settings; the command; the pytest fixture."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

import pytest
import requests

import importbridge
from importbridge import sandbox

ENV_NAMES = {
    "MICRO_BASE_URL", "MICRO_API_KEY", "MICRO_TEAM_ID", "QOBRA_BASE_URL", "QOBRA_API_KEY",
    "TALKVALUE_API_URL", "TALKVALUE_TOKEN",
}


def test_settings_cover_every_provider_setting(sb: sandbox.Sandbox) -> None:
    for name in ("micro", "qobra", "talkvalue"):
        provider = importbridge.get_provider(name)
        assert set(sb.settings(name)) == {setting.name for setting in provider.settings}
    assert sb.settings("micro")["base_url"] == sb.url + "/micro"
    assert sb.settings("qobra")["base_url"] == sb.url + "/qobra/v1"
    assert sb.settings("talkvalue")["base_url"] == sb.url + "/talkvalue"
    assert set(sb.env) == ENV_NAMES
    assert sb.env["MICRO_TEAM_ID"] == sb.settings("micro")["team_id"]


def test_secrets_are_fresh_per_run_and_never_in_state() -> None:
    with sandbox.run(seed=3) as first, sandbox.run(seed=3) as second:
        assert first.env["MICRO_API_KEY"] != second.env["MICRO_API_KEY"]
        assert first.env["MICRO_TEAM_ID"] == second.env["MICRO_TEAM_ID"]  # seeded, not secret
        state = requests.get(f"{first.url}/_sandbox/state").text
        for name in ("MICRO_API_KEY", "QOBRA_API_KEY", "TALKVALUE_TOKEN"):
            assert first.env[name] not in state


def test_unknown_names_are_clear_errors(sb: sandbox.Sandbox) -> None:
    with pytest.raises(importbridge.UnknownProviderError, match="nope"):
        sb.settings("nope")
    with pytest.raises(importbridge.UnknownProviderError, match="nope"):
        sandbox.run(providers=["nope"])
    with pytest.raises(TypeError, match="warp"):
        sb.configure(warp=9)
    with pytest.raises(ValueError, match="speed"):
        sb.configure(speed=0)


def test_providers_limits_the_mounts() -> None:
    with sandbox.run(providers=["qobra"]) as running:
        assert set(running.simulators) == {"qobra"}
        assert set(running.env) == {"QOBRA_BASE_URL", "QOBRA_API_KEY"}


def test_a_third_party_simulator_mounts_without_a_provider() -> None:
    class Echo(sandbox.Simulator):
        def routes(self, router: sandbox.Router) -> None:
            router.add("GET", "/echo/{word}",
                       lambda request: sandbox.Response.json(200, dict(request.params)))

    with sandbox.run(simulators={"echo": Echo}) as running:
        assert running.settings("echo") == {"base_url": running.url + "/echo"}
        assert requests.get(running.url + "/echo/echo/hi").json() == {"word": "hi"}
        assert running.state()["echo"]["requests"] == 1


def _echo_factory(context: sandbox.SimulatorContext) -> sandbox.Simulator:
    return sandbox.Simulator(context)


@pytest.mark.parametrize(("registration", "fragment"), [
    (("acme",), "1 arguments"),
    (("acme", _echo_factory, "extra"), "3 arguments"),
    (("Not A Name", _echo_factory), "invalid provider name 'Not A Name'"),
    ((7, _echo_factory), "invalid provider name 7"),
    (("acme", "not callable"), "'acme' with a factory that is not callable"),
])
def test_a_bad_simulator_registration_is_an_invalid_plugin_error_naming_the_plugin(
    monkeypatch: pytest.MonkeyPatch, registration: tuple[Any, ...], fragment: str
) -> None:
    """``register`` takes any arguments: a plugin's mistake is named, not a bare unpacking error."""
    from importbridge import plugins

    monkeypatch.setattr(plugins.registry(), "collect", lambda hook: {"acme-plugin": (registration,)})
    with pytest.raises(importbridge.InvalidPluginError, match="acme-plugin") as caught:
        sandbox.discover_simulators()
    assert fragment in str(caught.value)


def test_the_command_prints_exports_and_stops_on_sigterm() -> None:
    code = "import sys; from importbridge.cli import main; sys.exit(main())"
    try:
        import importbridge.cli  # noqa: F401
    except ImportError:
        code = (
            "import argparse, sys; from importbridge.sandbox import command; p = argparse.ArgumentParser();"
            " command.add_arguments(p); sys.exit(command.run_command(p.parse_args(sys.argv[2:])))"
        )
    process = subprocess.Popen(
        [sys.executable, "-c", code, "sandbox", "--port", "0", "--seed", "5", "--speed", "100"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(len(ENV_NAMES))]
        exported = dict(line.removeprefix("export ").strip().split("=", 1) for line in lines)
        assert set(exported) == ENV_NAMES
        base = exported["QOBRA_BASE_URL"]
        answer = requests.get(base + "/imports/x", headers={"X-API-Key": exported["QOBRA_API_KEY"]})
        assert answer.status_code == 404
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0


def test_the_command_applies_faults_seed_and_speed_and_stops_on_sigint() -> None:
    """The issue's other stop signal (Ctrl-C) and the options reach the running sandbox."""
    process = subprocess.Popen(
        [sys.executable, "-m", "importbridge", "sandbox", "--port", "0", "--faults", "0.5",
         "--seed", "9", "--speed", "40"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(len(ENV_NAMES))]
        exported = dict(line.removeprefix("export ").strip().split("=", 1) for line in lines)
        root = exported["MICRO_BASE_URL"].removesuffix("/micro")
        knobs = requests.get(root + "/_sandbox/state", timeout=10).json()["_sandbox"]
        assert knobs["faults"]["rate"] == 0.5
        assert knobs["config"]["speed"] == 40
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    assert process.stderr is not None
    assert "Traceback" not in process.stderr.read()


@pytest.mark.importbridge_sandbox(frozen=True, speed=10, report_progress=False)
def test_the_pytest_fixture_takes_marker_options(importbridge_sandbox: Any) -> None:
    assert importbridge_sandbox.clock.frozen
    assert importbridge_sandbox.config.speed == 10
    assert importbridge_sandbox.config.report_progress is False


def test_the_session_fixture_serves(importbridge_sandbox_session: Any) -> None:
    assert requests.get(importbridge_sandbox_session.url + "/_sandbox/state").status_code == 200


def test_a_simulator_that_crashes_still_gets_an_answer_and_the_server_lives_on() -> None:
    class Broken(sandbox.Simulator):
        def routes(self, router: sandbox.Router) -> None:
            router.add("GET", "/boom", self.boom)

        def boom(self, request: sandbox.Request) -> sandbox.Response:
            raise RuntimeError("secret internals")

        def error(self, error: sandbox.HttpError) -> sandbox.Response:
            if error.status == 500:
                raise RuntimeError("the error shape itself is broken")
            return super().error(error)

    with sandbox.run(simulators={"broken": Broken}) as running:
        response = requests.get(running.url + "/broken/boom")
        assert response.status_code == 500
        assert response.json() == {"message": "internal sandbox error"}
        assert "secret" not in response.text
        assert requests.get(running.url + "/broken/nothing").status_code == 404


def test_a_port_in_use_is_a_configuration_error(sb: sandbox.Sandbox) -> None:
    port = int(sb.url.rsplit(":", 1)[1])
    with pytest.raises(importbridge.ConfigurationError, match=f"127.0.0.1:{port}"):
        sandbox.run(port=port)


def test_a_closed_sandbox_answers_nobody_even_on_kept_alive_connections() -> None:
    running = sandbox.run()
    with requests.Session() as http:
        assert http.get(running.url + "/_sandbox/state").status_code == 200
        running.close()
        with pytest.raises(requests.ConnectionError):
            http.get(running.url + "/_sandbox/state")
    running.close()  # idempotent
