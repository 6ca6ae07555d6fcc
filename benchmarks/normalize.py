"""How fast, and how big, is ``importbridge.normalize`` against ``json.loads`` and Micro's SDK?

Run: ``python benchmarks/normalize.py`` (``--quick`` for fewer repeats, ``--sizes 1000,10000``
to choose the row counts; the default sweeps 1k / 10k / 100k / 1M rows; ``--only status`` or
``--only rows`` runs table 1 alone, or tables 2 and 3 alone; ``--payloads micro,micro-mixed``
chooses the row payloads: each provider's, and Micro's with its entries' keys in varied order, the
worst shape for reading a long array in chunks).

Honest by construction: the garbage collector stays on (``timeit`` would turn it off), every
call gets bytes it has not seen (distinct timestamps, so no date cache hits; distinct error
messages per row, so no error sharing), and the contenders are timed in turns within each
repeat, so a busy neighbour slows them alike. A figure is the median over repeats of the mean
time per call (GC pauses included); the ratios compare figures of the same run. Time is this
process's CPU time, user and system (``--clock wall`` for elapsed time): the calls are
single-threaded and wait on nothing, so on an idle machine the two agree, while on a shared one
CPU time leaves out the slices a neighbour takes and keeps every page fault and collector pass.

Tables:
1. status-only payloads, every provider: normalize from bytes / ``json.loads`` of the same bytes;
2. row payloads (Micro ``results``, Qobra ``parsing_error_details``, TalkValue ``failedRows``) at
   each size: ``json.loads``, normalize, normalize then touching every row (``for row in
   job.rows``), per-row cost, peak traced memory of one call (normalize / json.loads alone),
   and minor page faults per row of one warm call (normalize, json.loads alone);
3. for Micro, the official SDK (micro-so) at each size: ``model_validate_json(bytes)`` and
   ``model_validate(json.loads(bytes))``.

Targets (issue 11): status-only <= 2.5x json.loads; Micro 10,000 rows <= 0.67x the SDK's
``model_validate_json`` and <= 2.0x json.loads; per-row cost at 1M rows <= 1.3x that at 10k;
peak memory at 1M rows <= 1.3x json.loads alone. The verdicts are printed last.

Why the per-row cost does not grow (the page-fault column): ``json.loads`` of a 1M-row payload
builds ~400 MB of dicts and strings that are freed after each call and handed back to the kernel
(pymalloc returns empty arenas), so every call maps them in afresh, about 0.1 fault per row, and
its per-row cost grows 1.3x to 1.8x from 10k to 1M rows. normalize reads a text of 2 MiB or more
(``importbridge.longarrays``) with its row arrays decoded a chunk of ~64 KiB at a time, checked
and dropped: the chunks reuse warm memory, so a million rows cost per row what ten thousand do,
and touching the rows decodes them again (the "touched" column).
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any

import importbridge

#: the clock every figure is read on (``--clock``): this process's CPU time by default
CLOCK = time.process_time

BASE_EPOCH = 1_778_840_521  # 2026-05-15T10:22:01Z


def stamp(n: int, offset: int = 0) -> str:
    """A distinct ISO-8601 timestamp for call ``n`` (milliseconds vary too)."""
    seconds = BASE_EPOCH + n * 7 + offset
    when = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{when}.{(n * 37) % 1000:03d}Z"


# -- payloads ---------------------------------------------------------------------------------


def micro_status(n: int) -> dict[str, Any]:
    return {
        "job_id": f"imp_{n:08d}",
        "status": "processing",
        "total": 5000,
        "processed": 1200 + n % 3000,
        "succeeded": 1190 + n % 3000,
        "failed": 10,
        "created_at": stamp(n),
        "updated_at": stamp(n, 30),
        "expires_at": stamp(n, 604_800),
    }


def micro_rows(n: int, rows: int) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    for i in range(rows):
        if i % 10 == 9:
            message = f"email user{i}.{n}@@example.com is not an address"
            results.append(
                {
                    "id": None,
                    "created": False,
                    "existing": False,
                    "error": {"code": "invalid_email", "message": message},
                }
            )
        else:
            results.append(
                {"id": f"7f{n:06x}-0000-4000-8000-{i:012d}", "created": i % 3 != 0, "existing": i % 3 == 0}
            )
    return {
        "job_id": None,
        "status": "complete",
        "total": rows,
        "processed": rows,
        "succeeded": rows - rows // 10,
        "failed": rows // 10,
        "results": results,
        "created_at": stamp(n),
        "updated_at": stamp(n, 9),
    }


def _qobra_table(key: str, records: int | None, error: Any = None) -> dict[str, Any]:
    return {
        "type": "api",
        "status": "finished" if error else "started",
        "data_table_key": key,
        "progress": "100" if error else "40",
        "number_of_records": records,
        "error": error,
    }


def qobra_status(n: int) -> dict[str, Any]:
    return {
        "data_import": {
            "id": f"665f1b2c3d4e5f6a{n:08x}",
            "created_at": stamp(n),
            "launched_at": stamp(n, 295),
            "finished_at": None,
            "status": "started",
            "progress": str(n % 100),
            "error": False,
            "data_tables_details": [_qobra_table("companies", None)],
        }
    }


def qobra_rows(n: int, rows: int) -> dict[str, Any]:
    details = [
        {
            "line_number": i,
            "row": {"id": str(i), "name": f"deal {i}", "amount": f"A{i}"},
            "details": f"ValueError: could not convert string to float: 'A{i}.{n}'",
        }
        for i in range(1, rows + 1)
    ]
    error = {"title": "ParsingError", "description": "Can't parse amounts", "parsing_error_details": details}
    body = qobra_status(n)
    record = body["data_import"]
    record.update(status="finished", progress=100, error=True, finished_at=stamp(n, 700))
    record["data_tables_details"] = [
        _qobra_table("companies", 122),
        _qobra_table("opportunities", None, error),
    ]
    record["data_tables_details"][0].update(status="finished", progress="100")
    return body


def talkvalue_status(n: int) -> dict[str, Any]:
    return {
        "id": 4219 + n,
        "status": "RUNNING",
        "mode": "SKIP",
        "fileName": "leads.csv",
        "totalRows": 30000,
        "processedRows": 12000 + n % 1000,
        "newCount": 8000 + n % 1000,
        "updatedCount": 0,
        "duplicatedCount": 300,
        "skipCount": 3500,
        "failedCount": 200,
        "failedRows": [],
        "processStartedAt": stamp(n),
    }


def talkvalue_rows(n: int, rows: int) -> dict[str, Any]:
    body = talkvalue_status(n)
    body.update(
        status="PARTIAL_SUCCESS",
        totalRows=rows + 20000,
        processedRows=rows + 20000,
        newCount=16000,
        skipCount=3700,
        failedCount=rows,
        completedAt=stamp(n, 565),
        failedRows=[
            {
                "rowNum": i + 2,
                "errorCode": "INVALID_EMAIL",
                "errorMessage": f"Email user{i}.{n}@@example.com could not be parsed",
                "rawValue": f"user{i}.{n}@@example.com",
            }
            for i in range(rows)
        ],
    )
    return body


SDK_UP_TO = 100_000  # rows

STATUS = {"micro": micro_status, "qobra": qobra_status, "talkvalue": talkvalue_status}


def micro_mixed_rows(n: int, rows: int) -> dict[str, Any]:
    """``micro_rows`` with each entry's keys in one of four orders: no two neighbours open alike,
    the worst shape for cutting a long array into chunks (``importbridge.longarrays``)."""
    payload = micro_rows(n, rows)
    payload["results"] = [
        dict(sorted(entry.items(), key=lambda item: ORDERS[i % 4].index(item[0])))
        for i, entry in enumerate(payload["results"])
    ]
    return payload


ORDERS = (
    ("id", "created", "existing", "error"),
    ("created", "existing", "error", "id"),
    ("existing", "error", "id", "created"),
    ("error", "id", "created", "existing"),
)

#: name -> (provider, payload builder): each provider's usual shape, and Micro's worst
ROWS = {
    "micro": ("micro", micro_rows),
    "qobra": ("qobra", qobra_rows),
    "talkvalue": ("talkvalue", talkvalue_rows),
    "micro-mixed": ("micro", micro_mixed_rows),
}


# -- measuring --------------------------------------------------------------------------------


def run_over(func: Callable[[bytes], object], inputs: Sequence[bytes], start: int, calls: int) -> float:
    """Seconds per call of ``func`` over ``calls`` inputs taken in turn from ``start`` (GC on)."""
    count = len(inputs)
    began = CLOCK()
    for i in range(start, start + calls):
        func(inputs[i % count])
    return (CLOCK() - began) / calls


def measure(
    funcs: dict[str, Callable[[bytes], object]], inputs: Sequence[bytes], repeats: int
) -> dict[str, float]:
    """name -> median over ``repeats`` of seconds per call; each repeat runs ~20 ms per contender
    (at least one call), the contenders in turns, each on inputs the previous repeat did not use."""
    assert gc.isenabled()
    calls = {}
    for name, func in funcs.items():
        func(inputs[0])  # imports, first-use caches
        once = max(run_over(func, inputs, 1, 3), 1e-7)
        calls[name] = max(1, int(0.02 / once))
    samples: dict[str, list[float]] = {name: [] for name in funcs}
    offset = 0
    for _ in range(repeats):
        for name, func in funcs.items():
            samples[name].append(run_over(func, inputs, offset, calls[name]))
        offset += max(calls.values())
    return {name: statistics.median(values) for name, values in samples.items()}


def peak_memory(func: Callable[[bytes], object], data: bytes) -> float:
    """Peak traced bytes allocated while ``func(data)`` runs and its result is alive."""
    gc.collect()
    tracemalloc.start()
    try:
        result = func(data)
        _, peak = tracemalloc.get_traced_memory()
        del result
    finally:
        tracemalloc.stop()
    return float(peak)


def faults_per_call(func: Callable[[bytes], object], data: bytes) -> int:
    """Minor page faults (fresh memory the kernel maps in) of one call whose result is then freed,
    after a first call of the same: what a process pays on every call once it is warm."""
    func(data)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    func(data)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.1f} us"
    if seconds < 1:
        return f"{seconds * 1e3:8.2f} ms"
    return f"{seconds:8.3f} s "


def _per_row(seconds: float, rows: int) -> str:
    return f"{seconds / rows * 1e9:7.0f} ns"


def _sdk() -> tuple[Callable[[bytes], object], Callable[[bytes], object]] | None:
    """Micro's official SDK parses: ``model_validate_json`` on the bytes, and on ``json.loads``."""
    try:
        from micro_so.types.prism import ImportGetResponse
    except ImportError:
        return None
    model = ImportGetResponse

    def from_dict(data: bytes) -> object:
        return model.model_validate(json.loads(data))

    return model.model_validate_json, from_dict


def _normalizer(provider: str) -> Callable[[bytes], object]:
    def normalize(data: bytes) -> object:
        return importbridge.normalize(provider, data)

    return normalize


def _toucher(provider: str) -> Callable[[bytes], object]:
    def normalize_and_touch(data: bytes) -> object:
        job = importbridge.normalize(provider, data)
        for row in job.rows:
            row.outcome  # noqa: B018 - reading each row is the point
        return job

    return normalize_and_touch


class Verdicts:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.missed = 0

    def add(self, target: str, ratio: float, limit: float) -> None:
        met = ratio <= limit
        self.missed += not met
        self.lines.append(f"{'met   ' if met else 'MISSED'} {target}: {ratio:.2f}x (target <= {limit}x)")

    def note(self, what: str, ratio: float, beside: str) -> None:
        """A figure printed with the verdicts that is no target of issue 11 (not counted)."""
        self.lines.append(f"info   {what}: {ratio:.2f}x ({beside})")


def status_table(repeats: int, verdicts: Verdicts) -> None:
    print("1. status-only payloads (2,000 distinct payloads per provider, one per call)")
    print(f"{'provider':<10} {'bytes':>6} {'json.loads':>12} {'normalize':>12} {'ratio':>7}")
    for provider, build in STATUS.items():
        inputs = [json.dumps(build(n)).encode() for n in range(2000)]
        timing = measure({"loads": json.loads, "ours": _normalizer(provider)}, inputs, repeats)
        ratio = timing["ours"] / timing["loads"]
        print(
            f"{provider:<10} {len(inputs[0]):>6} {_fmt(timing['loads'])} {_fmt(timing['ours'])}"
            f" {ratio:>6.2f}x"
        )
        verdicts.add(f"{provider} status-only normalize / json.loads", ratio, 2.5)
    print()


def rows_table(
    payloads: dict[str, tuple[str, Callable[[int, int], dict[str, Any]]]],
    sizes: Sequence[int],
    repeats: int,
    verdicts: Verdicts,
) -> None:
    sdk = _sdk()
    print("2. row payloads: median per call; per row; peak traced memory of one call")
    print(
        f"{'payload':<11} {'rows':>9} {'MB':>6} {'json.loads':>12} {'normalize':>12} {'ratio':>6}"
        f" {'+touch rows':>12} {'ratio':>6} {'ns/row':>10} {'touched':>10}"
        f" {'MB loads':>9} {'MB norm':>8} {'ratio':>6} {'MB touch':>9} {'faults/row':>10} {'loads':>6}"
    )
    per_row: dict[tuple[str, int], float] = {}
    sdk_lines: list[str] = []
    for name, (provider, build) in payloads.items():
        for size in sizes:
            variants = 2 if size >= 100_000 else 6
            inputs = [json.dumps(build(n, size)).encode() for n in range(variants)]
            reps = 3 if size >= 1_000_000 else repeats
            funcs: dict[str, Callable[[bytes], object]] = {
                "loads": json.loads,
                "ours": _normalizer(provider),
                "touch": _toucher(provider),
            }
            if name == "micro" and sdk is not None and size <= SDK_UP_TO:
                funcs["sdk json"], funcs["sdk dict"] = sdk
            timing = measure(funcs, inputs, reps)
            mem = {name: peak_memory(funcs[name], inputs[0]) / 1e6 for name in ("loads", "ours", "touch")}
            faults = {name: faults_per_call(funcs[name], inputs[0]) / size for name in ("loads", "ours")}
            loads, ours, touch = timing["loads"], timing["ours"], timing["touch"]
            per_row[name, size] = ours / size
            print(
                f"{name:<11} {size:>9,} {len(inputs[0]) / 1e6:>6.1f} {_fmt(loads)} {_fmt(ours)}"
                f" {ours / loads:>5.2f}x {_fmt(touch)} {touch / loads:>5.2f}x {_per_row(ours, size)}"
                f" {_per_row(touch, size)} {mem['loads']:>9.1f} {mem['ours']:>8.1f}"
                f" {mem['ours'] / mem['loads']:>5.2f}x {mem['touch']:>9.1f}"
                f" {faults['ours']:>10.3f} {faults['loads']:>6.3f}"
            )
            if "sdk json" in timing:
                sdk_json, sdk_dict = timing["sdk json"], timing["sdk dict"]
                sdk_lines.append(
                    f"{size:>9,} {_fmt(sdk_json)} {_fmt(sdk_dict)} {_fmt(ours)} {ours / sdk_json:>6.2f}x"
                    f" {_fmt(touch)} {touch / sdk_json:>6.2f}x"
                )
                if size == 10_000:
                    verdicts.add(
                        "micro 10,000 rows normalize / SDK model_validate_json", ours / sdk_json, 0.67
                    )
                    verdicts.note(
                        "  (same, every row touched) / SDK model_validate_json",
                        touch / sdk_json,
                        "not a target",
                    )
            if name == "micro" and size == 10_000:
                verdicts.add("micro 10,000 rows normalize / json.loads", ours / loads, 2.0)
                verdicts.note("  (same, every row touched) / json.loads", touch / loads, "not a target")
            if size == 1_000_000:
                verdicts.add(
                    f"{name} 1M rows peak memory / json.loads alone", mem["ours"] / mem["loads"], 1.3
                )
            del inputs
            gc.collect()
        if (name, 10_000) in per_row and (name, 1_000_000) in per_row:
            growth = per_row[name, 1_000_000] / per_row[name, 10_000]
            verdicts.add(f"{name} per-row cost at 1M rows / at 10k rows", growth, 1.3)
    print()
    if sdk is None:
        print("3. micro-so (Micro's SDK) is not installed: no SDK comparison")
    else:
        print(f"3. Micro's SDK (micro-so) on the same bytes, up to {SDK_UP_TO:,} rows (beyond: minutes)")
        print(
            f"{'rows':>9} {'validate_json':>12} {'loads+validate':>12} {'normalize':>12} {'/json':>7}"
            f" {'+touch rows':>12} {'/json':>7}"
        )
        print("\n".join(sdk_lines))
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--sizes", default="1000,10000,100000,1000000", help="row counts, comma-separated")
    parser.add_argument(
        "--clock",
        choices=("cpu", "wall"),
        default="cpu",
        help="cpu: this process's CPU time, user and system (the default); wall: elapsed time",
    )
    parser.add_argument(
        "--only", choices=("status", "rows"), help="status: table 1 alone; rows: tables 2 and 3 alone"
    )
    parser.add_argument(
        "--payloads",
        default=",".join(ROWS),
        help=f"row payloads to run, comma-separated (of {', '.join(ROWS)})",
    )
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.payloads.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(ROWS))
    if unknown:
        parser.error(f"unknown row payloads: {', '.join(unknown)}")
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    repeats = 5 if args.quick else 15
    sizes = [int(part) for part in args.sizes.split(",") if part.strip()]
    gc.enable()
    print(
        f"Python {sys.version.split()[0]}; GC on (thresholds {gc.get_threshold()});"
        f" median of {repeats} repeats"
    )
    verdicts = Verdicts()
    if args.only != "rows":
        status_table(repeats, verdicts)
    if args.only != "status":
        rows_table({name: ROWS[name] for name in chosen}, sizes, repeats, verdicts)
    print("\n".join(verdicts.lines))
    total = sum(not line.startswith("info") for line in verdicts.lines)
    print(
        f"summary: {total - verdicts.missed} of {total} targets met"
        + (" (all held)" if not verdicts.missed else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
