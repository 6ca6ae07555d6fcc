"""How fast is ``importbridge.normalize`` against the floor (``json.loads``) and Micro's SDK?

Run: ``python benchmarks/normalize.py`` (add ``--quick`` for fewer repeats).

For each provider it normalizes, from bytes, a status-only payload and a payload carrying
10,000 row results (Micro sync ``results``, Qobra ``parsing_error_details``, TalkValue
``failedRows``), and in the same run times ``json.loads`` of the same bytes. For Micro it also
times the official SDK's parse, ``ImportGetResponse.model_validate(json.loads(b))``.
Each figure is the best (and median) of several ``timeit`` repeats, per call.

Targets: status-only normalize within 3x of ``json.loads``; the 10,000-row Micro normalize
faster than the SDK's parse.
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import timeit
from collections.abc import Callable
from typing import Any

import importbridge

ROWS = 10_000


def micro_status() -> dict[str, Any]:
    return {
        "job_id": "imp_01HZX3",
        "status": "processing",
        "total": 5000,
        "processed": 1200,
        "succeeded": 1190,
        "failed": 10,
        "created_at": "2026-05-15T10:42:01.250Z",
        "updated_at": "2026-05-15T10:42:31.500Z",
        "expires_at": "2026-05-22T10:42:01.250Z",
    }


def micro_rows() -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    for n in range(ROWS):
        if n % 10 == 9:
            error = {"code": "invalid_email", "message": "email is not an address"}
            results.append({"id": None, "created": False, "existing": False, "error": error})
        else:
            record = f"7f000001-0000-4000-8000-{n:012d}"
            results.append({"id": record, "created": n % 3 != 0, "existing": n % 3 == 0})
    return {
        "job_id": None,
        "status": "complete",
        "total": ROWS,
        "processed": ROWS,
        "succeeded": ROWS - ROWS // 10,
        "failed": ROWS // 10,
        "results": results,
        "created_at": "2026-05-15T10:42:01.250Z",
        "updated_at": "2026-05-15T10:42:09.000Z",
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


def qobra_status() -> dict[str, Any]:
    return {
        "data_import": {
            "id": "665f1b2c3d4e5f6a7b8c9d02",
            "created_at": "2024-06-25T09:58:32Z",
            "launched_at": "2024-06-25T10:03:27Z",
            "finished_at": None,
            "status": "started",
            "progress": "40",
            "error": False,
            "data_tables_details": [_qobra_table("companies", None)],
        }
    }


def qobra_rows() -> dict[str, Any]:
    details = [
        {
            "line_number": n,
            "row": {"id": str(n), "name": f"deal {n}", "amount": "AAAAA"},
            "details": "ValueError: could not convert string to float: 'AAAAA'",
        }
        for n in range(1, ROWS + 1)
    ]
    error = {"title": "ParsingError", "description": "Can't parse amounts", "parsing_error_details": details}
    body = qobra_status()
    body["data_import"].update(
        status="finished", progress=100, error=True, finished_at="2024-06-25T10:14:12Z"
    )
    body["data_import"]["data_tables_details"] = [
        _qobra_table("companies", 122),
        _qobra_table("opportunities", None, error),
    ]
    body["data_import"]["data_tables_details"][0].update(status="finished", progress="100")
    return body


def talkvalue_status() -> dict[str, Any]:
    return {
        "id": 4219,
        "status": "RUNNING",
        "mode": "SKIP",
        "fileName": "leads.csv",
        "totalRows": 30000,
        "processedRows": 12000,
        "newCount": 8000,
        "updatedCount": 0,
        "duplicatedCount": 300,
        "skipCount": 3500,
        "failedCount": 200,
        "failedRows": [],
        "processStartedAt": "2026-05-15T11:00:02Z",
    }


def talkvalue_rows() -> dict[str, Any]:
    body = talkvalue_status()
    body.update(
        status="PARTIAL_SUCCESS",
        processedRows=30000,
        newCount=16000,
        skipCount=3700,
        failedCount=ROWS,
        completedAt="2026-05-15T11:09:27Z",
        failedRows=[
            {
                "rowNum": n + 2,
                "errorCode": "INVALID_EMAIL",
                "errorMessage": "Email could not be parsed",
                "rawValue": f"user{n}@@example.com",
            }
            for n in range(ROWS)
        ],
    )
    return body


def measure(funcs: dict[str, Callable[[], object]], repeats: int) -> dict[str, tuple[float, float]]:
    """name -> (best, median) seconds per call.

    The contenders are timed in turns within each repeat, so a noisy neighbour slows them
    alike; each repeat runs about 20 ms of calls (counts calibrated once per contender).
    """
    timers = {name: timeit.Timer(func) for name, func in funcs.items()}
    numbers = {}
    for name, timer in timers.items():
        number, elapsed = timer.autorange()
        numbers[name] = max(1, int(number * 0.02 / max(elapsed, 1e-9)))
    samples: dict[str, list[float]] = {name: [] for name in funcs}
    for _ in range(repeats):
        for name, timer in timers.items():
            samples[name].append(timer.timeit(numbers[name]) / numbers[name])
    return {name: (min(times), statistics.median(times)) for name, times in samples.items()}


def _fmt(seconds: float) -> str:
    return f"{seconds * 1e6:10.1f} us" if seconds < 1e-3 else f"{seconds * 1e3:10.2f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    repeats = 5 if args.quick else 21
    sdk = _sdk_parser()

    cases = [
        ("micro", "status-only", micro_status()),
        ("micro", f"{ROWS:,} results", micro_rows()),
        ("qobra", "status-only", qobra_status()),
        ("qobra", f"{ROWS:,} parsing errors", qobra_rows()),
        ("talkvalue", "status-only", talkvalue_status()),
        ("talkvalue", f"{ROWS:,} failedRows", talkvalue_rows()),
    ]
    print(f"best of {repeats} repeats per call (median in brackets); ratio = normalize / json.loads")
    print(f"{'provider':<10} {'payload':<22} {'bytes':>9} {'json.loads':>13} {'normalize':>13} {'ratio':>7}")
    verdicts: list[str] = []
    sdk_line = ""
    for provider, label, payload in cases:
        data = json.dumps(payload).encode()
        importbridge.normalize(provider, data)  # warm caches and imports outside the timing
        funcs: dict[str, Callable[[], object]] = {
            "floor": functools.partial(json.loads, data),
            "ours": functools.partial(importbridge.normalize, provider, data),
        }
        with_sdk = False
        if provider == "micro" and label != "status-only" and sdk is not None:
            funcs["sdk"] = functools.partial(_sdk_parse, sdk, data)
            with_sdk = True
        timing = measure(funcs, repeats)
        (floor, floor_median), (ours, ours_median) = timing["floor"], timing["ours"]
        ratio = ours / floor
        print(
            f"{provider:<10} {label:<22} {len(data):>9,} {_fmt(floor)} {_fmt(ours)} {ratio:>6.2f}x"
            f"   ({_fmt(floor_median).strip()} / {_fmt(ours_median).strip()})"
        )
        if label == "status-only":
            verdicts.append(_verdict(f"{provider} status-only within 3x of json.loads", ratio <= 3.0, ratio))
        if with_sdk:
            best, median = timing["sdk"]
            sdk_line = (
                f"{'micro':<10} {'SDK model_validate':<22} {len(data):>9,} {'':>13} {_fmt(best)}"
                f"          ({_fmt(median).strip()});  normalize / SDK = {ours / best:.2f}x"
                f" (medians {ours_median / median:.2f}x)"
            )
            verdicts.append(
                _verdict(f"micro {ROWS:,}-row normalize faster than the SDK parse", ours < best, ours / best)
            )
    if sdk_line:
        print(sdk_line)
    elif sdk is None:
        print("micro SDK (micro-so) not installed: pip install 'importbridge[bench]' to compare")
    print()
    print("\n".join(verdicts))
    return 0


def _sdk_parse(parse: Callable[[Any], object], data: bytes) -> object:
    return parse(json.loads(data))


def _sdk_parser() -> Callable[[Any], object] | None:
    """The official Micro SDK's model parse, if micro-so is installed."""
    try:
        from micro_so.types.prism import ImportGetResponse
    except ImportError:
        return None
    parse: Callable[[Any], object] = ImportGetResponse.model_validate
    return parse


def _verdict(target: str, met: bool, ratio: float) -> str:
    return f"{'met   ' if met else 'MISSED'} {target} ({ratio:.2f}x)"


if __name__ == "__main__":
    sys.exit(main())
