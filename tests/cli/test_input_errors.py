"""What users and providers can hand the command, and how it answers: never "internal error".

Record files (BOMs, encodings, CSV headers), payloads with odd strings printed to terminals that
cannot show them, and resume tokens built to hurt the decoder.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from importbridge.tokens import _check

from .conftest import clean_env, run_cli
from .inprocess import Outcome, environment, run_main

#: the settings are missing, so a file that reads well ends in the configuration error (5)
#: before anything could be sent: exit 5 here means "the file was accepted"
READ_WELL = 5
ORGS = "name,domain\nAcme,acme.example\nGlobex,globex.example\n"


def submit(path: Path, *extra: str) -> Outcome:
    with environment():
        return run_main(["submit", "micro", str(path), *extra])


def assert_refused(outcome: Outcome, *words: str) -> None:
    """Exit 2 with one line on stderr naming ``words``, and no crash."""
    assert outcome.code == 2, (outcome.code, outcome.err)
    line = outcome.err.strip()
    assert "\n" not in line, outcome.err
    assert line.startswith("importbridge: error: ") or line.startswith("importbridge submit: error: ")
    assert "internal error" not in line
    for word in words:
        assert word in line, (word, line)


def records_read(path: Path, *extra: str) -> list[dict[str, str]]:
    """The records the command would send from ``path`` (read as the command reads them)."""
    from importbridge.cli.inputs import read_records

    outcome = submit(path, *extra)
    assert outcome.code == READ_WELL, outcome.err
    assert "missing setting" in outcome.err
    codec = extra[extra.index("--encoding") + 1] if "--encoding" in extra else "utf-8"
    return read_records(str(path), codec)


def test_a_utf8_bom_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(b"\xef\xbb\xbf" + ORGS.encode())
    assert records_read(path) == [
        {"name": "Acme", "domain": "acme.example"},
        {"name": "Globex", "domain": "globex.example"},
    ]


def test_a_bom_before_json_lines_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"name": "Acme"}\n')
    assert records_read(path) == [{"name": "Acme"}]


def test_a_duplicated_header_is_refused_naming_column_and_line(tmp_path: Path) -> None:
    path = tmp_path / "dup.csv"
    path.write_text("\n\nname,domain,name\nA,a.example,B\n", encoding="utf-8")
    assert_refused(submit(path), "dup.csv line 3", "'name'", "columns 1 and 3")


@pytest.mark.parametrize("header", ["name,,domain", "name,domain,", "name, ,domain"])
def test_an_empty_header_cell_is_refused(tmp_path: Path, header: str) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(f"{header}\nA,a.example,x\n", encoding="utf-8")
    assert_refused(submit(path), "empty.csv line 1", "is empty")


def test_a_row_longer_than_the_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ragged.csv"
    path.write_text("name,domain\nA,a.example\nB,b.example,extra\n", encoding="utf-8")
    assert_refused(submit(path), "ragged.csv line 3", "3 cells", "2 columns")


def test_a_short_row_leaves_its_last_columns_out(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text("name,domain\nA\n", encoding="utf-8")
    assert records_read(path) == [{"name": "A"}]


def test_nul_bytes_and_quoted_line_breaks_are_data(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_bytes(b'name,notes\nA\x00B,"two\nlines"\n')
    assert records_read(path) == [{"name": "A\x00B", "notes": "two\nlines"}]


def test_non_utf8_names_the_line_byte_and_offset(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("name,city\nA,Köln\n".encode("latin-1"))
    assert_refused(submit(path), "latin.csv line 2", "not utf-8 text", "byte 0xf6 at offset 13", "--encoding")


def test_encoding_reads_other_codecs(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("name,city\nA,Köln\n".encode("cp1252"))
    assert records_read(path, "--encoding", "cp1252") == [{"name": "A", "city": "Köln"}]


def test_utf16_is_recognised_by_its_bom(tmp_path: Path) -> None:
    path = tmp_path / "unicode.csv"
    path.write_bytes(ORGS.encode("utf-16"))  # what Excel's "Unicode text" writes
    assert_refused(submit(path), "UTF-16 byte-order mark", "--encoding utf-16")
    assert records_read(path, "--encoding", "utf-16")[0] == {"name": "Acme", "domain": "acme.example"}


@pytest.mark.parametrize("codec", ["nope", "rot13", "hex"])
def test_an_encoding_that_is_not_a_text_codec_is_a_usage_error(tmp_path: Path, codec: str) -> None:
    path = tmp_path / "orgs.csv"
    path.write_text(ORGS, encoding="utf-8")
    assert_refused(submit(path, "--encoding", codec), "--encoding", repr(codec))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('{"name": NaN}\n', ["line 1", "NaN is not a JSON value"]),
        ('{"n": 1e999}\n', ["line 1", "out of range"]),
        ("[" * 5000 + "]" * 5000, ["nested deeper than 100 levels"]),
        ('{"name": "A"}\n[1]\n', ["line 2", "list, not a JSON object"]),
        ('{"a": "x\u2028y"}\n{"oops"\n', ["line 2", "not JSON"]),  # U+2028 does not end a line
    ],
)
def test_json_records_are_read_strictly(tmp_path: Path, text: str, words: list[str]) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text(text, encoding="utf-8")
    assert_refused(submit(path), "records.jsonl", *words)


def test_an_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    assert_refused(submit(tmp_path / "missing.csv"), "cannot read", "missing.csv")


def test_stdin_is_decoded_like_a_file() -> None:
    with environment():
        outcome = run_main(["submit", "micro", "-"], stdin=b"name\n\xff\n")
    assert_refused(outcome, "stdin line 2", "byte 0xff at offset 5")


# -- output: text no terminal can show must not crash it -----------------------------------------

ODD_PAYLOAD = {
    "job_id": "j\ud800",
    "status": "complete",
    "total": 2,
    "results": [
        {"created": True, "id": "rec-\udfff\x00"},
        {"error": {"code": "\ud83d", "message": "lone \udc80 surrogate, Caf\u00e9 \U0001f600 \u202e"}},
    ],
}


@pytest.mark.parametrize("encoding", ["utf-8", "ascii", "latin-1"])
@pytest.mark.parametrize("as_json", [True, False])
def test_odd_strings_print_in_any_terminal_encoding(encoding: str, as_json: bool) -> None:
    payload = json.dumps(ODD_PAYLOAD).encode()  # \ud800 as a JSON escape: valid JSON text
    with environment():
        outcome = run_main(["normalize", "micro", *(["--json"] if as_json else [])],
                           stdin=payload, encoding=encoding)
    assert outcome.code == 3, outcome.err  # partial: one row landed, one was rejected
    assert outcome.err == ""
    if as_json:
        document = json.loads(outcome.out)
        assert document["id"] == "j\ud800"  # the same string, escaped where it had to be
        assert document["rows"][1]["error"] == ODD_PAYLOAD["results"][1]["error"]  # type: ignore[index]
    else:
        assert "j\\ud800" in outcome.out


@pytest.mark.parametrize(
    "env", [{"PYTHONIOENCODING": "ascii"}, {"LANG": "C", "LC_ALL": "C"}]  # both decode as UTF-8 here
)
def test_a_real_terminal_without_utf8(tmp_path: Path, env: dict[str, str]) -> None:
    path = tmp_path / "payload.json"
    path.write_text(json.dumps(ODD_PAYLOAD), encoding="utf-8")
    for args in (["--json"], []):
        result = run_cli("normalize", "micro", str(path), *args, env=clean_env(env))
        assert result.code == 3, result.err
        assert "Traceback" not in result.err
        assert "error" not in result.err
    printed = run_cli("normalize", "micro", str(path), "--json", env=clean_env(env)).out
    assert json.loads(printed)["id"] == "j\ud800"


# -- tokens ---------------------------------------------------------------------------------------


def forged(body: str) -> str:
    """A token whose checksum is right, so its payload is decoded (the check is public)."""
    payload = base64.urlsafe_b64encode(body.encode("utf-8", "surrogatepass")).decode().rstrip("=")
    return f"ib1.{payload}.{_check(payload)}"


@pytest.mark.parametrize(
    "token",
    [
        forged("[" * 100_000),
        forged("{" + '"a":{' * 50_000),
        forged('{"p": "micro", "j": "' + "x" * 1_000_000 + '"}'),
        "ib1." + "A" * 1_000_000 + ".AAAAAAAA",
        forged('{"p": "micro", "j": "1", "c": {}, "m": {"a": NaN}}'),
        forged("\ud800"),
        "ib1.\ud800.AAAAAAAA",
    ],
    ids=["deep-array", "deep-object", "long-job-id", "long-garbage", "nan", "surrogate", "surrogate-shape"],
)
@pytest.mark.parametrize("command", ["resume", "wait"])
def test_a_hostile_token_is_a_token_error(token: str, command: str) -> None:
    args = ["resume", token] if command == "resume" else ["wait", "micro", token]
    with environment({"MICRO_API_KEY": "sk-canary-token", "MICRO_TEAM_ID": "t",
                      "MICRO_BASE_URL": "http://127.0.0.1:9"}):  # nothing listens on the discard port
        outcome = run_main(args)
    assert outcome.code == 2, outcome.err
    assert outcome.err.startswith(("importbridge: error: ", f"importbridge {command}: error: "))
    assert "internal error" not in outcome.err
    assert "sk-canary-token" not in outcome.out + outcome.err
    assert len(outcome.err) < 400  # a message, not the token echoed back
