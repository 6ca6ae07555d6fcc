"""Run by ``test_dag``: ``dag.test()`` of ``import_dag.py`` in a fresh interpreter whose
AIRFLOW_HOME (SQLite) the test made. Prints one JSON line: each task's state and tries.
Usage: ``python dag_runner.py DAG_FILE``."""

from __future__ import annotations

import json
import runpy
import sys

dag = runpy.run_path(sys.argv[1])["dag"]
run = dag.test()
from airflow.models.taskinstance import TaskInstance  # noqa: E402
from airflow.utils.session import create_session  # noqa: E402

with create_session() as session:
    tis = session.query(TaskInstance).filter(TaskInstance.run_id == run.run_id).all()
    print(json.dumps({ti.task_id: {"state": str(ti.state), "try": ti.try_number} for ti in tis}))
