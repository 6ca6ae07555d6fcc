"""The server: concurrency, bad input in each provider's error shape, control endpoints."""

from __future__ import annotations

import http.client
import socket
import threading
from urllib.parse import urlsplit

import pytest
import requests

from importbridge import sandbox

from .conftest import micro_headers, micro_import_url, organizations


def test_it_holds_200_concurrent_connections(sb: sandbox.Sandbox) -> None:
    address = urlsplit(sb.url)
    connections = [http.client.HTTPConnection(address.hostname, address.port, timeout=30) for _ in range(200)]
    for connection in connections:
        connection.connect()  # all 200 open at once, before any request
    statuses: list[int] = []
    lock = threading.Lock()

    def poll(connection: http.client.HTTPConnection) -> None:
        connection.request("GET", "/_sandbox/state")
        response = connection.getresponse()
        response.read()
        with lock:
            statuses.append(response.status)

    threads = [threading.Thread(target=poll, args=(connection,)) for connection in connections]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for connection in connections:
        connection.close()
    assert statuses == [200] * 200


def _auth(sb: sandbox.Sandbox) -> dict[str, dict[str, str]]:
    return {
        "micro": micro_headers(sb),
        "qobra": {"X-API-Key": sb.settings("qobra")["api_key"]},
        "talkvalue": {"Authorization": f"Bearer {sb.settings('talkvalue')['token']}"},
    }


def _error_shape(provider: str, body: dict[str, object], status: int) -> None:
    if provider == "micro":
        assert isinstance(body["message"], str)
    elif provider == "qobra":
        assert isinstance(body["detail"], str)
    else:
        assert set(body) == {"type", "title", "status", "detail", "errorCode", "messageKey"}
        assert body["status"] == status


BAD_REQUESTS = [
    # provider, path under its base URL, headers, body, expected status
    ("micro", "/v2/prism/{team}/organization/import", {"Content-Type": "application/json"}, b"{oops", 400),
    ("micro", "/v2/prism/{team}/organization/import", {"Content-Type": "text/plain"}, b"{}", 400),
    ("micro", "/v2/prism/{team}/spaceship/import", {"Content-Type": "application/json"}, b"{}", 404),
    ("micro", "/v2/prism/{team}/organization/import", {"Content-Type": "application/json"}, b"[]", 400),
    ("qobra", "/tables/companies/records/bulk", {"Content-Type": "application/json"}, b"[{", 400),
    ("qobra", "/tables/companies/records/bulk", {"Content-Type": "text/csv"}, b"a,b", 415),
    ("qobra", "/tables/companies/records/bulk", {"Content-Type": "application/json"}, b"{}", 422),
    ("qobra", "/tables/unicorns/records/bulk", {"Content-Type": "application/json"}, b"[]", 404),
    ("talkvalue", "/path/import", {"Content-Type": "application/json"}, b"nope", 400),
    ("talkvalue", "/path/import", {"Content-Type": "application/xml"}, b"<a/>", 415),
    ("talkvalue", "/path/import/analyze", {"Content-Type": "multipart/form-data; boundary=zz"},
     b"--zz\r\ngarbage", 400),
    ("talkvalue", "/path/import/analyze", {"Content-Type": "multipart/form-data"}, b"x", 400),
    ("talkvalue", "/path/import/analyze", {"Content-Type": "application/json"}, b"{}", 415),
]


@pytest.mark.parametrize(("provider", "path", "headers", "body", "status"), BAD_REQUESTS)
def test_bad_input_gets_the_documented_error_shape(
    sb: sandbox.Sandbox, http: requests.Session, provider: str, path: str,
    headers: dict[str, str], body: bytes, status: int,
) -> None:
    settings = sb.settings(provider)
    url = settings["base_url"] + path.format(team=settings.get("team_id", ""))
    response = http.post(url, data=body, headers={**_auth(sb)[provider], **headers})
    assert response.status_code == status
    assert "Traceback" not in response.text
    _error_shape(provider, response.json(), status)
    # and the server keeps serving
    assert http.get(f"{sb.url}/_sandbox/state").status_code == 200


@pytest.mark.parametrize("provider", ["micro", "qobra", "talkvalue"])
def test_an_oversized_body_is_413_in_the_provider_shape(provider: str) -> None:
    with sandbox.run(frozen=True, max_body=1000) as running, requests.Session() as http:
        url = running.settings(provider)["base_url"] + "/anything"
        # big enough to overflow socket buffers: the refused body is drained, so the client
        # reads the 413 instead of a connection reset
        response = http.post(url, data=b"x" * (8 << 20), headers=_auth(running)[provider])
        assert response.status_code == 413
        _error_shape(provider, response.json(), 413)
        assert http.get(f"{running.url}/_sandbox/state").status_code == 200


def test_an_oversized_chunked_body_is_413() -> None:
    with sandbox.run(frozen=True, max_body=1000) as running, requests.Session() as http:
        chunks = iter([b"x" * 800, b"y" * 800, b"z" * 800])
        response = http.post(running.url + "/qobra/v1/tables/companies/records/bulk", data=chunks,
                             headers=_auth(running)["qobra"])
        assert response.status_code == 413


def test_a_chunked_body_is_read(sb: sandbox.Sandbox, http: requests.Session) -> None:
    import json

    payload = json.dumps({"objects": organizations(3)}).encode()
    chunks = iter([payload[:10], payload[10:]])
    response = http.post(micro_import_url(sb), data=chunks,
                         headers={**micro_headers(sb), "Content-Type": "application/json"})
    assert response.status_code == 200
    assert response.json()["succeeded"] == 3


def test_a_body_shorter_than_announced_times_out_without_hanging_the_server(sb: sandbox.Sandbox) -> None:
    address = urlsplit(sb.url)
    with socket.create_connection((address.hostname, address.port)) as raw:
        raw.sendall(b"POST /micro/v2/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        assert requests.get(f"{sb.url}/_sandbox/state", timeout=10).status_code == 200


def test_unknown_mounts_and_garbage_request_lines_are_answered(
    sb: sandbox.Sandbox, http: requests.Session
) -> None:
    response = http.get(f"{sb.url}/nowhere/v1")
    assert response.status_code == 404
    assert "/micro" in response.json()["message"]
    address = urlsplit(sb.url)
    with socket.create_connection((address.hostname, address.port)) as raw:
        raw.sendall(b"\x16\x03\x01 not http at all\r\n\r\n")
        assert raw.recv(100).startswith(b"HTTP/1.")
    assert http.get(f"{sb.url}/_sandbox/state").status_code == 200


def test_control_endpoints_move_the_clock_configure_and_script_faults(
    sb: sandbox.Sandbox, http: requests.Session
) -> None:
    before = sb.clock.now()
    moved = http.post(f"{sb.url}/_sandbox/clock/advance", json={"seconds": 60}).json()
    assert moved["now"] == pytest.approx(before + 60)
    assert http.post(f"{sb.url}/_sandbox/configure", json={"speed": 5}).json()["speed"] == 5
    assert sb.config.speed == 5
    assert http.post(f"{sb.url}/_sandbox/configure", json={"warp": 9}).status_code == 400
    scripted = http.post(f"{sb.url}/_sandbox/faults", json={"script": [{"kind": "503", "method": "GET"}]})
    assert scripted.json()["scripted_pending"] == 1
    assert http.get(sb.settings("qobra")["base_url"] + "/imports/x").status_code == 503
    assert http.post(f"{sb.url}/_sandbox/clock/advance", json={"seconds": "soon"}).status_code == 400
    assert http.get(f"{sb.url}/_sandbox/clock").json()["frozen"] is True
