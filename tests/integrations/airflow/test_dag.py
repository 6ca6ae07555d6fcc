"""End to end: ``dag.test()`` on a SQLite metadata database against the sandbox, in a fresh
interpreter with its own AIRFLOW_HOME. Each outcome, the retries, and bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from importbridge import sandbox

from .conftest import connection_env

HERE = Path(__file__).parent


@pytest.mark.slow
def test_a_dag_imports_each_once_and_fails_clearly(sb: sandbox.Sandbox, tmp_path: Path) -> None:
    (tmp_path / "dags").mkdir()
    shutil.copy(HERE / "import_dag.py", tmp_path / "dags" / "import_dag.py")
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path), "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW_CONN_SB_NOPE": connection_env(sb, "micro", conn_type="importbridge_nope"),
           "IB_REJECTED_ROWS": f"file://{tmp_path}/rejected/partial.jsonl"}
    for provider in ("micro", "qobra", "talkvalue"):
        env[f"AIRFLOW_CONN_SB_{provider.upper()}"] = connection_env(sb, provider)
    airflow = str(Path(sys.executable).with_name("airflow"))
    subprocess.run([airflow, "db", "migrate"], env=env, check=True, capture_output=True, timeout=120)
    before = {name: counts["imports"] for name, counts in sb.state().items() if name != "_sandbox"}
    dag_file = str(tmp_path / "dags" / "import_dag.py")
    run = subprocess.run([sys.executable, str(HERE / "dag_runner.py"), dag_file],
                         env=env, capture_output=True, text=True, timeout=240)  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    tasks = json.loads(run.stdout.strip().splitlines()[-1])
    log = run.stdout + run.stderr
    states = {task: info["state"] for task, info in tasks.items()}
    assert states == {
        "micro_complete": "success", "qobra_complete": "success", "talkvalue_complete": "success",
        "micro_partial": "success", "micro_failed": "failed",
        "micro_retried": "success", "talkvalue_retried": "success", "qobra_retried": "success",
        "sensor_deferred": "success", "sensor_rescheduled": "success",
        "missing_connection": "failed", "unknown_provider": "failed", "past_deadline": "failed",
    }
    assert all(tasks[task]["try"] == 2 for task in ("micro_retried", "talkvalue_retried", "qobra_retried"))
    after = sb.state()
    # each import made once: retries re-attached, bad input submitted nothing
    assert {name: after[name]["imports"] - count for name, count in before.items()} == {
        "micro": 4, "qobra": 2, "talkvalue": 2,
    }
    assert "Airflow connection 'sb_missing' is not defined" in log
    assert "UnknownProviderError" in log
    assert "'nope'" in log
    assert "timeout must be positive" in log
    assert "partial: 100 of 150 rows imported, 50 rejected; first rejected rows: row " in log
    assert "invalid_domain" in log
    lines = (tmp_path / "rejected" / "partial.jsonl").read_text().splitlines()
    rejected = [json.loads(line) for line in lines]
    assert [row["row"] for row in rejected] == list(range(101, 151))
    assert {row["code"] for row in rejected} == {"invalid_domain"}
    assert rejected[0]["message"] == "domain is not a valid domain name"
