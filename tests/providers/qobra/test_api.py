"""Qobra's requests against the sandbox over real HTTP: bulk ingest, the import, its parsing errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import importbridge
from importbridge import AuthenticationError, ConfigurationError, JobNotFound, JobState, ProviderError

pytestmark = pytest.mark.importbridge_sandbox(rate_limit=None)

FAST = importbridge.RetryPolicy(base=0.01, cap=0.05, sleep=lambda _: None)


@pytest.fixture
def qobra(importbridge_sandbox) -> Iterator[importbridge.ImportClient]:
    with importbridge.connect("qobra", retry=FAST, **importbridge_sandbox.settings("qobra")) as client:
        yield client


def deals(n: int, bad: frozenset[int] = frozenset()) -> list[dict[str, str]]:
    return [
        {"id": str(i), "name": f"Deal {i}", "amount": "x" if i in bad else f"{i}.5"} for i in range(1, n + 1)
    ]


def finish(sb: importbridge.sandbox.Sandbox) -> None:
    sb.clock.advance(3600)


def test_a_clean_ingest_completes(qobra, importbridge_sandbox) -> None:
    job = qobra.submit(deals(5), table="deals")
    assert job.id
    assert job.state in (JobState.PENDING, JobState.RUNNING, JobState.COMPLETE)
    finish(importbridge_sandbox)
    done = qobra.get(job.id)
    assert done.state is JobState.COMPLETE
    assert list(qobra.failed_rows(done)) == []
    assert importbridge_sandbox.state()["qobra"]["records_by_table"] == {"deals": 5}


def test_unparseable_amounts_are_failed_rows_with_their_lines(qobra, importbridge_sandbox) -> None:
    job = qobra.submit(deals(6, bad=frozenset({2, 5})), table="deals")
    finish(importbridge_sandbox)
    failed = list(qobra.failed_rows(job))
    assert [(row.row, row.table, row.data["amount"]) for row in failed] == [
        (2, "deals", "x"),
        (5, "deals", "x"),
    ]
    assert all(row.error is not None and row.error.message for row in failed)
    assert qobra.get(job.id).state is JobState.FAILED


def test_failed_rows_before_the_import_finishes_ask_to_wait(qobra) -> None:
    job = qobra.submit(deals(3), table="deals", debounce=600)
    with pytest.raises(importbridge.WaitError, match="once it finishes"):
        list(qobra.failed_rows(job))


def test_replace_all_empties_the_table_first(qobra, importbridge_sandbox) -> None:
    qobra.submit(deals(4), table="companies")
    qobra.submit(deals(2), table="companies", replace_all=True)
    finish(importbridge_sandbox)
    assert importbridge_sandbox.state()["qobra"]["records_by_table"] == {"companies": 2}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "table="),
        ({"table": ""}, "table="),
        ({"table": "deals", "debounce": -1}, "debounce"),
        ({"table": "deals", "debounce": True}, "debounce"),
        ({"table": "deals", "mode": "SKIP"}, "unknown submit option"),
    ],
)
def test_options_are_checked_before_sending(qobra, importbridge_sandbox, options, message) -> None:
    with pytest.raises(ConfigurationError, match=message):
        qobra.submit(deals(1), **options)
    assert importbridge_sandbox.state()["qobra"]["imports"] == 0


def test_errors_from_the_provider(qobra, importbridge_sandbox) -> None:
    with pytest.raises(ProviderError, match="not found") as caught:
        qobra.submit(deals(1), table="no_such_table")
    assert caught.value.status == 404
    assert not isinstance(caught.value, JobNotFound)
    with pytest.raises(JobNotFound):
        qobra.get("647a13fe875af4b4eb7133c2")
    settings = importbridge_sandbox.settings("qobra") | {"api_key": "wrong"}
    with importbridge.connect("qobra", **settings) as client, pytest.raises(AuthenticationError):
        client.get("647a13fe875af4b4eb7133c2")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"message": "Invalid API key"}, ("Invalid API key", None)),
        ({"detail": "Not authenticated"}, ("Not authenticated", None)),
        ({"detail": [{"loc": ["query", "all"], "msg": "not a bool"}]}, ("not a bool", None)),
        ({"title": "ParsingError", "description": "bad float"}, ("bad float", "ParsingError")),
        ("Bad Gateway", ("Bad Gateway", None)),
        ({}, ("HTTP 500", None)),
    ],
)
def test_error_messages(body, expected) -> None:
    from importbridge_qobra import api

    assert api.error_message(500, body) == expected
