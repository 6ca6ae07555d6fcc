"""Cold start: what a fresh Python process costs when it imports importbridge and uses it once.

Each contender is a fresh process (``python -c ...``), run in turns with the others so that a
busy machine slows them alike; the figures are the best and the worst of N runs, wall clock.
Contenders: ``python -c pass`` (the floor), ``import requests`` (the baseline: importbridge's
client is built on it), ``import requests, attrs`` (the two core dependencies ``connect()``
uses: what it costs beyond them is importbridge's own), ``import importbridge``, import + the
first ``normalize()`` of a payload (per built-in provider), import + ``connect()`` (requests
loads here), Micro's own SDK (import, and import + building its client), and
``importbridge --help``.

Targets (issue 11): import + first normalize <= ``import requests``; import + connect() <=
``import requests`` + 30 ms (both on the best-of-N wall-clock figures, which are the least
noisy; the least CPU time of each is shown beside them). The summary line comes last.
``python -X importtime`` shows where a process's time goes.

    python benchmarks/startup.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

CONNECT_BUDGET_MS = 30.0

PAYLOADS = {
    "micro": '{"job_id": "imp_1", "status": "processing", "total": 5000, "processed": 12}',
    "qobra": (
        '{"data_import": {"id": "665f", "created_at": "2024-06-25T09:58:32Z", "status": "started",'
        ' "progress": "40", "data_tables_details": [{"type": "api", "status": "started",'
        ' "data_table_key": "deals", "progress": "40"}]}}'
    ),
    "talkvalue": '{"id": 4219, "status": "RUNNING", "totalRows": 300, "processedRows": 12}',
}


def commands() -> dict[str, list[str]]:
    """Label -> argv; the console script when it is installed beside this Python."""
    python = sys.executable
    script = shutil.which("importbridge", path=os.path.dirname(python)) or shutil.which("importbridge")
    help_argv = [script, "--help"] if script else [python, "-m", "importbridge", "--help"]
    runs = {
        "python -c pass": [python, "-c", "pass"],
        "import requests": [python, "-c", "import requests"],
        "requests + attrs": [python, "-c", "import requests, attrs"],
        "import importbridge": [python, "-c", "import importbridge"],
    }
    for name, payload in PAYLOADS.items():
        code = f"import importbridge; importbridge.normalize({name!r}, {payload!r})"
        runs[f"normalize {name}"] = [python, "-c", code]
    runs["connect micro"] = [
        python,
        "-c",
        "import importbridge; importbridge.connect('micro', api_key='k', team_id='t',"
        " base_url='http://127.0.0.1:9')",
    ]
    if _has_sdk():
        runs["import micro_so (SDK)"] = [python, "-c", "import micro_so"]
        runs["SDK client"] = [python, "-c", "import micro_so; micro_so.Micro(api_key='k', team_id='t')"]
    runs["importbridge --help"] = help_argv
    return runs


def _has_sdk() -> bool:
    probe = [sys.executable, "-c", "import micro_so; micro_so.Micro"]
    done = subprocess.run(probe, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV or None)
    return done.returncode == 0


def environment(cache: str) -> dict[str, str]:
    """This environment, with bytecode cached (in ``cache``) as an installed package has it:
    under ``PYTHONDONTWRITEBYTECODE`` a source checkout would be compiled on every start,
    while the baselines' site-packages come with their ``.pyc`` files."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    return env


ENV: dict[str, str] = {}


def once(argv: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) milliseconds for one run of ``argv``.

    CPU time leaves out the waits for a core that a busy machine adds to the wall clock, so it
    shows the cost of a start where other processes make the wall clock noisy.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV or None)
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=20, help="runs of each command (default 20)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        ENV.update(environment(cache))
        run_all(args.repeats)


def run_all(repeats: int) -> None:
    runs = commands()
    samples: dict[str, list[float]] = {label: [] for label in runs}
    cpu: dict[str, list[float]] = {label: [] for label in runs}
    for argv in runs.values():  # warm the OS file cache and .pyc files first
        once(argv)
    for _ in range(repeats):
        for label, argv in runs.items():
            wall, used = once(argv)
            samples[label].append(wall)
            cpu[label].append(used)
    best = {label: min(values) for label, values in samples.items()}
    worst = {label: max(values) for label, values in samples.items()}
    least = {label: min(values) for label, values in cpu.items()}
    floor, baseline = best["python -c pass"], best["import requests"]
    print(f"best and worst of {repeats} runs each ({sys.executable}, Python {sys.version.split()[0]})")
    print(
        f"{'command':<24} {'best ms':>8} {'worst ms':>9} {'over pass':>10} {'vs requests':>12}"
        f" {'cpu ms':>7} {'cpu vs requests':>16}"
    )
    for label in runs:
        print(
            f"{label:<24} {best[label]:>8.1f} {worst[label]:>9.1f} {best[label] - floor:>+10.1f}"
            f" {best[label] - baseline:>+12.1f} {least[label]:>7.1f}"
            f" {least[label] - least['import requests']:>+16.1f}"
        )
    verdicts = []
    for name in PAYLOADS:
        over = best[f"normalize {name}"] - baseline
        label = f"import + first normalize ({name}) - import requests: {over:+.1f} ms (<= 0)"
        verdicts.append((label, over <= 0))
    over = best["connect micro"] - baseline
    verdicts.append(
        (
            f"import + connect() - import requests: {over:+.1f} ms (<= +{CONNECT_BUDGET_MS:.0f})",
            over <= CONNECT_BUDGET_MS,
        )
    )
    own = best["connect micro"] - best["requests + attrs"]
    own_cpu = least["connect micro"] - least["requests + attrs"]
    print(
        f"\nimport + connect() - import requests, attrs: {own:+.1f} ms wall, {own_cpu:+.1f} ms cpu"
        " (importbridge's own share)"
    )
    print()
    for line, met in verdicts:
        print(f"{'met   ' if met else 'MISSED'} {line}")
    missed = sum(not met for _, met in verdicts)
    held = "" if missed else " (all held)"
    print(f"summary: {len(verdicts) - missed} of {len(verdicts)} targets met{held}")


if __name__ == "__main__":
    main()
