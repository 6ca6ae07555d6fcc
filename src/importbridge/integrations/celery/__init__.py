"""importbridge on Celery (the ``celery`` extra): imports as tasks on an existing worker fleet.

``register_tasks(app)`` adds a submit task, a wait task and a gather task to your app;
``create_app(broker_url)`` builds a ready-made one. See docs/celery.md.
"""

from __future__ import annotations

from .fanout import failed_rows, summarize
from .tasks import ImportTasks, create_app, register_tasks, submit_request_id

__all__ = ["ImportTasks", "create_app", "failed_rows", "register_tasks", "submit_request_id", "summarize"]
