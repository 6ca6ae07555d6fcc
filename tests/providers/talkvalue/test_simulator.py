"""The TalkValue simulator: analyze, import (UPDATE / SKIP), the unwrapped job record, the
failed-row sample and export, the list, Bearer auth and RFC 7807 problem details."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importbridge.sandbox import Sandbox

pytestmark = pytest.mark.importbridge_sandbox(frozen=True, seed=9, speed=10, start_delay=1.0)
JOB_KEYS = {"id", "status", "mode", "fileName", "totalRows", "processedRows", "newCount",
            "updatedCount", "duplicatedCount", "skipCount", "failedCount", "failedRows",
            "processStartedAt", "completedAt"}
PROBLEM_KEYS = {"type", "title", "status", "detail", "errorCode", "messageKey"}


class TalkValue:
    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        settings = sb.settings("talkvalue")
        self.base = settings["base_url"]
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {settings['token']}"

    def analyze(self, text: str, name: str = "registrants.csv") -> dict[str, Any]:
        response = self.http.post(f"{self.base}/path/import/analyze",
                                  files={"file": (name, text, "text/csv")})
        assert response.status_code == 200, response.text
        return dict(response.json())

    def start(self, text: str, mode: str = "UPDATE") -> int:
        analysis = self.analyze(text)
        mappings = [{"csvIndex": m["csvIndex"], "targetField": m["suggestedField"]}
                    for m in analysis["columnMappings"] if m["suggestedField"]]
        response = self.http.post(f"{self.base}/path/import", json={
            "fileKey": analysis["fileKey"], "sourceId": 7, "columnMappings": mappings, "mode": mode})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "PENDING"
        return int(response.json()["importJobId"])

    def job(self, job_id: int) -> dict[str, Any]:
        response = self.http.get(f"{self.base}/path/import/{job_id}")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def finish(self, job_id: int) -> dict[str, Any]:
        self.sb.clock.advance(3600)
        return self.job(job_id)


@pytest.fixture
def tv(importbridge_sandbox: Sandbox) -> TalkValue:
    return TalkValue(importbridge_sandbox)


def people(*emails: str) -> str:
    return "Email,First Name,Company\n" + "".join(f"{e},P{n},Acme\n" for n, e in enumerate(emails))


def test_analyze_describes_the_file(tv: TalkValue) -> None:
    analysis = tv.analyze("E-mail,Surname,Shoe size\na@x.com,Lee,42\nb@x.com,Kim,39\n")
    assert set(analysis) == {
        "fileKey", "totalRows", "headers", "preview", "columnMappings", "missingRequired"}
    assert analysis["totalRows"] == 2
    assert analysis["headers"] == ["E-mail", "Surname", "Shoe size"]
    assert analysis["preview"][0] == ["a@x.com", "Lee", "42"]
    assert analysis["columnMappings"] == [
        {"csvIndex": 0, "csvHeader": "E-mail", "suggestedField": "EMAIL"},
        {"csvIndex": 1, "csvHeader": "Surname", "suggestedField": "LAST_NAME"},
        {"csvIndex": 2, "csvHeader": "Shoe size", "suggestedField": None},
    ]
    assert analysis["missingRequired"] == []
    assert tv.analyze("Phone\n123\n")["missingRequired"] == ["EMAIL"]


def test_a_job_moves_pending_running_terminal(tv: TalkValue) -> None:
    job_id = tv.start(people(*(f"p{n}@x.com" for n in range(30))))
    pending = tv.job(job_id)
    assert set(pending) == JOB_KEYS
    assert (pending["status"], pending["processedRows"], pending["processStartedAt"]) == ("PENDING", 0, None)
    tv.sb.clock.advance(2.0)
    running = tv.job(job_id)
    assert (running["status"], running["processedRows"], running["newCount"]) == ("RUNNING", 10, 10)
    done = tv.finish(job_id)
    assert (done["status"], done["totalRows"], done["processedRows"]) == ("COMPLETED", 30, 30)
    assert done["newCount"] == 30
    assert done["completedAt"] is not None
    assert done["fileName"] == "registrants.csv"


def test_row_outcomes_are_true_counts(tv: TalkValue) -> None:
    tv.finish(tv.start(people("old@x.com", "keep@x.com")))
    job = tv.finish(tv.start(people("new@x.com", "OLD@x.com", "alice@@acme.com", "", "new@x.com")))
    assert (job["status"], job["newCount"], job["updatedCount"], job["duplicatedCount"],
            job["skipCount"], job["failedCount"]) == ("PARTIAL_SUCCESS", 1, 1, 1, 0, 2)
    assert job["failedRows"] == [
        {"rowNum": 3, "errorCode": "INVALID_EMAIL", "errorMessage": "Email could not be parsed",
         "rawValue": "alice@@acme.com"},
        {"rowNum": 4, "errorCode": "MISSING_EMAIL", "errorMessage": "Email is required", "rawValue": ""},
    ]
    assert tv.sb.state()["talkvalue"]["records"] == 3


def test_skip_mode_counts_matches_without_touching_them(tv: TalkValue) -> None:
    tv.finish(tv.start(people("a@x.com")))
    job = tv.finish(tv.start(people("a@x.com", "b@x.com"), mode="SKIP"))
    assert (job["skipCount"], job["newCount"], job["updatedCount"], job["status"]) == (1, 1, 0, "COMPLETED")


def test_every_row_failing_is_failed(tv: TalkValue) -> None:
    assert tv.finish(tv.start(people("x", "y")))["status"] == "FAILED"


def test_failed_rows_are_a_sample_and_the_export_has_them_all(tv: TalkValue) -> None:
    job = tv.finish(tv.start(people(*(f"bad{n}" for n in range(25)), "ok@x.com")))
    assert job["failedCount"] == 25
    assert len(job["failedRows"]) == 10
    export = tv.http.get(f"{tv.base}/path/import/{job['id']}/failed/export")
    assert export.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0] == ["rowNum", "errorCode", "errorMessage", "rawValue", "Email", "First Name", "Company"]
    assert len(rows) == 26
    assert rows[1][:4] == ["1", "INVALID_EMAIL", "Email could not be parsed", "bad0"]


@settings(max_examples=15, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(["a@x.com", "A@x.com", "b@y.org", "", "bad", "c@z.io"]), max_size=30))
def test_counts_always_add_up(tv: TalkValue, emails: list[str]) -> None:
    job = tv.finish(tv.start(people(*emails), mode="SKIP"))
    buckets = ("newCount", "updatedCount", "duplicatedCount", "skipCount", "failedCount")
    assert sum(job[b] for b in buckets) == job["totalRows"] == len(emails) == job["processedRows"]
    assert len(job["failedRows"]) == min(10, job["failedCount"])


def test_the_list_pages_newest_first(tv: TalkValue) -> None:
    ids = [tv.start(people(f"u{n}@x.com")) for n in range(3)]
    page = tv.http.get(f"{tv.base}/path/import", params={"pageNumber": 0, "pageSize": 2}).json()
    assert set(page) == {"content", "totalElements", "totalPages", "pageNumber", "pageSize"}
    assert [job["id"] for job in page["content"]] == ids[::-1][:2]
    assert (page["totalElements"], page["totalPages"], page["pageNumber"], page["pageSize"]) == (3, 2, 0, 2)
    last = tv.http.get(f"{tv.base}/path/import", params={"pageNumber": 1, "pageSize": 2}).json()
    assert [job["id"] for job in last["content"]] == [ids[0]]
    assert tv.http.get(f"{tv.base}/path/import", params={"pageSize": "-1"}).status_code == 400


def test_report_progress_false_hides_counts_until_terminal(tv: TalkValue) -> None:
    tv.sb.configure(report_progress=False)
    job_id = tv.start(people(*(f"p{n}@x.com" for n in range(30))))
    tv.sb.clock.advance(2.0)
    running = tv.job(job_id)
    assert (running["status"], running["processedRows"], running["newCount"]) == ("RUNNING", 0, 0)
    assert tv.finish(job_id)["newCount"] == 30


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"fileKey": "nope", "sourceId": 1, "columnMappings": [], "mode": "UPDATE"}, 404, "FILE_NOT_FOUND"),
    ({"sourceId": 1}, 404, "FILE_NOT_FOUND"),
])
def test_import_errors_are_problem_details(
    tv: TalkValue, body: dict[str, Any], status: int, code: str
) -> None:
    response = tv.http.post(f"{tv.base}/path/import", json=body)
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert set(problem) == PROBLEM_KEYS
    assert (problem["status"], problem["errorCode"]) == (status, code)


@pytest.mark.parametrize(("change", "fragment"), [
    ({"sourceId": "7"}, "sourceId"),
    ({"mode": "MERGE"}, "mode"),
    ({"columnMappings": [{"csvIndex": 9, "targetField": "EMAIL"}]}, "csvIndex"),
    ({"columnMappings": [{"csvIndex": 0, "targetField": "SHOE"}]}, "targetField"),
    ({"columnMappings": [{"csvIndex": 1, "targetField": "FIRST_NAME"}]}, "EMAIL"),
])
def test_invalid_imports_name_the_field(tv: TalkValue, change: dict[str, Any], fragment: str) -> None:
    analysis = tv.analyze(people("a@x.com"))
    body = {"fileKey": analysis["fileKey"], "sourceId": 7, "mode": "UPDATE",
            "columnMappings": [{"csvIndex": 0, "targetField": "EMAIL"}], **change}
    response = tv.http.post(f"{tv.base}/path/import", json=body)
    assert response.status_code == 400
    assert fragment in response.json()["detail"]


def test_bad_files_and_auth(tv: TalkValue) -> None:
    empty = tv.http.post(f"{tv.base}/path/import/analyze", files={"file": ("e.csv", "", "text/csv")})
    assert (empty.status_code, empty.json()["errorCode"]) == (400, "INVALID_FILE")
    binary = tv.http.post(f"{tv.base}/path/import/analyze",
                          files={"file": ("b.csv", b"\xff\xfe\x00", "text/csv")})
    assert binary.status_code == 400
    no_file = tv.http.post(f"{tv.base}/path/import/analyze", files={"other": ("a.csv", "x", "text/csv")})
    assert no_file.status_code == 400
    assert requests.get(f"{tv.base}/path/import/1").json()["errorCode"] == "UNAUTHORIZED"
    wrong = requests.get(f"{tv.base}/path/import/1", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    assert tv.http.get(f"{tv.base}/path/import/abc").status_code == 404
