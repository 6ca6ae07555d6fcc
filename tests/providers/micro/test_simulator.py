"""The Micro simulator: documented endpoints, row rules, dedupe, idempotency, expiry, rate
limit, and the official SDK (``micro_so``) pointed at it."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from importbridge_micro.sim_rules import row_error

from importbridge.sandbox import Sandbox

pytestmark = pytest.mark.importbridge_sandbox(frozen=True, seed=11)
JOB_KEYS = {"job_id", "status", "total", "processed", "succeeded", "failed", "created_at", "updated_at"}


class Micro:
    """A thin raw-HTTP client for the simulator, to check exact JSON shapes."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        settings = sb.settings("micro")
        self.base = f"{settings['base_url']}/v2/prism/{settings['team_id']}"
        self.headers = {"x-api-key": settings["api_key"]}
        self.http = requests.Session()

    def submit(
        self,
        objects: list[dict[str, Any]],
        options: dict[str, Any] | None = None,
        object_type: str = "organization",
        **headers: str,
    ) -> requests.Response:
        body: dict[str, Any] = {"objects": objects}
        if options is not None:
            body["options"] = options
        return self.http.post(
            f"{self.base}/{object_type}/import", json=body, headers={**self.headers, **headers}
        )

    def get(self, job_id: str) -> requests.Response:
        return self.http.get(f"{self.base}/imports/{job_id}", headers=self.headers)


@pytest.fixture
def micro(importbridge_sandbox: Sandbox) -> Micro:
    return Micro(importbridge_sandbox)


def orgs(count: int, prefix: str = "org") -> list[dict[str, Any]]:
    return [{"default": {"name": f"{prefix}{n}", "domain": f"{prefix}{n}.example.com"}} for n in range(count)]


def test_a_small_batch_is_answered_inline(micro: Micro) -> None:
    response = micro.submit(orgs(3))
    assert response.status_code == 200
    job = response.json()
    assert JOB_KEYS | {"results"} == set(job)
    assert job["job_id"] is None
    assert (job["status"], job["total"], job["processed"], job["succeeded"], job["failed"]) == (
        "complete",
        3,
        3,
        3,
        0,
    )
    assert all(row["created"] and not row["existing"] and row["id"] for row in job["results"])


@pytest.mark.parametrize(
    "object_type", ["contact", "organization", "identity", "deal", "action", "document", "engagement"]
)
def test_every_documented_object_type_imports(micro: Micro, object_type: str) -> None:
    assert micro.submit(orgs(1), object_type=object_type).json()["succeeded"] == 1


@pytest.mark.parametrize(
    ("properties", "code"),
    [
        ({}, "required"),
        ({"name": "  "}, "required"),
        ({"name": "A", "email": "not-an-email"}, "invalid_email"),
        ({"name": "A", "email": "a@b"}, "invalid_email"),
        ({"name": "A", "domain": "https://acme.com"}, "invalid_domain"),
        ({"name": "A", "domain": "acme"}, "invalid_domain"),
    ],
)
def test_invalid_rows_fail_with_a_code(micro: Micro, properties: dict[str, Any], code: str) -> None:
    job = micro.submit([{"default": properties}, *orgs(1)]).json()
    assert job["results"][0] == {
        "id": None,
        "created": False,
        "existing": False,
        "error": {"code": code, "message": job["results"][0]["error"]["message"]},
    }
    assert (job["succeeded"], job["failed"]) == (1, 1)


def test_dedupe_by_matches_stored_records(micro: Micro) -> None:
    first = micro.submit(orgs(2), {"dedupe_by": "domain"}).json()
    again = micro.submit([*orgs(2), *orgs(1, prefix="new")], {"dedupe_by": "domain"}).json()
    assert [r["existing"] for r in again["results"]] == [True, True, False]
    assert [r["id"] for r in again["results"][:2]] == [r["id"] for r in first["results"]]
    assert micro.sb.state()["micro"]["records"] == 3


def test_dedupe_case_insensitive_only_when_asked(micro: Micro) -> None:
    micro.submit([{"default": {"name": "A", "domain": "acme.com"}}], {"dedupe_by": "domain"})
    upper = [{"default": {"name": "A", "domain": "ACME.com"}}]
    assert micro.submit(upper, {"dedupe_by": "domain"}).json()["results"][0]["created"] is True
    folded = micro.submit(upper, {"dedupe_by": "domain", "caseInsensitive": True}).json()
    assert folded["results"][0]["existing"] is True


def test_rows_without_dedupe_always_create(micro: Micro) -> None:
    micro.submit(orgs(2))
    micro.submit(orgs(2))
    assert micro.sb.state()["micro"]["records"] == 4


def test_a_large_batch_runs_async_and_progresses_with_the_clock(micro: Micro) -> None:
    sb = micro.sb
    sb.configure(speed=100, start_delay=1.0)
    response = micro.submit([*orgs(150), {"default": {}}])
    assert response.status_code == 202
    job = response.json()
    assert job["status"] == "processing"
    assert response.headers["Location"] == f"{micro.base}/imports/{job['job_id']}"
    assert "results" not in job
    assert "expires_at" in job
    assert micro.get(job["job_id"]).json()["processed"] == 0
    sb.clock.advance(1.5)
    running = micro.get(job["job_id"]).json()
    assert (running["status"], running["processed"], running["failed"]) == ("processing", 50, 0)
    sb.clock.advance(1.0)
    assert micro.get(job["job_id"]).json()["processed"] == 150
    sb.clock.advance(0.01)
    done = micro.get(job["job_id"]).json()
    assert (done["status"], done["processed"], done["succeeded"], done["failed"]) == ("complete", 151, 150, 1)
    assert len(done["results"]) == 151
    assert done["results"][150]["error"]["code"] == "required"


def test_report_progress_false_hides_counts_while_processing(micro: Micro) -> None:
    micro.sb.configure(report_progress=False)
    job = micro.submit(orgs(101)).json()
    micro.sb.clock.advance(0.3)
    running = micro.get(job["job_id"]).json()
    assert running["status"] == "processing"
    assert not {"processed", "succeeded", "failed"} & set(running)
    micro.sb.clock.advance(10)
    assert micro.get(job["job_id"]).json()["succeeded"] == 101


def test_sync_threshold_is_configurable(micro: Micro) -> None:
    micro.sb.configure(sync_threshold=2)
    assert micro.submit(orgs(2)).status_code == 200
    assert micro.submit(orgs(3)).status_code == 202


def test_jobs_expire_after_seven_days_like_unknown_ids(micro: Micro) -> None:
    job_id = micro.submit(orgs(101)).json()["job_id"]
    micro.sb.clock.advance(7 * 24 * 3600 - 1)
    assert micro.get(job_id).status_code == 200
    micro.sb.clock.advance(1)
    expired = micro.get(job_id)
    assert expired.status_code == 404
    assert expired.json() == micro.get("00000000-0000-4000-8000-000000000000").json()


def test_idempotency_replays_for_24_hours(micro: Micro) -> None:
    first = micro.submit(orgs(2), **{"Idempotency-Key": "k1"})
    replay = micro.submit(orgs(2), **{"Idempotency-Key": "k1"})
    assert replay.headers["idempotent-replay"] == "true"
    assert "idempotent-replay" not in first.headers
    assert replay.json() == first.json()
    state = micro.sb.state()["micro"]
    assert (state["imports"], state["records"]) == (1, 2)
    assert state["idempotency_keys"] == {"k1": {"requests": 2, "replays": 1}}
    micro.sb.clock.advance(24 * 3600)
    fresh = micro.submit(orgs(2), **{"Idempotency-Key": "k1"})
    assert "idempotent-replay" not in fresh.headers
    assert micro.sb.state()["micro"]["imports"] == 2


def test_idempotency_key_reused_with_another_body_is_409(micro: Micro) -> None:
    micro.submit(orgs(2), **{"Idempotency-Key": "k2"})
    conflict = micro.submit(orgs(3), **{"Idempotency-Key": "k2"})
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "idempotency_key_mismatch"
    assert micro.submit(orgs(1), **{"Idempotency-Key": "x" * 256}).status_code == 400


def test_idempotency_key_reused_for_another_object_type_is_409(micro: Micro) -> None:
    """The key names one request (method, path and body), not only a body: the same objects
    sent to another object type under the same key are a mismatch, and nothing is imported."""
    micro.submit(orgs(2), **{"Idempotency-Key": "k3"})
    conflict = micro.submit(orgs(2), object_type="contact", **{"Idempotency-Key": "k3"})
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "idempotency_key_mismatch"
    state = micro.sb.state()["micro"]
    assert (state["imports"], state["records_by_type"]) == (1, {"organization": 2})


def test_an_async_replay_returns_the_first_202_and_location(micro: Micro) -> None:
    first = micro.submit(orgs(120), **{"Idempotency-Key": "big"})
    micro.sb.clock.advance(60)
    replay = micro.submit(orgs(120), **{"Idempotency-Key": "big"})
    assert replay.status_code == 202
    assert replay.headers["Location"] == first.headers["Location"]
    assert micro.sb.state()["micro"]["async_jobs"] == 1


def test_auth_and_team_errors(micro: Micro) -> None:
    url = f"{micro.base}/imports/x"
    assert requests.get(url).status_code == 401
    assert requests.get(url, headers={"x-api-key": "wrong"}).status_code == 403
    other_team = url.replace(micro.sb.settings("micro")["team_id"], "00000000-0000-4000-8000-000000000000")
    denied = requests.get(other_team, headers=micro.headers)
    assert denied.status_code == 403
    assert set(denied.json()) == {"message"}


def test_the_rate_limit_answers_429_with_retry_after(micro: Micro) -> None:
    statuses = [micro.get("x").status_code for _ in range(12)]
    assert statuses == [404] * 10 + [429] * 2
    limited = micro.get("x")
    assert limited.headers["Retry-After"] == "1"
    assert set(limited.json()) == {"message"}
    micro.sb.clock.advance(1)
    assert micro.get("x").status_code == 404
    micro.sb.configure(rate_limit=None)
    assert {micro.get("x").status_code for _ in range(30)} == {404}


# -- the official SDK -------------------------------------------------------------------------------

micro_so = pytest.importorskip("micro_so")


def sdk(sb: Sandbox, **overrides: Any) -> Any:
    settings = sb.settings("micro")
    options = {
        "api_key": settings["api_key"],
        "base_url": settings["base_url"],
        "team_id": settings["team_id"],
        "max_retries": 0,
        **overrides,
    }
    return micro_so.Micro(**options)


def test_the_sdk_bulk_creates_sync_and_async_and_polls(importbridge_sandbox: Sandbox) -> None:
    client = sdk(importbridge_sandbox)
    sync = client.prism.objects.organizations.bulk_create(objects=orgs(2), options={"dedupe_by": "domain"})
    assert (sync.job_id, sync.status, sync.succeeded) == (None, "complete", 2)
    assert sync.results is not None
    assert sync.results[0].created
    started = client.prism.objects.organizations.bulk_create(objects=orgs(150))
    assert started.status == "processing"
    assert started.job_id
    importbridge_sandbox.clock.advance(5)
    done = client.prism.imports.get(job_id=started.job_id)
    assert (done.status, done.total, done.succeeded) == ("complete", 150, 150)
    assert done.results is not None
    assert len(done.results) == 150


def test_the_async_sdk_bulk_creates_and_polls(importbridge_sandbox: Sandbox) -> None:
    """The SDK's asyncio client (``AsyncMicro``) against the sandbox, sync and async imports."""
    import asyncio

    sb = importbridge_sandbox
    settings = sb.settings("micro")

    async def scenario() -> tuple[Any, Any, Any]:
        async with micro_so.AsyncMicro(api_key=settings["api_key"], base_url=settings["base_url"],
                                       team_id=settings["team_id"], max_retries=0) as client:
            organizations = client.prism.objects.organizations
            sync = await organizations.bulk_create(objects=orgs(3, "async"))
            started = await organizations.bulk_create(objects=orgs(120, "big"))
            sb.clock.advance(5)
            done = await client.prism.imports.get(job_id=started.job_id)
            return sync, started, done

    sync, started, done = asyncio.run(scenario())
    assert (sync.job_id, sync.status, sync.succeeded) == (None, "complete", 3)
    assert (started.status, started.total) == ("processing", 120)
    assert (done.job_id, done.status, done.succeeded) == (started.job_id, "complete", 120)
    assert done.results is not None
    assert len(done.results) == 120
    assert sb.state()["micro"]["records"] == 123


def test_the_sdk_error_classes_map(importbridge_sandbox: Sandbox) -> None:
    sb = importbridge_sandbox
    with pytest.raises(micro_so.AuthenticationError):
        sdk(sb, api_key="").prism.imports.get(job_id="x")
    with pytest.raises(micro_so.PermissionDeniedError):
        sdk(sb, api_key="wrong").prism.imports.get(job_id="x")
    client = sdk(sb)
    with pytest.raises(micro_so.NotFoundError):
        client.prism.imports.get(job_id="00000000-0000-4000-8000-000000000000")
    organizations = client.prism.objects.organizations
    organizations.bulk_create(objects=orgs(1), idempotency_key="same")
    with pytest.raises(micro_so.ConflictError):
        organizations.bulk_create(objects=orgs(2), idempotency_key="same")
    sb.configure(rate_limit=1)
    sb.clock.advance(1)
    missing = "00000000-0000-4000-8000-000000000001"
    with pytest.raises(micro_so.NotFoundError):
        client.prism.imports.get(job_id=missing)
    with pytest.raises(micro_so.RateLimitError):
        client.prism.imports.get(job_id=missing)


def test_the_sdk_without_an_idempotency_key_imports_twice_on_a_lost_response(
    importbridge_sandbox: Sandbox,
) -> None:
    """The README's warning, reproduced: the SDK retries a POST whose response was lost."""
    sb = importbridge_sandbox
    sb.faults.script(kind="reset_after", method="POST")
    client = sdk(sb, max_retries=1)
    client.prism.objects.organizations.bulk_create(objects=orgs(2))
    assert sb.state()["micro"]["imports"] == 2
    assert sb.state()["micro"]["records"] == 4


# -- true counts, whatever the rows ----------------------------------------------------------------

row_values = st.fixed_dictionaries({}, optional={
    "name": st.sampled_from(["Acme", "", "  ", None, "Beta"]),
    "email": st.sampled_from(["a@acme.com", "A@ACME.com", "nope", "x@y", None]),
    "domain": st.sampled_from(["acme.com", "ACME.COM", "http://acme.com", "beta.io", None]),
})


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row_values, max_size=20), slug=st.sampled_from([None, "domain", "email"]),
       folded=st.booleans())
def test_counts_follow_the_rules(micro: Micro, rows: list[dict[str, Any]], slug: str | None,
                                 folded: bool) -> None:
    micro.sb.configure(rate_limit=None)
    before = micro.sb.state()["micro"]["records"]
    options = {"dedupe_by": slug, "caseInsensitive": folded} if slug else None
    job = micro.submit([{"default": row} for row in rows], options).json()
    results = job["results"]
    assert job["total"] == len(rows) == job["processed"] == job["succeeded"] + job["failed"]
    for row, result in zip(rows, results, strict=True):
        broken = row_error(row)
        assert (result.get("error") or {}).get("code") == (broken or {}).get("code")
        assert result["created"] + result["existing"] == (broken is None)
    created = sum(result["created"] for result in results)
    assert micro.sb.state()["micro"]["records"] == before + created
    if slug is None:
        assert created == job["succeeded"]
