"""Inputs for the command-input fuzzers, and the one check every outcome must pass.

Inputs are what a user or a provider can hand the command: payload and record files as bytes
(byte-order marks, other encodings, NUL bytes, huge fields, ragged rows, duplicated headers,
deep nesting, lone surrogates), option values, and resume tokens, random or forged with a
correct checksum so their payload is decoded.

Each input is built from one ``random.Random(seed)`` that hypothesis seeds: tens of thousands of
examples must run in seconds, and hypothesis drawing every character of a file costs ten times
more than running the command on it. A failure names its seed, which rebuilds the same input.
"""

from __future__ import annotations

import base64
import codecs
import json
import random
import re
from typing import Any

from importbridge.cli.exits import ExitCode
from importbridge.tokens import _check

from .inprocess import Outcome

__all__ = [
    "CANARY",
    "ENCODINGS",
    "argv",
    "assert_documented",
    "json_value",
    "odd_text",
    "options",
    "payload_bytes",
    "record_bytes",
    "token",
]

#: a secret the fuzzed commands hold; it must never appear in anything they print
CANARY = "sk-canary-7f3a9c21e4b8"
#: what a command whose job did not end it may exit with (130 / 143 need a signal)
DOCUMENTED = frozenset(int(code) for code in ExitCode) - {ExitCode.INTERRUPTED, ExitCode.TERMINATED}
#: a progress line (stderr is no terminal here): "micro 42: running, 3/10 rows"
PROGRESS = re.compile(r"^[a-z0-9_-]+ .*: (pending|running|complete|partial|failed)(, .*)?$")
#: terminals the output goes to: ascii plays LANG=C or PYTHONIOENCODING=ascii
ENCODINGS = ("utf-8", "ascii", "latin-1")

#: what breaks printers and parsers: surrogates, NUL, escapes, line separators, BOMs, quotes
ODD = "\ud800\udfff\udc80\x00\x1b\r\n\x85\u2028\u2029\ufeff\u202e,;\"'{}[]\\=-é😀"
PLAIN = "abcxyz019 _.@"


def odd_text(r: random.Random, size: int = 12) -> str:
    """Short text, each character plain, odd, or any code point at all."""
    pick = (lambda: r.choice(PLAIN), lambda: r.choice(ODD), lambda: chr(r.randrange(0x110000)))
    return "".join(r.choice(pick)() for _ in range(r.randint(0, size)))


def _scalar(r: random.Random) -> Any:
    return r.choice((
        lambda: None, lambda: r.random() < 0.5, lambda: r.randint(-(2**70), 2**70),
        lambda: r.uniform(-1e308, 1e308), lambda: r.randint(-3, 3), lambda: odd_text(r),
    ))()  # fmt: skip


def json_value(r: random.Random, depth: int = 3) -> Any:
    """A JSON value: scalars, lists and objects, a few levels deep."""
    roll = r.random()
    if depth <= 0 or roll < 0.6:
        return _scalar(r)
    if roll < 0.8:
        return [json_value(r, depth - 1) for _ in range(r.randint(0, 4))]
    return {odd_text(r): json_value(r, depth - 1) for _ in range(r.randint(0, 4))}


def _replace_somewhere(r: random.Random, document: Any, value: Any) -> Any:
    """``document`` with one node, found by a random walk, replaced by ``value``."""
    if not isinstance(document, dict | list) or not document or r.random() < 0.25:
        return value
    if isinstance(document, dict):
        key = r.choice(list(document))
        return {**document, key: _replace_somewhere(r, document[key], value)}
    index = r.randrange(len(document))
    return [*document[:index], _replace_somewhere(r, document[index], value), *document[index + 1:]]


def _text_bytes(r: random.Random, text: str) -> bytes:
    """``text`` as a file might hold it: some encoding, maybe a BOM, maybe damaged."""
    codec = r.choice(("utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "latin-1", "cp1252"))
    errors = r.choice(("surrogatepass", "replace")) if codec.startswith("utf") else "replace"
    data = text.encode(codec, errors=errors)  # surrogatepass: a lone surrogate as (invalid) bytes
    damage = r.choice(("none", "none", "none", "truncate", "insert", "nul", "bom"))
    at = r.randint(0, len(data))
    if damage == "truncate":
        data = data[:at]
    elif damage == "insert":
        data = data[:at] + r.randbytes(r.randint(1, 4)) + data[at:]
    elif damage == "nul":
        data = data[:at] + b"\x00" + data[at:]
    elif damage == "bom":
        data = r.choice((codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF32_BE)) + data
    return data


def payload_bytes(r: random.Random, samples: list[Any]) -> bytes:
    """A provider's status payload, mutated at random places, then encoded (or plain noise)."""
    kind = r.choice(("mutated", "mutated", "mutated", "mutated", "nested", "noise"))
    if kind == "noise":
        return r.randbytes(r.randint(0, 64))
    document = r.choice(samples)
    for _ in range(r.randint(0, 3)):
        document = _replace_somewhere(r, document, json_value(r))
    if kind == "nested":
        depth = r.choice((50, 500, 990, 5_000, 100_000))
        document = _replace_somewhere(r, document, "@nest@")
        text = json.dumps(document).replace('"@nest@"', "[" * depth + "]" * depth, 1)
    else:
        text = json.dumps(document, ensure_ascii=r.random() < 0.5)
    return _text_bytes(r, text)


def _csv_cell(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text


def record_bytes(r: random.Random) -> bytes:
    """A records file: CSV (odd headers, ragged rows, huge fields), JSON lines or a JSON array."""
    kind = r.choice(("csv", "csv", "csv", "jsonl", "array", "noise"))
    if kind == "noise":
        return r.randbytes(r.randint(0, 64))
    if kind in {"jsonl", "array"}:
        records = [json_value(r) for _ in range(r.randint(0, 4))]
        if kind == "array":
            return _text_bytes(r, json.dumps(records))
        lines = [json.dumps(record, ensure_ascii=r.random() < 0.5) for record in records]
        return _text_bytes(r, "\n".join(lines))
    names = ("name", "domain", "email", "", " ")
    header = [r.choice(names) if r.random() < 0.6 else odd_text(r) for _ in range(r.randint(1, 5))]

    def cell() -> str:
        roll = r.random()
        return "x" * 200_000 if roll < 0.01 else r.choice(("1e400", "NaN", "")) if roll < 0.1 else odd_text(r)

    rows = [[cell() for _ in range(r.randint(0, len(header) + 1))] for _ in range(r.randint(0, 4))]
    quoted = r.random() < 0.7
    lines = [",".join(_csv_cell(c) if quoted else c for c in row) for row in [header, *rows]]
    return _text_bytes(r, r.choice(("\n", "\r\n")).join(lines))


def _forged(body: bytes) -> str:
    payload = base64.urlsafe_b64encode(body).decode().rstrip("=")
    return f"ib1.{payload}.{_check(payload)}"


def _token_body(r: random.Random) -> dict[str, Any]:
    """Close to a real token's body: its fields, each kept, dropped or given a hostile value."""
    fields = {
        "p": lambda: r.choice(("micro", "qobra", "talkvalue", "nosuch", "", odd_text(r))),
        "j": lambda: r.choice(("42", "x" * 100_000, odd_text(r), r.randint(0, 9))),
        # never "base_url": a forged origin would send the canary over the network (issue 9 item 1)
        "c": lambda: {r.choice(("team_id", "created_at", "expires_at", odd_text(r))): json_value(r, 1)
                      for _ in range(r.randint(0, 3))},
        "d": lambda: r.choice((None, r.uniform(0, 4e9), float("nan"), float("inf"), odd_text(r))),
        "s": lambda: r.choice(("pending", "running", "complete", "bogus", None)),
        "m": lambda: r.choice(({"a": r.randint(-2, 2)}, json_value(r))),
    }
    return {key: make() for key, make in fields.items() if r.random() < 0.8}


def token(r: random.Random) -> str:
    """A resume token: forged with a right checksum (hostile content), mangled, or noise."""
    kind = r.choice(("forged", "forged", "forged", "deep", "raw", "mangled", "noise"))
    if kind == "forged":
        return _forged(json.dumps(_token_body(r)).encode("utf-8", "surrogatepass"))
    if kind == "deep":
        depth = r.choice((10, 900, 5_000, 200_000))
        return _forged(("[" * depth + "]" * depth).encode())
    if kind == "raw":
        return _forged(r.randbytes(r.randint(0, 40)))
    if kind == "mangled":
        text = _forged(json.dumps(_token_body(r)).encode("utf-8", "surrogatepass"))
        at = r.randint(0, len(text))
        return text[:at] + odd_text(r, 3) + text[at + 1:]
    return r.choice(("ib1.", "ib2.AAAA.AAAAAAAA", "ib", odd_text(r)))


#: words a command line is made of; random text too (argv can carry surrogate-escaped bytes)
WORDS = (
    "providers", "normalize", "get", "wait", "submit", "failed-rows", "resume", "micro", "qobra",
    "talkvalue", "nosuch", "-", "--json", "--timeout", "nan", "-1", "1e400", "0", "--wait", "--format",
    "csv", "jsonl", "--batch-size", "--encoding", "utf-16", "-o", "a=1", "=", "--", "--x", "--x=",
    "--help", "--version", "42",
)  # fmt: skip


def argv(r: random.Random, count: int = 6) -> list[str]:
    return [r.choice(WORDS) if r.random() < 0.7 else odd_text(r) for _ in range(r.randint(0, count))]


def options(r: random.Random) -> list[str]:
    """``submit``'s options and provider options, with values good and bad."""
    choices = (
        lambda: ["-o", r.choice(("object_type=contact", "table=deals", "source_id=7", "=x", "a.b=1", "a=1",
                                 odd_text(r)))],
        lambda: ["--encoding", r.choice(("utf-8", "utf-16", "latin-1", "nope", "hex"))],
        lambda: [r.choice(("--timeout", "--batch-size")), r.choice(("1", "0", "-3", "nan", "1e400"))],
        lambda: [r.choice(("--wait", "--json", "--mode", "--table", "--x-y")), *argv(r, 1)],
    )
    return [word for _ in range(r.randint(0, 3)) for word in r.choice(choices)()]


def assert_documented(outcome: Outcome, *, as_json: bool = False) -> None:
    """A documented exit status, stderr made of our one-line messages, no canary, valid JSON."""
    assert outcome.code in DOCUMENTED, (outcome.code, outcome.err[-500:])
    assert "Traceback" not in outcome.err
    assert "internal error" not in outcome.err, outcome.err
    assert CANARY not in outcome.out
    assert CANARY not in outcome.err
    for line in outcome.err.split("\n")[:-1]:  # a message is one line, however odd its text
        assert line.startswith("importbridge") or PROGRESS.match(line), outcome.err[-500:]
        assert "\x1b" not in line
    if outcome.code in {ExitCode.USAGE, ExitCode.ERROR}:
        assert "error: " in outcome.err, outcome.err[-500:]
    if as_json and outcome.code in {ExitCode.COMPLETE, ExitCode.FAILED, ExitCode.PARTIAL}:
        for line in outcome.out.splitlines():  # every kind of line break: one document a line
            json.loads(line)
