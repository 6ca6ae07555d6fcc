"""How well does importbridge's poll schedule watch a job, against the usual fixed loops?

Runs in virtual time on a frozen sandbox clock (nothing sleeps for real): Micro jobs of 1,000
rows lasting 10 s, 1 min, 10 min and 1 h, with and without progress reports. For each schedule
it counts status requests and the delay between the job finishing and the caller knowing,
averaged over several seeded runs. Baselines, measured in the same run:

- fixed 5 s (TalkValue's documented ``sleep 5`` loop), fixed 15 s (botocore waiters),
  fixed 30 s (azure-core), and
- google-api-core's polling: sleep ``uniform(0, d)``, ``d`` from 1 s x1.5 capped at 20 s.

Every schedule starts from the submit's own snapshot and sleeps before its first poll. Each
seeded run varies the job's length by up to 10 % (the same for every schedule), so no fixed
loop is lucky or unlucky in where its polls fall.
Run: ``python benchmarks/polling.py [--seeds 5]``.
"""

from __future__ import annotations

import argparse
import random
import statistics
from collections.abc import Callable, Iterator

import importbridge
from importbridge import ImportClient, ImportJob, PollPolicy, sandbox

ROWS = 1000
DURATIONS = {"10 s": 10.0, "1 min": 60.0, "10 min": 600.0, "1 h": 3600.0}
Sleeps = Callable[[random.Random], Iterator[float]]


def fixed(seconds: float) -> Sleeps:
    def sleeps(_: random.Random) -> Iterator[float]:
        while True:
            yield seconds

    return sleeps


def google_style(rng: random.Random) -> Iterator[float]:
    """google.api_core.retry.exponential_sleep_generator(1.0, 20.0, 1.5), as its polling uses."""
    ceiling = 1.0
    while True:
        yield rng.uniform(0.0, ceiling)
        ceiling = min(ceiling * 1.5, 20.0)


BASELINES: dict[str, Sleeps] = {
    "fixed 5 s": fixed(5.0),
    "fixed 15 s": fixed(15.0),
    "fixed 30 s": fixed(30.0),
    "1 s x1.5 cap 20 s": google_style,
}


def submit(sb: sandbox.Sandbox, client: ImportClient, seconds: float) -> tuple[ImportJob, float]:
    """A Micro job that finishes ``seconds`` after it starts; returns it and its finish time."""
    sb.configure(speed=ROWS / seconds)
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


def run_loop(sb: sandbox.Sandbox, client: ImportClient, job: ImportJob, sleeps: Iterator[float]) -> int:
    requests = 0
    while not job.done:
        sb.clock.sleep(next(sleeps))
        job = client.get(str(job.id))
        requests += 1
    return requests


def measure(
    sb: sandbox.Sandbox, client: ImportClient, name: str, seconds: float, seed: int
) -> tuple[int, float]:
    # Seed-varied lengths (+/-10 %), the same for every schedule: no fixed loop gets a lucky phase.
    seconds *= random.Random(f"{seconds}/{seed}").uniform(0.9, 1.1)
    job, finish = submit(sb, client, seconds)
    if name == "importbridge":
        requests = run_importbridge(sb, client, job, seed)
    else:
        requests = run_loop(sb, client, job, BASELINES[name](random.Random(seed)))
    return requests, sb.clock.now() - finish


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=20, help="seeded runs averaged per cell")
    args = parser.parse_args()
    names = ["importbridge", *BASELINES]
    results: dict[tuple[bool, str, str], tuple[float, float]] = {}
    with sandbox.run(frozen=True, seed=1, rate_limit=None, providers=["micro"]) as sb:
        client = importbridge.connect("micro", **sb.settings("micro"))
        for progress in (True, False):
            sb.configure(report_progress=progress)
            for name in names:
                for label, seconds in DURATIONS.items():
                    runs = [measure(sb, client, name, seconds, seed) for seed in range(args.seeds)]
                    results[(progress, name, label)] = (
                        statistics.fmean(r for r, _ in runs),
                        statistics.fmean(d for _, d in runs),
                    )
        client.close()

    header = (
        f"{'schedule':<20}"
        + "".join(f"{label:>18}" for label in DURATIONS)
        + f"{'total':>10}{'mean delay':>12}"
    )
    summary: dict[tuple[bool, str], tuple[float, float]] = {}
    for progress in (True, False):
        print(f"\nMicro jobs of {ROWS} rows, {'with' if progress else 'without'} progress reports "
              f"(requests / mean delay in s, {args.seeds} seeded runs)")  # fmt: skip
        print(header)
        for name in names:
            cells = [results[(progress, name, label)] for label in DURATIONS]
            total = sum(requests for requests, _ in cells)
            delay = statistics.fmean(d for _, d in cells)
            summary[(progress, name)] = (total, delay)
            row = "".join(f"{requests:>9.1f} / {d:>5.2f}" for requests, d in cells)
            print(f"{name:<20}{row}{total:>10.1f}{delay:>12.2f}")

    ours_p, ours_n = summary[(True, "importbridge")], summary[(False, "importbridge")]
    hour_requests, hour_delay = results[(True, "importbridge", "1 h")]
    google = summary[(False, "1 s x1.5 cap 20 s")]
    checks = {
        "fewer requests than fixed 30 s": ours_p[0] < summary[(True, "fixed 30 s")][0],
        "less delay than fixed 5 s": ours_p[1] < summary[(True, "fixed 5 s")][1],
        "1 h job <= 60 requests": hour_requests <= 60,
        "1 h job <= 3 s delay": hour_delay <= 3.0,
        "no progress: requests <= 1s x1.5 cap 20s": ours_n[0] <= google[0],
        "no progress: delay <= 1s x1.5 cap 20s": ours_n[1] <= google[1],
    }
    print("\n" + "\n".join(f"  [{'ok' if ok else 'MISSED'}] {what}" for what, ok in checks.items()))
    fixed30 = summary[(True, "fixed 30 s")][0]
    print(
        f"SUMMARY with progress: {ours_p[0]:.0f} requests vs {fixed30:.0f} (fixed 30 s), "
        f"delay {ours_p[1]:.2f} s vs {summary[(True, 'fixed 5 s')][1]:.2f} s (fixed 5 s); 1 h job "
        f"{hour_requests:.0f} requests, {hour_delay:.2f} s; without progress: {ours_n[0]:.0f} requests / "
        f"{ours_n[1]:.2f} s vs {google[0]:.0f} / {google[1]:.2f} s (1 s x1.5 cap 20 s); "
        f"targets met: {sum(checks.values())}/{len(checks)}"
    )


if __name__ == "__main__":
    main()
