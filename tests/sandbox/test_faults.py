"""Fault injection: reproducible with a seed, scriptable, and each kind behaves as documented."""

from __future__ import annotations

import pytest
import requests

from importbridge import sandbox
from importbridge.sandbox import FAULT_KINDS, FaultInjector

from .conftest import micro_headers, micro_import_url, organizations


def _draws(seed: int) -> list[str | None]:
    faults = FaultInjector(0.5, seed=seed)
    return [faults.pick("GET", f"/micro/x/{n}") for n in range(200)]


def test_the_same_seed_gives_the_same_faults() -> None:
    assert _draws(7) == _draws(7)
    assert _draws(7) != _draws(8)
    drawn = {kind for kind in _draws(7) if kind}
    assert drawn == set(FAULT_KINDS)


def test_scripted_faults_match_method_and_path_then_run_out() -> None:
    faults = FaultInjector()
    faults.script(method="GET", path="/micro/*/imports/*", kind="503", times=2)
    assert faults.pick("POST", "/micro/v2/imports/1") is None
    assert faults.pick("GET", "/micro/v2/imports/1") == "503"
    assert faults.pick("GET", "/micro/v2/imports/1") == "503"
    assert faults.pick("GET", "/micro/v2/imports/1") is None
    assert faults.stats()["injected"] == {"503": 2}


@pytest.mark.parametrize("bad", [{"kind": "teapot"}, {"kind": "503", "times": 0}])
def test_a_bad_script_is_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValueError, match=r"kind|times"):
        FaultInjector().script(**bad)  # type: ignore[arg-type]


def test_the_rate_must_be_a_probability() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultInjector(1.5)


def _post(sb: sandbox.Sandbox, http: requests.Session, rows: int = 2) -> requests.Response:
    return http.post(micro_import_url(sb), json={"objects": organizations(rows)}, headers=micro_headers(sb))


def test_error_faults_answer_in_the_provider_shape_and_import_nothing(
    sb: sandbox.Sandbox, http: requests.Session
) -> None:
    sb.faults.script(kind="429", method="POST")
    sb.faults.script(kind="502", method="POST")
    limited = _post(sb, http)
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"
    assert "message" in limited.json()
    assert _post(sb, http).status_code == 502
    assert sb.state()["micro"]["imports"] == 0
    assert sb.state()["micro"]["faults"] == {"429": 1, "502": 1}


def test_reset_before_loses_the_request(sb: sandbox.Sandbox, http: requests.Session) -> None:
    sb.faults.script(kind="reset_before", method="POST")
    with pytest.raises(requests.ConnectionError):
        _post(sb, http)
    assert sb.state()["micro"]["imports"] == 0
    assert _post(sb, http).status_code == 200  # the server keeps serving


def test_reset_after_loses_only_the_response(sb: sandbox.Sandbox, http: requests.Session) -> None:
    sb.faults.script(kind="reset_after", method="POST")
    with pytest.raises(requests.ConnectionError):
        _post(sb, http, rows=3)
    state = sb.state()["micro"]
    assert state["imports"] == 1
    assert state["records"] == 3


def test_truncated_bodies_do_not_parse(sb: sandbox.Sandbox, http: requests.Session) -> None:
    sb.faults.script(kind="truncated", method="POST")
    response = _post(sb, http)
    assert response.status_code == 200
    with pytest.raises(ValueError, match=r"."):
        response.json()
    assert sb.state()["micro"]["imports"] == 1


def test_slow_responses_still_arrive() -> None:
    with sandbox.run(frozen=True, slow_seconds=0.05) as running, requests.Session() as http:
        running.faults.script(kind="slow")
        assert _post(running, http).status_code == 200
        assert running.state()["micro"]["faults"] == {"slow": 1}


def test_control_endpoints_are_never_faulted(sb: sandbox.Sandbox, http: requests.Session) -> None:
    sb.faults.rate = 1.0
    for _ in range(20):
        assert http.get(f"{sb.url}/_sandbox/state").status_code == 200


def test_a_seeded_sandbox_faults_the_same_requests_every_run() -> None:
    def statuses() -> list[int]:
        seen = []
        with sandbox.run(frozen=True, seed=42, faults=0.3, rate_limit=None) as running, \
                requests.Session() as http:
            running.faults.slow_seconds = 0.0
            for _ in range(30):
                try:
                    seen.append(http.get(f"{running.url}/qobra/v1/imports/nope",
                                         headers={"X-API-Key": running.settings("qobra")["api_key"]}
                                         ).status_code)
                except requests.ConnectionError:
                    seen.append(-1)
        return seen

    first = statuses()
    assert first == statuses()
    assert {404} < set(first)


def test_retrying_with_idempotency_keys_through_random_faults_imports_exactly_once() -> None:
    """The state endpoint's purpose: prove nothing was lost or doubled, whatever failed on the way."""
    with sandbox.run(frozen=True, seed=2024, faults=0.3, rate_limit=None, slow_seconds=0.0) as running, \
            requests.Session() as http:
        outcomes: dict[str, int] = {}
        for batch in range(20):
            key = f"batch-{batch}"
            for _attempt in range(50):
                try:
                    response = http.post(micro_import_url(running), json={"objects": organizations(3)},
                                         headers={**micro_headers(running), "Idempotency-Key": key})
                    response.json()
                except (requests.ConnectionError, ValueError):
                    continue
                if response.status_code == 200:
                    outcomes[key] = response.json()["succeeded"]
                    break
        state = running.state()["micro"]
        assert outcomes == {f"batch-{n}": 3 for n in range(20)}
        assert state["imports"] == 20
        assert state["records"] == 60
        assert sum(state["faults"].values()) > 0
        assert all(stats["requests"] >= 1 for stats in state["idempotency_keys"].values())
