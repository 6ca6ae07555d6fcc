"""``importbridge submit --checkpoint``: a damaged journal stops the command before anything is
sent (exit 5, one line naming the file and the line); ``--restart`` sets it aside and starts
over under the same request ids, so the sandbox's Micro replays rather than importing again."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from importbridge import sandbox

from .conftest import write_csv


def submitted(sb: sandbox.Sandbox) -> int:
    return int(sb.state()["micro"]["rows_submitted"])


def test_a_damaged_journal_stops_and_restart_imports_nothing_twice(
    cli: Any, tmp_path: Path, sb: sandbox.Sandbox
) -> None:
    records = write_csv(tmp_path / "orgs.csv", ["name", "domain"],
                        [[f"Journal {n}", f"journal{n}.example.com"] for n in range(30)])
    journal = tmp_path / "run.ckpt"
    args = ("submit", "micro", str(records), "--batch-size", "10", "--json", "--checkpoint", str(journal))
    first = cli(*args)
    assert first.code == 0, first.err
    assert len(first.json_lines()) == 3
    after_first = submitted(sb)

    lines = journal.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"chunk":0', b'"chunk":7')  # an edit the checksum catches
    journal.write_bytes(b"".join(lines))
    stopped = cli(*args)
    stopped.assert_one_line_error(5, str(journal), "line 3", "--restart")
    assert submitted(sb) == after_first

    restarted = cli(*args, "--restart")
    assert restarted.code == 0, restarted.err
    assert [job["id"] for job in restarted.json_lines()] == [job["id"] for job in first.json_lines()]
    assert submitted(sb) == after_first  # Micro recognised every batch's request id
    assert Path(f"{journal}.discarded").read_bytes() == b"".join(lines)


def test_restart_needs_a_checkpoint(cli: Any, tmp_path: Path) -> None:
    records = write_csv(tmp_path / "orgs.csv", ["name", "domain"], [["One", "one.example.com"]])
    cli("submit", "micro", str(records), "--restart").assert_one_line_error(2, "--checkpoint")
