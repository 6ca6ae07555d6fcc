"""Start-up cost: what ``import importbridge`` and ``importbridge --help`` add to a fresh Python.

Measured in one run, each as a fresh process, interleaved so drift hits all alike, median of
many repeats: ``python -c pass`` (the floor), ``python -c "import requests"`` (the baseline a
library built on requests cannot beat), ``python -c "import importbridge"`` and
``importbridge --help``. Target: importing importbridge costs at most 30 ms more than importing
requests (today it costs less, since requests loads only when a client connects).

    python benchmarks/startup.py [--repeats 40]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time

TARGET_MS = 30.0


def commands() -> dict[str, list[str]]:
    """Label -> argv; the console script when it is installed beside this Python."""
    python = sys.executable
    script = shutil.which("importbridge", path=os.path.dirname(python)) or shutil.which("importbridge")
    help_argv = [script, "--help"] if script else [python, "-m", "importbridge", "--help"]
    return {
        "python -c pass": [python, "-c", "pass"],
        "import requests": [python, "-c", "import requests"],
        "import importbridge": [python, "-c", "import importbridge"],
        "importbridge --help": help_argv,
    }


def once(argv: list[str]) -> float:
    """Wall-clock milliseconds for one run of ``argv``."""
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=40, help="runs of each command (default 40)")
    args = parser.parse_args()
    runs = commands()
    samples: dict[str, list[float]] = {label: [] for label in runs}
    for argv in runs.values():  # warm the OS file cache and .pyc files first
        once(argv)
    for _ in range(args.repeats):
        for label, argv in runs.items():
            samples[label].append(once(argv))
    median = {label: statistics.median(values) for label, values in samples.items()}
    floor = median["python -c pass"]
    print(f"median of {args.repeats} runs each ({sys.executable}, Python {sys.version.split()[0]})")
    print(f"{'command':<22} {'median ms':>10} {'over pass':>10}")
    for label, value in median.items():
        print(f"{label:<22} {value:>10.1f} {value - floor:>+10.1f}")
    delta = median["import importbridge"] - median["import requests"]
    verdict = "OK" if delta <= TARGET_MS else "OVER TARGET"
    print(f"import importbridge - import requests: {delta:+.1f} ms (target <= +{TARGET_MS:.0f} ms):", verdict)
    help_delta = median["importbridge --help"] - median["import requests"]
    print(f"importbridge --help - import requests: {help_delta:+.1f} ms")


if __name__ == "__main__":
    main()
