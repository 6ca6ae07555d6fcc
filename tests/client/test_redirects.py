"""Credentials go to base_url's origin only: a redirect elsewhere is refused, never followed.

Two real loopback servers: the provider's, which redirects, and another origin (another port,
another host name, another address) that records every request it gets and must get none.
"""

from __future__ import annotations

import traceback
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

import importbridge
from importbridge import ConfigurationError, SubmitOutcomeUnknown
from importbridge.transport import origin

from .support import CANARY, Reply, ScriptedServer

JOB = {"id": "7", "status": "done"}
STATUSES = [301, 302, 303, 307, 308]


@pytest.fixture
def elsewhere() -> Iterator[ScriptedServer]:
    recorder = ScriptedServer()
    yield recorder
    recorder.close()


@pytest.fixture
def far() -> Iterator[ScriptedServer]:
    """Another loopback address (127.0.0.2): another host, whatever the port."""
    recorder = ScriptedServer(host="127.0.0.2")
    yield recorder
    recorder.close()


def _targets(elsewhere: ScriptedServer, far: ScriptedServer) -> dict[str, tuple[str, ScriptedServer]]:
    return {
        "another port": (f"{elsewhere.url}/jobs/7", elsewhere),
        "another host name": (f"http://localhost:{elsewhere.port}/jobs/7", elsewhere),
        "another address": (f"{far.url}/jobs/7", far),
        "relative to another host": (f"//localhost:{elsewhere.port}/jobs/7", elsewhere),
    }


def _never_saw_the_key(recorder: ScriptedServer) -> None:
    assert recorder.seen == []
    assert all(CANARY not in str(seen.headers) for seen in recorder.seen)


def _no_canary(error: BaseException) -> None:
    for text in (str(error), repr(error), "".join(traceback.format_exception(error))):
        assert CANARY not in text


@pytest.mark.parametrize("status", STATUSES)
@pytest.mark.parametrize(
    "kind", ["another port", "another host name", "another address", "relative to another host"]
)
def test_a_get_redirected_to_another_origin_is_refused(
    client, server, elsewhere, far, status: int, kind: str
) -> None:
    location, recorder = _targets(elsewhere, far)[kind]
    server.queue(Reply(status, {"moved": True}, {"Location": location}))
    recorder.default = Reply(200, JOB)
    with pytest.raises(ConfigurationError, match="another origin") as caught:
        client.get("7")
    assert "base_url" in str(caught.value)
    _no_canary(caught.value)
    _never_saw_the_key(recorder)
    assert server.count() == 1  # refused, not retried
    assert server.seen[0].headers["x-echo-key"] == CANARY  # the configured origin did get it


@pytest.mark.parametrize("status", [307, 308])
def test_a_post_redirected_to_another_origin_keeps_its_body_and_key(
    client, server, elsewhere, status
) -> None:
    server.queue(Reply(status, {"moved": True}, {"Location": f"{elsewhere.url}/jobs"}))
    with pytest.raises(ConfigurationError, match="another origin"):
        client.submit([{"secret-ish": "row"}])
    _never_saw_the_key(elsewhere)


@pytest.mark.parametrize("status", [302, 303])
def test_a_post_answered_by_a_cross_origin_see_other_may_have_landed(
    client, server, elsewhere, status
) -> None:
    """302/303 after a POST may follow the server acting on it: the outcome is unknown."""
    server.queue(Reply(status, {"created": True}, {"Location": f"{elsewhere.url}/jobs/7"}))
    with pytest.raises(SubmitOutcomeUnknown, match="another origin") as caught:
        client.submit([{"a": 1}])
    _no_canary(caught.value)
    _never_saw_the_key(elsewhere)
    assert server.count("POST") == 1


@pytest.mark.parametrize("status", STATUSES)
def test_a_redirect_within_the_origin_is_followed_with_the_key(client, server, status: int) -> None:
    server.queue(Reply(status, "moved", {"Location": "/jobs/8"}), Reply(200, {"id": "8", "status": "done"}))
    assert client.get("7").id == "8"
    assert [seen.path for seen in server.seen] == ["/jobs/7", "/jobs/8"]
    assert all(seen.headers["x-echo-key"] == CANARY for seen in server.seen)


def _settings(name: str, base_url: str) -> dict[str, str]:
    """Every setting of a built-in provider: secrets are the canary, the rest placeholders."""
    provider = importbridge.get_provider(name)
    values = {setting.name: CANARY if setting.secret else "t1" for setting in provider.settings}
    return {**values, "base_url": base_url}


@pytest.mark.parametrize("name", ["micro", "qobra", "talkvalue"])
@pytest.mark.parametrize("kind", ["another port", "another host name", "another address"])
def test_no_provider_sends_its_key_across_a_redirect(server, elsewhere, far, name: str, kind: str) -> None:
    """Whatever the header's name (x-api-key, X-API-Key, Authorization)."""
    location, recorder = _targets(elsewhere, far)[kind]
    server.default = Reply(302, "moved", {"Location": location})
    recorder.default = Reply(200, JOB)
    with importbridge.connect(name, **_settings(name, server.url)) as client:
        with pytest.raises(ConfigurationError, match="another origin") as caught:
            client.get("1")
        _no_canary(caught.value)
    _never_saw_the_key(recorder)
    assert CANARY in str(server.seen[0].headers)  # sent where it was configured to go


@given(
    st.sampled_from(["http", "https", "HTTP"]),
    st.sampled_from(["example.com", "EXAMPLE.com", "example.com."]),
)
def test_an_origin_is_scheme_host_and_port_with_defaults_spelled_out(scheme: str, host: str) -> None:
    default = {"http": 80, "https": 443}[scheme.lower()]
    assert origin(f"{scheme}://{host}/a") == origin(f"{scheme.lower()}://example.com:{default}/b?c")
    assert origin(f"{scheme}://{host}/a") != origin(f"{scheme}://{host}:{default + 1}/a")
    assert origin(f"{scheme}://user:pw@{host}/a") == origin(f"{scheme}://{host}/a")
