"""The Qobra simulator: bulk ingestion, data_import snapshots over virtual time, parsing errors,
``all`` and ``debounce``, per-table schemas, auth and error shapes."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importbridge.sandbox import Sandbox

pytestmark = pytest.mark.importbridge_sandbox(frozen=True, seed=5, speed=10, start_delay=1.0)
IMPORT_KEYS = {"id", "created_at", "launched_at", "finished_at", "status", "progress", "error",
               "data_tables_details"}
TABLE_KEYS = {"type", "status", "data_table_key", "progress", "number_of_records", "error"}


class Qobra:
    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        settings = sb.settings("qobra")
        self.base = settings["base_url"]
        self.http = requests.Session()
        self.http.headers["X-API-Key"] = settings["api_key"]

    def bulk(self, table: str, records: list[dict[str, Any]], **params: str) -> requests.Response:
        return self.http.post(f"{self.base}/tables/{table}/records/bulk", json=records, params=params)

    def submit(self, table: str, records: list[dict[str, Any]], **params: str) -> str:
        response = self.bulk(table, records, **params)
        assert response.status_code == 200, response.text
        assert set(response.json()) == {"import_id"}
        return str(response.json()["import_id"])

    def get(self, import_id: str) -> dict[str, Any]:
        response = self.http.get(f"{self.base}/imports/{import_id}")
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"data_import"}
        return dict(body["data_import"])


@pytest.fixture
def qobra(importbridge_sandbox: Sandbox) -> Qobra:
    return Qobra(importbridge_sandbox)


def companies(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"id": str(n), "name": f"Company {n}"} for n in range(start, start + count)]


def test_an_import_goes_scheduled_started_finished(qobra: Qobra) -> None:
    import_id = qobra.submit("companies", companies(20))
    scheduled = qobra.get(import_id)
    assert set(scheduled) == IMPORT_KEYS
    assert len(import_id) == 24
    assert int(import_id, 16) >= 0
    assert (scheduled["status"], scheduled["progress"], scheduled["launched_at"]) == ("scheduled", 0, None)
    assert set(scheduled["data_tables_details"][0]) == TABLE_KEYS
    qobra.sb.clock.advance(2.0)
    started = qobra.get(import_id)
    assert (started["status"], started["progress"]) == ("started", 50)
    assert started["data_tables_details"][0]["status"] == "started"
    qobra.sb.clock.advance(1.0)
    finished = qobra.get(import_id)
    assert (finished["status"], finished["progress"], finished["error"]) == ("finished", 100, False)
    assert finished["finished_at"] is not None
    assert finished["data_tables_details"] == [{"type": "api", "status": "finished",
                                                "data_table_key": "companies", "progress": 100,
                                                "number_of_records": 20, "error": None}]
    assert qobra.sb.state()["qobra"]["records"] == 20


def test_a_numeric_column_that_does_not_parse_fails_the_table(qobra: Qobra) -> None:
    rows = [{"id": "1", "name": "Great", "amount": "AAAAA"}, {"id": "2", "amount": "12.5"},
            {"id": "3", "amount": True}, {"id": "4", "amount": None}]
    import_id = qobra.submit("opportunities", rows)
    qobra.sb.clock.advance(60)
    table = qobra.get(import_id)["data_tables_details"][0]
    assert table["number_of_records"] is None
    assert table["error"]["title"] == "ParsingError"
    assert table["error"]["description"] == "Can't parse 'AAAAA' as float for user attribute amount"
    details = table["error"]["parsing_error_details"]
    assert [line["line_number"] for line in details] == [1, 3]
    assert details[0]["row"] == rows[0]
    assert details[0]["details"] == "ValueError: could not convert string to float: 'AAAAA'"
    assert qobra.get(import_id)["error"] is True
    assert qobra.sb.state()["qobra"]["records"] == 0


def test_all_true_empties_the_table_first_and_ids_upsert(qobra: Qobra) -> None:
    qobra.submit("companies", companies(5))
    qobra.submit("companies", companies(3, start=3))
    assert qobra.sb.state()["qobra"]["records"] == 6
    qobra.submit("companies", companies(2), all="true")
    assert qobra.sb.state()["qobra"]["records_by_table"] == {"companies": 2}


def test_debounced_imports_stack_into_one(qobra: Qobra) -> None:
    first = qobra.submit("companies", companies(10), debounce="30")
    second = qobra.submit("opportunities", [{"id": "9", "amount": "x"}], debounce="30")
    assert first == second
    qobra.sb.clock.advance(29)
    assert qobra.get(first)["status"] == "scheduled"
    qobra.sb.clock.advance(60)
    stacked = qobra.get(first)
    assert [t["data_table_key"] for t in stacked["data_tables_details"]] == ["companies", "opportunities"]
    assert [t["number_of_records"] for t in stacked["data_tables_details"]] == [10, None]
    assert stacked["error"] is True
    assert qobra.submit("companies", companies(1), debounce="30") != first  # launched: a new import
    assert qobra.sb.state()["qobra"]["imports"] == 2


def test_define_table_declares_numeric_columns(qobra: Qobra) -> None:
    simulator: Any = qobra.sb.simulator("qobra")
    assert qobra.bulk("invoices", []).status_code == 404
    simulator.define_table("invoices", numeric=["total", "tax"])
    import_id = qobra.submit("invoices", [{"total": "10", "tax": "n/a"}])
    qobra.sb.clock.advance(60)
    error = qobra.get(import_id)["data_tables_details"][0]["error"]
    assert "user attribute tax" in error["description"]


def test_report_progress_false_shows_zero_until_finished(qobra: Qobra) -> None:
    qobra.sb.configure(report_progress=False)
    import_id = qobra.submit("companies", companies(20))
    qobra.sb.clock.advance(2.0)
    running = qobra.get(import_id)
    assert (running["status"], running["progress"]) == ("started", 0)
    assert running["data_tables_details"][0]["progress"] == 0
    qobra.sb.clock.advance(10)
    assert qobra.get(import_id)["progress"] == 100


@pytest.mark.parametrize(
    ("params", "fragment"), [({"all": "maybe"}, "'all'"), ({"debounce": "-1"}, "debounce")]
)
def test_bad_query_parameters_are_422(qobra: Qobra, params: dict[str, str], fragment: str) -> None:
    response = qobra.bulk("companies", [], **params)
    assert response.status_code == 422
    assert fragment in response.json()["detail"]


def test_auth_and_unknown_imports(qobra: Qobra) -> None:
    assert requests.get(f"{qobra.base}/imports/x").status_code == 401
    assert requests.get(f"{qobra.base}/imports/x", headers={"X-API-Key": "nope"}).status_code == 403
    missing = qobra.http.get(f"{qobra.base}/imports/647a13fe875af4b4eb7133c2")
    assert missing.status_code == 404
    assert set(missing.json()) == {"detail"}


amounts = st.one_of(st.none(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                    st.sampled_from(["12", " 3.5 ", "1e3", "AAAAA", "", "12,5", True]))


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(amounts, max_size=15))
def test_a_table_lands_whole_or_fails_naming_every_bad_line(qobra: Qobra, values: list[Any]) -> None:
    def parses(value: Any) -> bool:
        if value is None or (isinstance(value, (int, float)) and not isinstance(value, bool)):
            return True
        try:
            float(value)
        except (TypeError, ValueError):
            return False
        return isinstance(value, str)

    before = qobra.sb.state()["qobra"]["records_by_table"].get("deals", 0)
    records = [{"amount": value} for value in values]
    import_id = qobra.submit("deals", records)
    qobra.sb.clock.advance(3600)
    table = qobra.get(import_id)["data_tables_details"][0]
    bad = [line for line, value in enumerate(values, start=1) if not parses(value)]
    after = qobra.sb.state()["qobra"]["records_by_table"].get("deals", 0)
    if bad:
        assert [d["line_number"] for d in table["error"]["parsing_error_details"]] == bad
        assert table["number_of_records"] is None
        assert after == before
    else:
        assert table["error"] is None
        assert table["number_of_records"] == len(values)
        assert after == before + len(values)
