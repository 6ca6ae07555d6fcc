"""The conformance kit, tested by mutation: the mistakes plugin authors make, each one made
for real in a copy of the example plugin (docs/examples/importbridge-acme), must fail the kit.

Each mutation is a text replacement in the plugin's source (it must match exactly once, so the
mutation cannot silently stop applying when the example changes); the copy is imported under
a fresh package name from a temporary directory. Each mutation names the kit check that must
catch it and what that check must say; the unmutated copy passes those same checks, so the
mutation, and nothing else, is what fails.
"""

from __future__ import annotations

import importlib
import itertools
import shutil
import traceback
from pathlib import Path
from typing import ClassVar

import attrs
import pytest

from importbridge import Provider
from importbridge.testing import ProviderConformance
from importbridge.testing.conformance import ENV_FUZZ_EXAMPLES

PLUGIN = Path(__file__).resolve().parents[2] / "docs/examples/importbridge-acme/src/importbridge_acme"
# The model refusing a job the plugin built is the kit failing the plugin too (with the model
# helper's checks merged, some mistakes are caught there first).
MODEL_REFUSED = "the model refused the job normalize built"

DATETIME = ("from typing import Any\n", "from datetime import datetime, timezone\nfrom typing import Any\n")
UPDATED = 'updated_at=load.datetime("updated", unit="s"),'
FROMTIMESTAMP = 'None if not load.has("updated") else datetime.fromtimestamp(load.count("updated"){tz})'
AT_MOST = 'rows.at_most("accepted", processed, "total", total, what="accepted + rejected")'
ROWS = '    rows = load.child("rows") or'
COUNTS = 'total, accepted, rejected = rows.count("total"), rows.count("accepted"), rows.count("rejected")'


@attrs.frozen
class Mistake:
    name: str
    check: str  # the kit's check that must fail
    says: tuple[str, ...]  # it must say one of these
    edits: tuple[tuple[str, str, str], ...]  # (file, old text, new text)


def _in(file: str, *pairs: tuple[str, str]) -> tuple[tuple[str, str, str], ...]:
    return tuple((file, old, new) for old, new in pairs)


MISTAKES = [
    Mistake(
        "maps the word straight to its state, without settle_state",
        "test_fuzz_recounted",
        ("the counts decide, not the word", MODEL_REFUSED),
        _in(
            "normalize.py",
            (
                "settle_state(word_state, succeeded=accepted, failed=rejected, job_error=error is not None)",
                "word_state",
            ),
        ),
    ),
    Mistake(
        "naive local timestamps from datetime.fromtimestamp",
        "test_samples_do_not_depend_on_the_host_time_zone",
        ("normalizes differently with the host's time zone", MODEL_REFUSED),
        _in(
            "normalize.py",
            DATETIME,
            (UPDATED, f"updated_at={FROMTIMESTAMP.format(tz='')},"),
        ),
    ),
    Mistake(
        "unknown counts reported as 0",
        "test_unknown_counts_stay_unknown",
        ("unknown is not zero",),
        _in(
            "normalize.py",
            (COUNTS, COUNTS.replace(")", ") or 0")),
        ),
    ),
    Mistake(
        "a bool read as a count",
        "test_fuzz_wrong_numbers",
        ("(a bool is not an integer)",),
        _in(
            "normalize.py",
            (COUNTS, COUNTS.replace('rows.count("rejected")', "_lenient_count(rows)")),
            (
                "\n# Valid payloads",
                "\ndef _lenient_count(rows: PayloadReader) -> int | None:\n"
                '    value = rows.get("rejected")\n'
                '    return int(value) if isinstance(value, int) and value >= 0 else rows.count("rejected")\n'
                "\n\n# Valid payloads",
            ),
        ),
    ),
    Mistake(
        "a missing key read with []",
        "test_fuzz_dropped_keys",
        ("normalize raised KeyError",),
        _in("normalize.py", ('id=load.identifier("id", required=True),', 'id=str(load.data["id"]),')),
    ),
    Mistake(
        "an overflow not caught (datetime.fromtimestamp of a huge number)",
        "test_fuzz_wrong_numbers",
        ("normalize raised OverflowError", "normalize raised ValueError", "normalize raised OSError"),
        _in(
            "normalize.py",
            DATETIME,
            (UPDATED, f"updated_at={FROMTIMESTAMP.format(tz=', tz=timezone.utc')},"),
        ),
    ),
    Mistake(
        "the caller's payload mutated (a default filled in)",
        "test_samples_are_not_mutated",
        ("normalize mutated sample",),
        _in(
            "normalize.py",
            (ROWS, '    load.data.setdefault("rows", {})  # type: ignore[attr-defined]\n' + ROWS),
        ),
    ),
    Mistake(
        "a ValueError instead of a PayloadError",
        "test_fuzz_recounted",
        ("normalize raised ValueError",),
        _in(
            "normalize.py",
            (
                AT_MOST,
                "if processed is not None and total is not None and processed > total:\n"
                '        raise ValueError("accepted + rejected exceeds total")',
            ),
        ),
    ),
    Mistake(
        "a wrong provider name in errors",
        "test_fuzz_non_objects_are_rejected",
        ("PayloadError names provider 'acme-loads', expected 'acme'",),
        _in("normalize.py", ("PayloadReader(NAME, payload)", 'PayloadReader("acme-loads", payload)')),
    ),
    Mistake(
        "a status word missing from the samples",
        "test_samples_cover_every_status_word",
        ("no sample payload has status word(s) ['ABORTED']",),
        _in("provider.py", ("return _normalize.SAMPLES", "return _normalize.SAMPLES[:-1]")),
    ),
    Mistake(
        "a nondeterministic job (now() as a default)",
        "test_samples_normalize",
        ("normalize is not deterministic",),
        _in("normalize.py", DATETIME, (UPDATED, UPDATED[:-1] + " or datetime.now(timezone.utc),")),
    ),
    Mistake(
        "a terminal word mapped to a non-terminal state",
        "test_samples_normalize",
        ("'DONE' is terminal but job.state is running",),
        _in(
            "provider.py",
            ("= _normalize.STATUS_WORDS", '= {**_normalize.STATUS_WORDS, "DONE": JobState.COMPLETE}'),
        )
        + _in("normalize.py", ('"DONE": JobState.COMPLETE,', '"DONE": JobState.RUNNING,')),
    ),
    Mistake(
        "rows numbered from 0",
        "test_fuzz_recounted",
        ("rows count from 1", MODEL_REFUSED),
        _in("normalize.py", ('row=entry.row_number("line"),', 'row=entry.count("line"),')),
    ),
    Mistake(
        "counts that exceed the total not checked",
        "test_fuzz_recounted",
        ("exceeds total", MODEL_REFUSED),
        _in("normalize.py", (f"    {AT_MOST}\n", "")),
    ),
]

_serial = itertools.count()


def load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mistake: Mistake | None) -> Provider:
    """A copy of the example plugin with ``mistake`` made, imported under a fresh name."""
    package = f"importbridge_acme_mutant_{next(_serial)}"
    shutil.copytree(PLUGIN, tmp_path / package)
    for file, old, new in mistake.edits if mistake else ():
        source = (tmp_path / package / file).read_text()
        assert source.count(old) == 1, f"{old!r} is not once in {file}"
        (tmp_path / package / file).write_text(source.replace(old, new))
    monkeypatch.syspath_prepend(str(tmp_path))
    provider: Provider = importlib.import_module(package).AcmeProvider()
    return provider


def run(provider: Provider, check: str, examples: int = 10_000) -> str | None:
    """Run one kit check; what it said if it failed, None if it passed."""

    class Kit(ProviderConformance):
        fuzz_examples: ClassVar[int] = examples

    Kit.provider = provider
    try:
        getattr(Kit(), check)()
    except BaseException as error:  # AssertionError, hypothesis' groups, pytest's Failed
        if isinstance(error, KeyboardInterrupt):
            raise
        return "".join(traceback.format_exception(error))
    return None


@pytest.fixture(autouse=True)
def _default_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_FUZZ_EXAMPLES, raising=False)


@pytest.mark.parametrize("mistake", MISTAKES, ids=lambda mistake: mistake.name)
def test_the_kit_fails_each_mistake(
    mistake: Mistake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the default budget, as plugins run the kit; a failing check stops at its first failure
    said = run(load(tmp_path, monkeypatch, mistake), mistake.check)
    assert said is not None, f"the kit passed a plugin that {mistake.name}"
    assert any(text in said for text in mistake.says), said[-3000:]


def test_the_unmutated_copy_passes_those_checks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    provider = load(tmp_path, monkeypatch, None)
    for check in sorted({mistake.check for mistake in MISTAKES}):
        said = run(provider, check, examples=3000)  # passing runs the whole budget: a lighter one
        assert said is None, said[-3000:]


def test_every_mistake_of_the_issue_is_made() -> None:
    # issue 10's list of plugin authors' mistakes, each of which the kit must fail
    made = " / ".join(mistake.name for mistake in MISTAKES)
    for words in (
        "without settle_state", "fromtimestamp", "unknown counts reported as 0", "bool read as a count",
        "missing key read with []", "overflow not caught", "payload mutated",
        "ValueError instead of a PayloadError", "wrong provider name", "status word missing from the samples",
        "nondeterministic",
    ):  # fmt: skip
        assert words in made
