"""What a submit delivered again does, per provider: replay, re-attach, or say it cannot tell.

The broker marks a message delivered again after a worker died holding it; the submit task then
runs ``_submit_once(..., redelivered=True)``. Here that is called directly against the sandbox,
after a first delivery that did land, so each provider's answer is checked deterministically.
"""

from __future__ import annotations

from typing import Any

import pytest

import importbridge
from importbridge import sandbox
from importbridge.integrations.celery import submit_request_id
from importbridge.integrations.celery.tasks import _submit_once

OPTIONS: dict[str, dict[str, Any]] = {"micro": {}, "qobra": {"table": "deals"}, "talkvalue": {"source_id": 1}}
ROWS = [{"email": f"r{n}@example.com", "name": f"r {n}", "domain": f"r{n}.example"} for n in range(120)]


def _rows(provider: str) -> list[dict[str, Any]]:
    if provider == "talkvalue":
        return [{"email": row["email"], "name": row["name"]} for row in ROWS]
    return [dict(row) for row in ROWS]


@pytest.mark.parametrize("provider", ["micro", "talkvalue"])
def test_a_redelivered_submit_re_attaches_to_the_import_it_made(provider: str) -> None:
    with sandbox.run(rate_limit=None) as sb, \
            importbridge.connect(provider, **sb.settings(provider)) as client:
        first = _submit_once(client, _rows(provider), OPTIONS[provider], "order-7", redelivered=False)
        again = _submit_once(client, _rows(provider), OPTIONS[provider], "order-7", redelivered=True)
        assert again.id == first.id
        assert sb.state()[provider]["imports"] == 1


def test_a_redelivered_submit_the_provider_cannot_look_up_is_in_doubt() -> None:
    with sandbox.run(rate_limit=None) as sb, importbridge.connect("qobra", **sb.settings("qobra")) as client:
        _submit_once(client, _rows("qobra"), OPTIONS["qobra"], "order-8", redelivered=False)
        with pytest.raises(importbridge.SubmitOutcomeUnknown, match="order-8") as caught:
            _submit_once(client, _rows("qobra"), OPTIONS["qobra"], "order-8", redelivered=True)
        assert sb.state()["qobra"]["imports"] == 1
    expected = submit_request_id("order-8", "qobra", _rows("qobra"), OPTIONS["qobra"])
    assert caught.value.request_id == expected
    assert expected in str(caught.value)


def test_a_redelivered_submit_that_never_landed_is_sent() -> None:
    """TalkValue says the first delivery made nothing (killed before its POST): sent now, once."""
    with sandbox.run(rate_limit=None) as sb, \
            importbridge.connect("talkvalue", **sb.settings("talkvalue")) as client:
        job = _submit_once(client, _rows("talkvalue"), OPTIONS["talkvalue"], "order-9", redelivered=True)
        assert job.id is not None
        assert sb.state()["talkvalue"]["imports"] == 1


def test_the_request_id_follows_the_key_and_the_records() -> None:
    one = submit_request_id("k", "micro", [{"a": 1}], {})
    assert one == submit_request_id("k", "micro", [{"a": 1}], {})
    assert one != submit_request_id("k2", "micro", [{"a": 1}], {})
    assert one != submit_request_id("k", "micro", [{"a": 2}], {})
    assert one != submit_request_id("k", "qobra", [{"a": 1}], {})
    assert one != submit_request_id("k", "micro", [{"a": 1}], {"list_id": "x"})
