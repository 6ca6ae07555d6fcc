"""``importbridge.lazy_module``: imported on first read, then the module's own namespace."""

from __future__ import annotations

import sys
import textwrap
import threading
from pathlib import Path

import pytest

import importbridge


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A throwaway package ``lazypkg`` whose ``heavy`` module counts its imports."""
    root = tmp_path / "lazypkg"
    root.mkdir()
    (root / "__init__.py").write_text("loads = []\n")
    (root / "heavy.py").write_text(
        textwrap.dedent(
            """
            from . import loads
            loads.append(1)
            VALUE = 42
            def double(x):
                return 2 * x
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "lazypkg"
    for name in [name for name in sys.modules if name.startswith("lazypkg")]:
        del sys.modules[name]


def test_nothing_is_imported_until_an_attribute_is_read(package: str) -> None:
    heavy = importbridge.lazy_module(".heavy", package)
    assert f"{package}.heavy" not in sys.modules
    assert "not loaded yet" in repr(heavy)
    assert heavy.double(21) == 42
    module = sys.modules[f"{package}.heavy"]
    assert heavy.VALUE == 42
    assert sys.modules[package].loads == [1]  # imported once
    assert heavy.__dict__ is module.__dict__  # reads now go to the module's own namespace
    assert "loaded on first use" in repr(heavy)


def test_later_bindings_of_the_module_are_seen(package: str) -> None:
    heavy = importbridge.lazy_module(f"{package}.heavy")
    assert heavy.VALUE == 42
    sys.modules[f"{package}.heavy"].VALUE = 7
    assert heavy.VALUE == 7


def test_a_missing_attribute_is_an_attribute_error_naming_the_module(package: str) -> None:
    heavy = importbridge.lazy_module(".heavy", package)
    with pytest.raises(AttributeError, match="nothing_here"):
        heavy.nothing_here  # noqa: B018
    with pytest.raises(AttributeError, match=r"lazypkg\.heavy"):
        heavy.still_nothing  # noqa: B018


def test_a_name_that_does_not_import_fails_at_first_read(package: str) -> None:
    missing = importbridge.lazy_module(".no_such_module", package)
    with pytest.raises(ModuleNotFoundError, match="no_such_module"):
        missing.anything  # noqa: B018


def test_threads_reading_first_get_one_module(package: str) -> None:
    heavy = importbridge.lazy_module(".heavy", package)
    barrier = threading.Barrier(8)
    seen: list[int] = []

    def read() -> None:
        barrier.wait()
        seen.append(heavy.double(1))

    threads = [threading.Thread(target=read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == [2] * 8
    assert sys.modules[package].loads == [1]
