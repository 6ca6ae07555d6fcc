"""Command-input fuzzer, networked: what reaches a provider, against one sandbox per module.

Record files and options to ``submit``, job ids to ``get`` / ``failed-rows``, tokens to
``resume`` / ``wait``, run in-process (see ``inprocess``) against a loopback sandbox whose
credentials are the canary: the secret must never be printed, and every outcome must be a
documented exit status with a one-line message of our own. Each run makes real HTTP requests,
so the budget is a few hundred per provider; the offline fuzzer covers parsing by the ten
thousand.
"""

from __future__ import annotations

import csv
import io
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import importbridge
from importbridge import sandbox

from .fuzzing import ENCODINGS, assert_documented, odd_text, options, record_bytes, token
from .inprocess import Outcome, environment, run_main

PROVIDERS = ("micro", "qobra", "talkvalue")
EXAMPLES = 300  # per provider
#: options a provider needs before it sends anything (the rest are random)
REQUIRED = {"micro": [], "qobra": ["--table", "deals", "--debounce", "0"], "talkvalue": ["--source-id", "7"]}
FILE_NAMES = ("records.csv", "records.jsonl", "records.json", "records.txt")


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[sandbox.Sandbox, Path, list[str]]]:
    """The sandbox, a folder for record files, and the secrets the command holds."""
    memory = Path("/dev/shm")
    with sandbox.run(seed=3, speed=10_000) as sb, \
            tempfile.TemporaryDirectory(dir=memory if memory.is_dir() else None) as folder, \
            environment(dict(sb.env)):
        secrets = [
            sb.env[setting.env]
            for name in PROVIDERS
            for setting in importbridge.get_provider(name).settings
            if setting.secret and setting.env in sb.env
        ]
        yield sb, Path(folder), secrets


def well_formed(r: random.Random) -> bytes:
    """A CSV the parser takes, so the odd values reach the provider: good header, odd cells."""
    header = ["name", "domain", "email", "deal", "amount"][: r.randint(1, 5)]
    rows = [[odd_text(r) for _ in header] for _ in range(r.randint(1, 6))]
    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    errors = "surrogatepass" if r.random() < 0.1 else "replace"  # surrogatepass: refused, named
    return buffer.getvalue().encode("utf-8", errors)


def submit_args(r: random.Random, provider: str) -> list[str]:
    generated = [word for word in options(r) if word != "--wait"] if r.random() < 0.3 else []
    required = REQUIRED[provider] if r.random() < 0.8 else []
    wait = ["--wait", "--timeout", "0"] if r.random() < 0.2 else []  # a wait that ends at once (4)
    return [*required, *generated, *wait]


def run(r: random.Random, provider: str, folder: Path, encoding: str) -> tuple[list[str], Outcome]:
    kind = r.choice(("submit", "submit", "submit", "get", "failed-rows", "resume", "wait"))
    if kind == "submit":
        name = r.choice((*FILE_NAMES, "-"))
        data = well_formed(r) if r.random() < 0.6 else record_bytes(r)
        name = "records.csv" if data and r.random() < 0.6 else name
        if name != "-":
            (folder / name).write_bytes(data)
        args = ["submit", provider, name if name == "-" else str(folder / name), *submit_args(r, provider)]
        return args, run_main(args, stdin=data, encoding=encoding)
    if kind in {"get", "failed-rows"}:
        args = [kind, provider, r.choice(("1", "42", "../admin", "a/b?c#d", "%2e%2e", odd_text(r)))]
    elif kind == "resume":
        args = ["resume", token(r)]
    else:
        args = ["wait", provider, token(r), "--timeout", "0"]
    args += r.choice(([], ["--json"]))
    return args, run_main(args, encoding=encoding)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_nothing_sent_or_answered_crashes_the_command(
    provider: str, served: tuple[sandbox.Sandbox, Path, list[str]]
) -> None:
    _, folder, secrets = served

    @settings(max_examples=EXAMPLES, database=None)
    @given(seed=st.integers(0, 2**32 - 1), encoding=st.sampled_from(ENCODINGS))
    def check(seed: int, encoding: str) -> None:
        counted.append(seed)
        args, outcome = run(random.Random(seed), provider, folder, encoding)
        assert_documented(outcome, as_json="--json" in args and "--help" not in args)
        for secret in secrets:
            assert secret not in outcome.out + outcome.err

    counted: list[int] = []
    check()
    assert len(counted) >= EXAMPLES
