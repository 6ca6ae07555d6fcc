"""Router: templates match one segment per placeholder; 404 and 405 are told apart."""

from __future__ import annotations

import pytest

from importbridge.sandbox import HttpError, Request, Response, Router


def _router() -> Router:
    router = Router()
    router.add("GET", "/jobs/{job_id}", lambda request: Response.json(200, dict(request.params)))
    router.add("POST", "/jobs", lambda request: Response.json(201, {}))
    return router


def test_placeholders_capture_one_decoded_segment() -> None:
    route, routed = _router().resolve(Request(method="GET", path="/jobs/a%20b"))
    assert routed.params == {"job_id": "a b"}
    assert route.template == "/jobs/{job_id}"


def test_a_placeholder_does_not_span_segments() -> None:
    with pytest.raises(HttpError) as caught:
        _router().resolve(Request(method="GET", path="/jobs/a/b"))
    assert caught.value.status == 404


def test_a_wrong_method_is_405_with_allow() -> None:
    with pytest.raises(HttpError) as caught:
        _router().resolve(Request(method="DELETE", path="/jobs"))
    assert caught.value.status == 405
    assert caught.value.headers["Allow"] == "POST"
