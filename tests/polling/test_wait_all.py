"""wait_all over in-process fleets on a virtual clock: each job once, in finishing order,
rate limits kept, updates in the caller's thread, leftovers reported with tokens."""

from __future__ import annotations

import random
import threading

import pytest

from importbridge import ConfigurationError, ImportJob, JobState, PollPolicy, PollTimeout, Provider, wait_all
from importbridge.polling import make_token
from importbridge.tokens import decode

from .polling_fakes import FleetClient, VirtualClock, job


class Other(Provider):
    name = "other"
    rate_limit = None


def _policy(clock: VirtualClock) -> PollPolicy:
    return PollPolicy(clock=clock, sleep=clock.sleep, random=random.Random(3))


def _fleet(clock: VirtualClock, count: int, seed: int = 0) -> dict[str, float]:
    rng = random.Random(seed)
    return {f"j{n}": clock.now + rng.uniform(5, 600) for n in range(count)}


def test_every_job_is_yielded_once_when_it_finishes_and_the_rate_limit_holds():
    clock = VirtualClock()
    finishes = _fleet(clock, 200)
    client = FleetClient(clock, finishes)
    jobs = [job("running", job_id=job_id) for job_id in finishes]
    updates: list[str] = []
    caller = threading.get_ident()

    def on_update(snapshot):
        assert threading.get_ident() == caller
        updates.append(snapshot.id)

    seen = []
    for finished in wait_all(
        jobs, clients=[client], concurrency=8, on_update=on_update, policy=_policy(clock)
    ):
        assert finished.state is JobState.COMPLETE
        assert clock.now >= finishes[finished.id]
        seen.append(finished.id)
    assert sorted(seen) == sorted(finishes)
    assert set(updates) == set(finishes)
    times = sorted(at for at, _ in client.calls)
    limit = client.provider.rate_limit
    for index, start in enumerate(times):  # no one-second window over the provider's limit
        assert sum(1 for at in times[index : index + int(limit) + 2] if at < start + 1.0) <= limit
    requests_per_job = len(client.calls) / len(finishes)
    assert requests_per_job < 15


def test_jobs_of_several_providers_and_tokens_mix():
    clock = VirtualClock()
    fake = FleetClient(clock, {"a": clock.now + 30, "b": clock.now + 90})
    other = FleetClient(clock, {"x": clock.now + 60}, provider=Other())
    token = make_token(fake, job("running", job_id="b"))
    other_job = ImportJob(provider="other", id="x", state=JobState.RUNNING, provider_state="busy")
    items = [job("running", job_id="a"), token, token, job("complete", job_id="done"), other_job]
    order = [
        finished.id
        for finished in wait_all(items, clients={"fake": fake, "other": other}, policy=_policy(clock))
    ]
    assert order == ["done", "a", "x", "b"]  # the finished one at once, the rest as they finish


def test_unfinished_jobs_end_with_a_timeout_carrying_their_tokens():
    clock = VirtualClock()
    start = clock.now
    client = FleetClient(clock, {"quick": clock.now + 10, "slow1": clock.now + 1e6, "slow2": clock.now + 1e6})
    jobs = [job("running", job_id=job_id) for job_id in ("quick", "slow1", "slow2")]
    seen: list[str | None] = []
    stream = wait_all(jobs, clients=[client], timeout=120, policy=_policy(clock))
    with pytest.raises(PollTimeout) as caught:
        seen.extend(finished.id for finished in stream)
    assert seen == ["quick"]
    tokens = caught.value.tokens
    assert sorted(decode(token).job_id for token in tokens) == ["slow1", "slow2"]
    assert all(at <= start + 120 + 1e-6 for at, _ in client.calls)  # no request past the deadline


@pytest.mark.parametrize("concurrency", [0, -1, 1.5, True])
def test_concurrency_must_be_a_positive_integer(concurrency):
    with pytest.raises(ConfigurationError, match="concurrency"):
        wait_all([], concurrency=concurrency)


def test_a_string_that_is_not_a_token_is_refused():
    with pytest.raises(Exception, match="resume token"):
        list(wait_all(["12345"]))


def test_a_token_goes_to_the_client_of_its_team():
    clock = VirtualClock()
    team_a = FleetClient(clock, {"a1": clock.now + 20}, team="A")
    team_b = FleetClient(clock, {"b1": clock.now + 20}, team="B")
    tokens = [
        make_token(team_b, job("running", job_id="b1")),
        make_token(team_a, job("running", job_id="a1")),
    ]
    finished = list(wait_all(tokens, clients=[team_a, team_b], policy=_policy(clock)))
    assert sorted(job.id for job in finished) == ["a1", "b1"]
    assert {job_id for _, job_id in team_a.calls} == {"a1"}
    assert {job_id for _, job_id in team_b.calls} == {"b1"}


def test_clients_sharing_a_key_share_its_rate_limit():
    """Micro's limit is per API key: two teams' clients on one key get one bucket between them."""
    clock = VirtualClock()
    team_a = FleetClient(clock, _fleet(clock, 60, seed=1), team="A")
    team_b = FleetClient(
        clock, {f"b{n}": at for n, at in enumerate(_fleet(clock, 60, seed=2).values())}, team="B"
    )
    jobs = [job("running", job_id=job_id) for job_id in [*team_a.finishes, *team_b.finishes]]
    tokens = [make_token(team_a if j.id.startswith("j") else team_b, j) for j in jobs]
    finished = list(wait_all(tokens, clients=[team_a, team_b], concurrency=8, policy=_policy(clock)))
    assert len(finished) == 120
    times = sorted(at for at, _ in [*team_a.calls, *team_b.calls])
    limit = team_a.provider.rate_limit
    for index, start in enumerate(times):  # no one-second window over the key's limit
        assert sum(1 for at in times[index : index + int(limit) + 2] if at < start + 1.0) <= limit
