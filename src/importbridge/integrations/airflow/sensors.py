"""``ImportSensor``: wait for an import submitted elsewhere, named by a job id or a resume token."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue

from importbridge import to_dict
from importbridge.polling import make_token

from .hooks import ImportBridgeHook
from .outcome import OnPartial, check_on_partial, finish
from .triggers import ImportTrigger

#: where a rescheduled sensor keeps its latest token between pokes (task_state_store)
TOKEN_KEY = "importbridge_sensor_token"


class ImportSensor(BaseSensorOperator):
    """Succeeds when the job is terminal (``on_partial`` as for ``ImportOperator``); XCom: ``to_dict``.

    ``job`` is a job id or a resume token (templated). ``deferrable=True`` hands the wait to the
    triggerer; else each poke is one ``poll_once`` (``mode="reschedule"`` frees the worker between).
    """

    template_fields: Sequence[str] = ("job",)

    def __init__(
        self,
        *,
        conn_id: str,
        job: str,
        deferrable: bool = False,
        on_partial: OnPartial = "fail",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.job = job
        self.deferrable = deferrable
        self.on_partial = check_on_partial(on_partial)

    def _token(self, client: Any, deadline: float | None) -> str:
        """The job as a token: given as one, or made from the job id's first snapshot."""
        from importbridge.tokens import looks_like_token

        if looks_like_token(self.job.strip()):
            return self.job.strip()
        return make_token(client, client.get(self.job), deadline=deadline)

    def execute(self, context: Any) -> Any:
        if not self.deferrable:
            return super().execute(context)
        deadline = time.time() + float(self.timeout)
        with ImportBridgeHook(self.conn_id).get_conn() as client:
            token = self._token(client, deadline)
        self.defer(
            trigger=ImportTrigger(conn_id=self.conn_id, token=token, deadline=deadline),
            method_name="execute_complete",
            timeout=timedelta(seconds=float(self.timeout) + 60),
        )

    def poke(self, context: Any) -> PokeReturnValue:
        store = context.get("task_state_store")
        hook = ImportBridgeHook(self.conn_id)
        with hook.get_conn() as client:
            token = (store.get(TOKEN_KEY) if store is not None else None) or self._token(client, None)
            step = client.poll_once(str(token))
        if store is not None:
            store.set(TOKEN_KEY, step.token)
        if not step.done or step.job is None:
            return PokeReturnValue(is_done=False)
        data = finish(hook, {"status": "done", "job": to_dict(step.job)}, self.on_partial, self.log)
        return PokeReturnValue(is_done=True, xcom_value=data)

    def execute_complete(self, context: Any, event: Mapping[str, Any]) -> Any:
        return finish(ImportBridgeHook(self.conn_id), event, self.on_partial, self.log)
