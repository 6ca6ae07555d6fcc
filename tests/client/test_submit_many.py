"""submit_many and its checkpoint journal: batches in order, resumes that neither lose nor double rows.

``LedgerProvider`` is an in-process provider (no HTTP) whose imports land in a ledger, optionally
deduplicated by request id; ``Crash`` stands in for a kill at any moment of a submit. The real
SIGKILL test against the sandbox lives in test_resume_kill.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import importbridge
from importbridge import (
    Capability,
    ConfigurationError,
    Connection,
    ImportJob,
    JobState,
    ProviderError,
    RowResult,
    SubmitOutcomeUnknown,
)

from .support import Reply, ScriptedServer


class Crash(BaseException):
    """A kill: nothing after it runs (not an Exception, so nothing catches it)."""


class LedgerProvider(importbridge.Provider):
    name = "ledger"
    capabilities = frozenset({Capability.NORMALIZE, Capability.CLIENT})
    settings = (importbridge.Setting(name="base_url", env="LEDGER_URL", default="http://ledger.invalid"),)
    batch_size = 4

    def __init__(self, *, idempotent: bool = False, findable: bool = False) -> None:
        if idempotent:
            self.capabilities = self.capabilities | {Capability.IDEMPOTENT_SUBMIT}
        self.idempotent = idempotent
        self.findable = findable
        self.landed: dict[str, list[Mapping[str, Any]]] = {}
        self.order: list[str] = []
        self.crash_at: tuple[int, str] | None = None  # (call number, "before" | "after")
        self.calls = 0

    def submit(
        self, conn: Connection, records: Sequence[Mapping[str, Any]], options: Mapping[str, Any]
    ) -> ImportJob:
        self.calls += 1
        request_id = options["request_id"]
        if self.crash_at == (self.calls, "before"):
            raise Crash
        if not (self.idempotent and request_id in self.landed):
            key = request_id if self.idempotent else f"{request_id}#{self.calls}"
            self.landed[key] = list(records)
            self.order.append(key)
        if self.crash_at == (self.calls, "after"):
            raise Crash
        return ImportJob(
            provider=self.name,
            id=str(self.calls),
            state=JobState.COMPLETE,
            provider_state="done",
            total=len(records),
        )

    def find_submit(self, conn: Connection, request_id: str) -> ImportJob | None:
        if not self.findable:
            return super().find_submit(conn, request_id)
        for key in self.order:
            if key.split("#")[0] == request_id:
                return ImportJob(
                    provider=self.name,
                    id=key,
                    state=JobState.COMPLETE,
                    provider_state="done",
                    total=len(self.landed[key]),
                )
        return None

    def rows(self) -> list[Mapping[str, Any]]:
        return [row for key in self.order for row in self.landed[key]]

    def get(self, conn: Connection, job_id: str, context: Mapping[str, str]) -> ImportJob:
        raise NotImplementedError

    def failed_rows(self, conn: Connection, job: ImportJob) -> Iterator[RowResult]:
        raise NotImplementedError


def records(n: int) -> list[dict[str, Any]]:
    return [{"n": i} for i in range(n)]


def test_batches_follow_the_provider_batch_size_in_order() -> None:
    provider = LedgerProvider()
    jobs = importbridge.connect(provider).submit_many(records(10))
    assert [job.total for job in jobs] == [4, 4, 2]
    assert provider.rows() == records(10)


def test_a_finished_run_is_not_sent_again(tmp_path: Path) -> None:
    provider = LedgerProvider()
    client = importbridge.connect(provider)
    first = client.submit_many(records(9), chunk_size=3, checkpoint=tmp_path / "cp")
    again = client.submit_many(records(9), chunk_size=3, checkpoint=tmp_path / "cp")
    assert again == first
    assert provider.calls == 3


@settings(max_examples=60)
@given(
    n=st.integers(min_value=1, max_value=30),
    size=st.integers(min_value=1, max_value=7),
    crash_call=st.integers(min_value=1, max_value=8),
    when=st.sampled_from(["before", "after"]),
    kind=st.sampled_from(["plain", "idempotent", "findable"]),
)
def test_a_crash_anywhere_then_a_rerun_lands_every_row_once(
    tmp_path_factory: pytest.TempPathFactory, n: int, size: int, crash_call: int, when: str, kind: str
) -> None:
    path = tmp_path_factory.mktemp("cp") / "journal"
    provider = LedgerProvider(idempotent=kind == "idempotent", findable=kind == "findable")
    provider.crash_at = (crash_call, when)
    client = importbridge.connect(provider)
    with contextlib.suppress(Crash):
        client.submit_many(records(n), chunk_size=size, checkpoint=path)
    provider.crash_at = None
    try:
        jobs = client.submit_many(records(n), chunk_size=size, checkpoint=path)
    except SubmitOutcomeUnknown:
        assert kind == "plain"  # only a provider that can neither deduplicate nor look up leaves a doubt
        landed_batches = len(provider.order)
        # the caller checks the provider: the doubtful batch landed iff the crash came after it
        decision = "skip" if when == "after" else "resubmit"
        jobs = client.submit_many(records(n), chunk_size=size, checkpoint=path, on_unknown=decision)
        assert len(provider.order) >= landed_batches
    assert provider.rows() == records(n)
    assert len(jobs) <= -(-n // size)


def test_a_doubtful_batch_is_resent_under_the_same_request_id(tmp_path: Path) -> None:
    provider = LedgerProvider(idempotent=True)
    provider.crash_at = (2, "after")
    client = importbridge.connect(provider)
    with pytest.raises(Crash):
        client.submit_many(records(8), checkpoint=tmp_path / "cp")
    provider.crash_at = None
    client.submit_many(records(8), checkpoint=tmp_path / "cp")
    assert len(provider.order) == 2
    assert provider.rows() == records(8)


def test_a_lost_answer_is_looked_up_and_resent_only_if_it_did_not_land(tmp_path: Path) -> None:
    class Flaky(LedgerProvider):
        """Loses the answer of call 2 after it landed, and of call 3 before it landed."""

        def submit(self, conn, records, options):  # type: ignore[no-untyped-def]
            lost_after, lost_before = self.calls + 1 == 2, self.calls + 1 == 3
            if lost_before:
                self.calls += 1
                raise SubmitOutcomeUnknown("reset before", request_id=options["request_id"])
            job = super().submit(conn, records, options)
            if lost_after:
                raise SubmitOutcomeUnknown("reset after", request_id=options["request_id"])
            return job

    provider = Flaky(findable=True)
    jobs = importbridge.connect(provider).submit_many(records(12), chunk_size=4, checkpoint=tmp_path / "cp")
    assert len(jobs) == 3
    assert provider.rows() == records(12)
    assert provider.calls == 4  # 3 batches + 1 resend of the one that did not land


def test_other_records_or_settings_are_refused(tmp_path: Path) -> None:
    client = importbridge.connect(LedgerProvider())
    client.submit_many(records(8), checkpoint=tmp_path / "cp")
    with pytest.raises(ConfigurationError, match="other rows"):
        client.submit_many([{"n": -1}, *records(7)], checkpoint=tmp_path / "cp")
    with pytest.raises(ConfigurationError, match="chunk_size"):
        client.submit_many(records(8), chunk_size=2, checkpoint=tmp_path / "cp")
    with pytest.raises(ConfigurationError, match="another run"):
        client.submit_many(records(8), checkpoint=tmp_path / "cp", mode="SKIP")


def test_a_torn_last_line_is_dropped(tmp_path: Path) -> None:
    provider = LedgerProvider()
    client = importbridge.connect(provider)
    path = tmp_path / "cp"
    client.submit_many(records(4), checkpoint=path)
    with path.open("ab") as handle:
        handle.write(b'{"kind": "intent", "chu')  # a kill in the middle of a write
    client.submit_many(records(8), checkpoint=path)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["kind"] for line in lines] == ["run", "intent", "job", "intent", "job"]
    assert provider.rows() == records(8)


def test_a_corrupt_middle_line_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "cp"
    client = importbridge.connect(LedgerProvider())
    client.submit_many(records(4), checkpoint=path)
    text = path.read_text().splitlines()
    path.write_text("\n".join([text[0], "garbage", *text[1:]]) + "\n")
    with pytest.raises(ConfigurationError, match="line 2"):
        client.submit_many(records(4), checkpoint=path)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_chunk_size_must_be_a_positive_int(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match="chunk_size"):
        importbridge.connect(LedgerProvider()).submit_many(records(3), chunk_size=bad)


def test_records_must_be_mappings() -> None:
    client = importbridge.connect(LedgerProvider())
    with pytest.raises(ConfigurationError, match="row 2"):
        client.submit_many([{"a": 1}, ["not", "a", "mapping"]])  # type: ignore[list-item]
    with pytest.raises(ConfigurationError, match="iterable of mappings"):
        client.submit({"a": 1})


# -- over HTTP: a refused batch is void, a doubtful one blocks the rerun ---------------------


def test_a_refused_batch_is_sent_afresh_on_rerun(client, server: ScriptedServer, tmp_path: Path) -> None:
    server.queue(Reply(200, {"id": "1", "status": "done"}), Reply(400, {"message": "bad row"}))
    with pytest.raises(ProviderError, match="bad row"):
        client.submit_many(records(6), checkpoint=tmp_path / "cp")
    server.queue(Reply(200, {"id": "2", "status": "done"}))
    jobs = client.submit_many(records(6), checkpoint=tmp_path / "cp")
    assert [job.id for job in jobs] == ["1", "2"]
    posted = [json.loads(seen.body) for seen in server.seen]
    assert [body["rows"] for body in posted] == [records(6)[:3], records(6)[3:], records(6)[3:]]
    assert posted[1]["request_id"] != posted[2]["request_id"]


def test_a_lost_answer_blocks_the_rerun_until_the_caller_decides(client, server, tmp_path: Path) -> None:
    server.queue(Reply(action="reset"))
    with pytest.raises(SubmitOutcomeUnknown):
        client.submit_many(records(3), checkpoint=tmp_path / "cp")
    with pytest.raises(SubmitOutcomeUnknown, match="on_unknown") as caught:
        client.submit_many(records(3), checkpoint=tmp_path / "cp")
    assert server.count() == 1
    first_id = json.loads(server.seen[0].body)["request_id"]
    assert caught.value.request_id == first_id
    server.queue(Reply(200, {"id": "9", "status": "done"}))
    jobs = client.submit_many(records(3), checkpoint=tmp_path / "cp", on_unknown="resubmit")
    assert [job.id for job in jobs] == ["9"]
    assert json.loads(server.seen[1].body)["request_id"] == first_id


def test_request_ids_follow_the_documented_derivation(tmp_path: Path) -> None:
    """docs/client.md "Request ids": a journal written today must resume under tomorrow's code."""
    namespace = uuid.UUID("6f1c9a52-3d0e-4b8a-9f65-2c7d1e0b4a93")

    def sha(value: Any) -> str:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()

    provider = LedgerProvider(idempotent=True)
    client = importbridge.connect(provider)
    path = tmp_path / "cp"
    client.submit_many(records(6), checkpoint=path, mode="x")
    client.submit_many(records(6), run_id="nightly", mode="x")
    for key in (str(path.resolve()), "nightly"):
        run = str(uuid.uuid5(namespace, json.dumps(["run", key, "ledger", 4, sha({"mode": "x"})])))
        expected = [
            str(uuid.uuid5(namespace, json.dumps(["batch", run, index, sha(batch), 0])))
            for index, batch in enumerate([records(6)[:4], records(6)[4:]])
        ]
        assert [landed for landed in provider.order if landed in expected] == expected
    assert len(provider.order) == 4
