"""How well does importbridge's poll schedule watch a job, whatever shape its progress takes?

Runs in virtual time on a frozen sandbox clock (nothing sleeps for real): Micro jobs of 1,000
rows following each sandbox progress curve (``progress_curve``: linear, accelerating,
decelerating, 10 % steps, idle for 30 % then linear, 90 % by half-time then a slow tail) and
one without progress reports, lasting 1 min, 10 min, 1 h and 3 h. Each seeded run varies the job's
length by up to 10 % (the same for every schedule), so no schedule gets a lucky phase. For each
schedule it counts status requests and the detection delay: the time between the job finishing
and the caller knowing. Schedules, all measured in the same run:

- importbridge: ``client.poll`` with the default ``PollPolicy`` (the real waiting loop);
- previous: the schedule importbridge shipped before (``previous_schedule.py``), which
  assumed steady progress;
- fixed 30 s: a ``sleep 30`` loop (azure-core's default);
- google-api-core: its default polling, ``DEFAULT_POLLING`` in ``google.api_core.future.polling``
  (initial 1 s, multiplier 1.5, maximum 20 s; each sleep drawn uniformly from zero to the current
  ceiling, as ``exponential_sleep_generator`` does). Its 900 s timeout is ignored: it would give
  up on every job here but the shortest.

Every schedule starts from the submit's own snapshot and sleeps before its first poll. The fixed
and google loops never look at progress, so one measurement per length and seed serves every
curve. Targets (issue 11): a 1 h job, every curve, <= 60 requests and <= 5 s mean delay; without
progress, no worse than google-api-core on requests and on mean delay.
The runs are deterministic (seeded, virtual time): ``--first-seed`` draws another sample.
Run: ``python benchmarks/polling.py [--seeds 6] [--first-seed 0]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import importbridge
from importbridge import ImportClient, ImportJob, PollPolicy, sandbox
from importbridge.schedule import job_progress

sys.path.insert(0, str(Path(__file__).parent))
from previous_schedule import PreviousMemory, previous_delay

ROWS = 1000
LENGTHS = {"1 min": 60.0, "10 min": 600.0, "1 h": 3600.0, "3 h": 10800.0}
TARGET_LENGTH = "1 h"
CURVES = ["linear", "accelerating", "decelerating", "steps", "idle-then-linear", "fast-then-tail"]
NO_PROGRESS = "no progress"
Sleeps = Callable[[random.Random], Iterator[float]]
Run = tuple[int, float]  # requests, detection delay


def fixed(seconds: float) -> Sleeps:
    def sleeps(_: random.Random) -> Iterator[float]:
        while True:
            yield seconds

    return sleeps


def google_default(rng: random.Random) -> Iterator[float]:
    """google-api-core's default polling sleeps: uniform(0, ceiling), ceiling 1 s x1.5 up to 20 s."""
    ceiling = 1.0
    while True:
        yield rng.uniform(0.0, ceiling)
        ceiling = min(ceiling * 1.5, 20.0)


BLIND: dict[str, Sleeps] = {"fixed 30 s": fixed(30.0), "google-api-core": google_default}
SCHEDULES = ["importbridge", "previous", *BLIND]


def submit(sb: sandbox.Sandbox, client: ImportClient, seconds: float, curve: str) -> tuple[ImportJob, float]:
    """A Micro job that runs ``seconds`` along ``curve``; returns it and its finish time."""
    sb.configure(speed=ROWS / seconds, progress_curve="linear" if curve == NO_PROGRESS else curve,
                 report_progress=curve != NO_PROGRESS)  # fmt: skip
    accepted = sb.clock.now()
    rows = [{"email": f"user{n}@example.com", "name": f"User {n}"} for n in range(ROWS)]
    job = client.submit(rows, object_type="contact")
    return job, accepted + sb.config.start_delay + seconds


def run_importbridge(sb: sandbox.Sandbox, client: ImportClient, job: ImportJob, seed: int) -> int:
    policy = PollPolicy(clock=sb.clock.now, sleep=sb.clock.sleep, random=random.Random(seed))
    poller = client.poll(job, policy=policy)
    for _ in poller:
        pass
    return poller.attempts  # type: ignore[attr-defined, no-any-return]


def run_previous(sb: sandbox.Sandbox, client: ImportClient, job: ImportJob, seed: int) -> int:
    rng, memory, requests = random.Random(seed), PreviousMemory(started=sb.clock.now()), 0
    while not job.done:
        sb.clock.sleep(previous_delay(memory, sb.clock.now(), rng))
        job = client.get(str(job.id))
        requests += 1
        memory.observe(sb.clock.now(), *job_progress(job))
    return requests


def run_loop(sb: sandbox.Sandbox, client: ImportClient, job: ImportJob, sleeps: Iterator[float]) -> int:
    requests = 0
    while not job.done:
        sb.clock.sleep(next(sleeps))
        job = client.get(str(job.id))
        requests += 1
    return requests


def measure(
    sb: sandbox.Sandbox, client: ImportClient, schedule: str, curve: str, seconds: float, seed: int
) -> Run:
    seconds *= random.Random(f"{seconds}/{seed}").uniform(0.9, 1.1)  # the same for every schedule
    job, finish = submit(sb, client, seconds, curve)
    if schedule == "importbridge":
        requests = run_importbridge(sb, client, job, seed)
    elif schedule == "previous":
        requests = run_previous(sb, client, job, seed)
    else:
        requests = run_loop(sb, client, job, BLIND[schedule](random.Random(seed)))
    return requests, sb.clock.now() - finish


def collect(seeds: range) -> dict[tuple[str, str, str], list[Run]]:
    """Runs per (curve, schedule, length)."""
    results: dict[tuple[str, str, str], list[Run]] = {}
    with sandbox.run(frozen=True, seed=1, rate_limit=None, providers=["micro"]) as sb:
        client = importbridge.connect("micro", **sb.settings("micro"))
        for label, seconds in LENGTHS.items():
            for name in BLIND:  # progress-blind: the curve does not matter
                runs = [measure(sb, client, name, "linear", seconds, seed) for seed in seeds]
                for curve in [*CURVES, NO_PROGRESS]:
                    results[(curve, name, label)] = runs
            for curve in [*CURVES, NO_PROGRESS]:
                for name in ("importbridge", "previous"):
                    results[(curve, name, label)] = [
                        measure(sb, client, name, curve, seconds, seed) for seed in seeds
                    ]
        client.close()
    return results


def cell(runs: list[Run]) -> tuple[float, float, float]:
    """Mean requests, mean delay, worst delay."""
    delays = [d for _, d in runs]
    return statistics.fmean(r for r, _ in runs), statistics.fmean(delays), max(delays)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seeds", type=int, default=6, help="seeded runs per cell (lengths vary by seed)")
    parser.add_argument("--first-seed", type=int, default=0, help="another sample of lengths and jitter")
    args = parser.parse_args()
    results = collect(range(args.first_seed, args.first_seed + args.seeds))

    print(f"Micro jobs of {ROWS} rows; requests / mean delay / worst delay (s); {args.seeds} runs each")
    print(f"{'curve':<18}{'schedule':<17}" + "".join(f"{label:>24}" for label in [*LENGTHS, "all lengths"]))
    for curve in [*CURVES, NO_PROGRESS]:
        for name in SCHEDULES:
            cells = [cell(results[(curve, name, label)]) for label in LENGTHS]
            every = cell([run for label in LENGTHS for run in results[(curve, name, label)]])
            row = "".join(f"{r:>8.1f} / {d:>5.2f} / {w:>6.1f}" for r, d, w in [*cells, every])
            print(f"{curve:<18}{name:<17}{row}")
        print()

    checks: dict[str, bool] = {}
    for curve in CURVES:
        requests, delay, _ = cell(results[(curve, "importbridge", TARGET_LENGTH)])
        checks[f"{curve}, {TARGET_LENGTH}: {requests:.1f} requests <= 60"] = requests <= 60
        checks[f"{curve}, {TARGET_LENGTH}: {delay:.2f} s mean delay <= 5"] = delay <= 5.0
    for scope, labels in ((TARGET_LENGTH, [TARGET_LENGTH]), ("all lengths", list(LENGTHS))):
        ours = cell([run for label in labels for run in results[(NO_PROGRESS, "importbridge", label)]])
        google = cell([run for label in labels for run in results[(NO_PROGRESS, "google-api-core", label)]])
        checks[f"no progress, {scope}: {ours[0]:.1f} requests <= google-api-core's {google[0]:.1f}"] = (
            ours[0] <= google[0]
        )
        checks[f"no progress, {scope}: {ours[1]:.2f} s mean delay <= google-api-core's {google[1]:.2f}"] = (
            ours[1] <= google[1]
        )
    print("\n".join(f"  [{'ok' if ok else 'MISSED'}] {what}" for what, ok in checks.items()))
    worst = max(cell(results[(curve, "importbridge", TARGET_LENGTH)])[0] for curve in CURVES)
    slowest = max(cell(results[(curve, "importbridge", TARGET_LENGTH)])[1] for curve in CURVES)
    print(
        f"SUMMARY {TARGET_LENGTH} job, every progress curve: at most {worst:.1f} requests and "
        f"{slowest:.2f} s mean delay (targets 60 and 5 s); without progress no worse than google-api-core; "
        f"targets met: {sum(checks.values())}/{len(checks)}"
        + ("" if all(checks.values()) else " - NOT ALL TARGETS HOLD")
    )


if __name__ == "__main__":
    main()
