"""What Acme's payloads mean, field by field (the README's mapping table)."""

from datetime import datetime, timezone

import pytest
from importbridge_acme import AcmeProvider
from importbridge_acme.normalize import SAMPLES

import importbridge
from importbridge import JobState, PayloadError, RowOutcome

ACME = AcmeProvider()


def test_partial_load_maps_every_field() -> None:
    job = importbridge.normalize(ACME, SAMPLES[3])
    assert (job.provider, job.id, job.state, job.provider_state) == (
        "acme",
        "ld_01HX4",
        JobState.PARTIAL,
        "DONE_WITH_ERRORS",
    )
    assert (job.total, job.processed, job.succeeded, job.failed) == (3, 3, 2, 1)
    assert job.progress == 1.0
    assert job.created_at == datetime(2024, 5, 1, 8, 0, tzinfo=timezone.utc)
    assert job.updated_at == datetime(2024, 5, 1, 8, 0, 9, tzinfo=timezone.utc)  # from unix seconds
    assert job.file_name == "contacts.csv"
    [row] = job.rows
    assert (row.row, row.outcome, row.data) == (2, RowOutcome.FAILED, {"email": "nope"})
    assert (row.error.code, row.error.message) == ("invalid_email", "bad email")
    assert job.rows_complete


def test_counts_decide_over_the_phase() -> None:
    payload = {"load": {"id": "x", "phase": "DONE", "rows": {"accepted": 0, "rejected": 4}}}
    job = importbridge.normalize(ACME, payload)
    assert (job.state, job.provider_state) == (JobState.FAILED, "DONE")


def test_aborted_load_carries_its_error() -> None:
    job = importbridge.normalize(ACME, SAMPLES[4])
    assert job.state is JobState.FAILED
    assert job.error is not None
    assert job.error.code == "quota_exceeded"


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"load": {"id": "x"}}, "load.phase"),
        ({"load": {"id": "x", "phase": "DONE", "rows": {"total": True}}}, "load.rows.total"),
        ({"load": {"id": "x", "phase": "DONE", "percent": 101}}, "load.percent"),
        ({"load": {"id": "x", "phase": "DONE", "rejections": [{"line": 0}]}}, "load.rejections[0].line"),
        ({"load": {"id": "x", "phase": "DONE", "updated": "soon"}}, "load.updated"),
        ({"load": {"id": "x", "phase": "DONE", "updated": 10**20}}, "load.updated"),
    ],
)
def test_bad_payloads_name_the_field(payload: object, path: str) -> None:
    with pytest.raises(PayloadError) as info:
        importbridge.normalize(ACME, payload)
    assert (info.value.provider, info.value.path) == ("acme", path)
