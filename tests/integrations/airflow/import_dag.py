"""The DAG of the end-to-end test (``dag.test()`` on SQLite, run by ``dag_runner.py``).

One import per sandbox provider that completes, a Micro import that ends partial (``on_partial``
"warn": the task succeeds) and one that fails, and retried tasks whose first try dies right after
its submit: before saving anything (Micro, TalkValue: found again by request id) or after saving
the token (Qobra: re-attached from ``task_state_store``). Two sensors wait on the first job by id.
"""

from __future__ import annotations

import datetime
import os
from datetime import timedelta
from typing import Any

from airflow.sdk import DAG

from importbridge.integrations.airflow.operators import ImportOperator
from importbridge.integrations.airflow.sensors import ImportSensor

PEOPLE = [{"email": f"p{i}@example.com", "first_name": f"P{i}"} for i in range(150)]
COMPANIES = [{"name": f"Acme {i}", "domain": f"acme{i}.example"} for i in range(150)]
DEALS = [{"id": f"d-{i}", "amount": str(i)} for i in range(150)]
BAD = [{"name": f"Bad {i}", "domain": "not a domain"} for i in range(150)]


class DiesAfterSubmit(ImportOperator):
    """An ImportOperator whose first try dies once its import is made (a killed worker)."""

    def __init__(self, *, after_token: bool = False, **kwargs: Any) -> None:
        super().__init__(retries=1, retry_delay=timedelta(seconds=0), **kwargs)
        self.after_token = after_token

    def _submit(self, client: Any, rid: str, *, sent_before: bool, store: Any) -> Any:
        job = super()._submit(client, rid, sent_before=sent_before, store=store)
        if self._first_try and not self.after_token:
            raise RuntimeError("killed after submitting")
        return job

    def defer(self, **kwargs: Any) -> Any:
        if self._first_try and self.after_token:
            raise RuntimeError("killed after saving the token")
        return super().defer(**kwargs)

    def execute(self, context: Any) -> Any:
        self._first_try = context["ti"].try_number == 1
        return super().execute(context)


with DAG("importbridge_e2e", schedule=None, start_date=datetime.datetime(2026, 1, 1)) as dag:
    complete = ImportOperator(task_id="micro_complete", conn_id="sb_micro", records=COMPANIES)
    job_id = "{{ ti.xcom_pull(task_ids='micro_complete')['id'] }}"
    complete >> ImportSensor(task_id="sensor_deferred", conn_id="sb_micro", job=job_id, deferrable=True)
    complete >> ImportSensor(task_id="sensor_rescheduled", conn_id="sb_micro", job=job_id, mode="reschedule",
                             poke_interval=1)
    ImportOperator(task_id="qobra_complete", conn_id="sb_qobra", records=DEALS, options={"table": "deals"})
    ImportOperator(task_id="talkvalue_complete", conn_id="sb_talkvalue", records=PEOPLE,
                   options={"source_id": 1})
    ImportOperator(task_id="micro_partial", conn_id="sb_micro", records=COMPANIES[:100] + BAD[:50],
                   on_partial="warn", rejected_rows=os.environ.get("IB_REJECTED_ROWS"))
    ImportOperator(task_id="micro_failed", conn_id="sb_micro", records=BAD)
    DiesAfterSubmit(task_id="micro_retried", conn_id="sb_micro", records=COMPANIES[:20])
    DiesAfterSubmit(task_id="talkvalue_retried", conn_id="sb_talkvalue", records=PEOPLE[:20],
                    options={"source_id": 1})
    DiesAfterSubmit(task_id="qobra_retried", conn_id="sb_qobra", records=DEALS[:20],
                    options={"table": "deals"}, after_token=True)
    ImportOperator(task_id="missing_connection", conn_id="sb_missing", records=COMPANIES[:1])
    ImportOperator(task_id="unknown_provider", conn_id="sb_nope", records=COMPANIES[:1])
    ImportOperator(task_id="past_deadline", conn_id="sb_micro", records=COMPANIES[:30], timeout=-1)
