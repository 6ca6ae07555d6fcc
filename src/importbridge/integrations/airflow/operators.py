"""``ImportOperator``: submit one import, then wait for it (deferred to the triggerer by default).

The submit carries a request id derived from the task instance (dag, task, run, map index), the
same in every try. A retry, a worker killed after submitting, or a cleared task re-attaches to
the import already made instead of submitting again: the resume token saved in Airflow's
``task_state_store`` (3.3+) is polled; else a provider that deduplicates by request id
(``Capability.IDEMPOTENT_SUBMIT``) answers the resend with the same import; else a provider that
can look a submit up (``find_submit``) finds it. A provider that can do neither, whose earlier try
sent and left no token, fails with ``SubmitOutcomeUnknown`` rather than importing twice. A try
that re-attaches from a saved token keeps the first try's deadline (the token carries it).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseOperator

from importbridge import Capability, ImportClient, ImportJob, to_dict
from importbridge.errors import ConfigurationError, SubmitOutcomeUnknown
from importbridge.polling import make_token
from importbridge.tokens import decode

from .hooks import ImportBridgeHook
from .outcome import OnPartial, check_on_partial, finish
from .triggers import ImportTrigger

#: fixed namespace of the request ids of Airflow task instances
NAMESPACE = uuid.UUID("3a4f0c52-8d51-4d7e-9a8e-5b0e6c1f7d20")
#: where a try keeps what the next try needs (task_state_store keys)
SENT_KEY, TOKEN_KEY = "importbridge_request_id", "importbridge_token"


def request_id(dag_id: str, task_id: str, run_id: str, map_index: int) -> str:
    """The submit's request id: the same for every try of one task instance, another for any other."""
    return str(uuid.uuid5(NAMESPACE, json.dumps([dag_id, task_id, run_id, map_index])))


class ImportOperator(BaseOperator):
    """Import ``records`` through the connection ``conn_id`` and wait; XCom: the job's ``to_dict``.

    Complete succeeds, failed fails, partial does what ``on_partial`` says ("fail", the default;
    "warn"; "succeed"), the first rejected rows named in the log. ``timeout`` (seconds) bounds
    the wait: an absolute deadline set at submit, carried by the trigger and the token.
    ``deferrable=False`` waits in the worker instead. ``rejected_rows`` (a path or an object-store
    URI, templated) receives every rejected row of a partial or failed import as JSON lines.
    """

    template_fields: Sequence[str] = ("records", "options", "rejected_rows")

    def __init__(
        self,
        *,
        conn_id: str,
        records: Sequence[Mapping[str, Any]],
        options: Mapping[str, Any] | None = None,
        timeout: float = 3600.0,
        deferrable: bool = True,
        on_partial: OnPartial = "fail",
        rejected_rows: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.records = records
        self.rejected_rows = rejected_rows
        self.options = dict(options or {})
        self.wait_timeout = float(timeout)
        self.deferrable = deferrable
        self.on_partial = check_on_partial(on_partial)

    def execute(self, context: Any) -> Any:
        if not self.wait_timeout > 0:
            raise ConfigurationError(
                f"timeout must be positive seconds (the wait's deadline), got {self.wait_timeout}; "
                "nothing was submitted"
            )
        ti = context["ti"]
        rid = request_id(ti.dag_id, ti.task_id, ti.run_id, getattr(ti, "map_index", -1))
        store = context.get("task_state_store")
        hook = ImportBridgeHook(self.conn_id)
        deadline = time.time() + self.wait_timeout
        with hook.get_conn() as client:
            saved = store.get(TOKEN_KEY) if store is not None else None
            if saved:
                token = str(saved)
                deadline = decode(token, key=client.token_key).deadline or deadline  # the first try's
                self.log.info("importbridge: re-attaching to the import an earlier try made")
            else:
                job = self._submit(client, rid, sent_before=bool(store and store.get(SENT_KEY) == rid),
                                   store=store)
                token = make_token(client, job, deadline=deadline) if job.id is not None else ""
                if store is not None and token:
                    store.set(TOKEN_KEY, token)
                if job.state.is_terminal or not token:
                    return self._finish({"status": "done", "job": to_dict(job)})
            if not self.deferrable:
                job = client.wait(token, timeout=max(0.0, deadline - time.time()))
                return self._finish({"status": "done", "job": to_dict(job)})
        self.defer(
            trigger=ImportTrigger(conn_id=self.conn_id, token=token, deadline=deadline),
            method_name="execute_complete",
            timeout=timedelta(seconds=deadline - time.time() + 60),  # the trigger fires at the deadline
        )

    def _submit(self, client: ImportClient, rid: str, *, sent_before: bool, store: Any) -> ImportJob:
        """The import this task instance made, found again, or made now under ``rid``."""
        provider = client.provider
        if Capability.IDEMPOTENT_SUBMIT not in provider.capabilities:
            try:
                found = provider.find_submit(client.connection, rid)
            except NotImplementedError:
                if sent_before:
                    raise SubmitOutcomeUnknown(
                        f"{provider.name}: an earlier try of this task sent its import (request id "
                        f"{rid}) and was lost before it recorded the job; {provider.name} cannot look "
                        "it up: check the provider, then clear the task's state to import again",
                        provider=provider.name, request_id=rid,
                    ) from None
                found = None
            if found is not None:
                self.log.info("importbridge: found %s import %s, made by an earlier try",
                              provider.name, found.id)
                return found
        if store is not None:
            store.set(SENT_KEY, rid)
        job = client.submit(self.records, request_id=rid, **self.options)
        self.log.info("importbridge: submitted %s import %s (request id %s)", provider.name, job.id, rid)
        return job

    def execute_complete(self, context: Any, event: Mapping[str, Any]) -> Any:
        """The trigger's event: the job's ``to_dict``, or the task's failure."""
        return self._finish(event)

    def _finish(self, event: Mapping[str, Any]) -> Any:
        hook = ImportBridgeHook(self.conn_id)
        return finish(hook, event, self.on_partial, self.log, self.rejected_rows)
