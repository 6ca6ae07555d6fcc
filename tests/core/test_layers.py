"""The core follows the layers of DESIGN.md: nothing imports upward, and no import cycles.

``LAYERS`` is the one table of where each core module (or subpackage) of ``src/importbridge``
sits, top to bottom. A new module must be placed in it (the test says so); a module may import
its own layer and those below, never one above, and the imports between modules must not
form a cycle, within a layer either.

Imports are read from the source (``ast``), wherever they are written: at the top of a module
or inside a function (a deferred import is still a dependency). Imports under
``if TYPE_CHECKING:`` are not: they exist for annotations only and never run. The package's
own ``__init__`` is the public facade (it loads names lazily), so a module reading, say,
``__version__`` from it is not an import of anything else.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "src" / "importbridge"

#: top to bottom; each entry: (layer, the modules and subpackages in it)
LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("cli and integrations", frozenset({"__main__", "cli", "integrations", "testing", "sandbox", "demo"})),
    ("clients", frozenset({"client", "aio", "resuming", "checkpoint"})),
    (
        "waiting",
        frozenset(
            {"polling", "waitall", "aiowaiting", "fleet", "schedule", "tokens", "tokenkey", "ratelimit"}
        ),
    ),
    ("engines", frozenset({"transport", "syncengine", "aioengine", "httprules", "wire", "bodies", "budget"})),
    (
        "flows, provider, plugins",
        frozenset(
            {"flows", "provider", "plugins", "hookspecs", "markers", "lazymodule", "settings", "reading"}
        ),
    ),
    (
        "model",
        frozenset(
            {"model", "states", "convert", "errors", "jsontext", "longarrays", "_fastinit", "_deferred"}
        ),
    ),
)
LEVEL = {unit: level for level, (_, units) in enumerate(LAYERS) for unit in units}


def units() -> list[str]:
    """The core's modules and subpackages (the package's ``__init__`` aside)."""
    found = {path.stem for path in CORE.glob("*.py") if path.stem != "__init__"}
    found |= {path.parent.name for path in CORE.glob("*/__init__.py")}
    return sorted(found)


def _unit_of(path: Path) -> str:
    relative = path.relative_to(CORE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run (those under ``if TYPE_CHECKING:`` cannot)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from _runtime_imports(ast.Module(body=[child], type_ignores=[]))
        else:
            yield from _runtime_imports(node)


def _targets(path: Path, node: ast.Import | ast.ImportFrom) -> Iterator[str]:
    """The core units an import statement in ``path`` loads."""
    package = ["importbridge", *path.relative_to(CORE).parent.parts]
    if isinstance(node, ast.Import):
        modules = [alias.name for alias in node.names]
    elif node.level:
        base = package[: len(package) - node.level + 1]
        stem = ".".join([*base, node.module] if node.module else base)
        modules = [f"{stem}.{alias.name}" for alias in node.names]
    else:
        modules = [f"{node.module}.{alias.name}" for alias in node.names]
    for module in modules:
        parts = module.split(".")
        if parts[0] != "importbridge" or len(parts) < 2:
            continue
        unit = parts[1]
        if (CORE / f"{unit}.py").exists() or (CORE / unit / "__init__.py").exists():
            yield unit  # else a name of the facade (``from . import __version__``)


def imports() -> dict[str, set[str]]:
    """unit -> the other units it imports at run time."""
    graph: dict[str, set[str]] = {unit: set() for unit in units()}
    for path in sorted(CORE.rglob("*.py")):
        if path == CORE / "__init__.py":
            continue
        unit = _unit_of(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _runtime_imports(tree):
            graph[unit].update(target for target in _targets(path, node) if target != unit)
    return graph


def test_every_core_module_has_a_layer() -> None:
    unplaced = [unit for unit in units() if unit not in LEVEL]
    assert not unplaced, f"place these in tests/core/test_layers.py's LAYERS: {unplaced}"


def test_the_table_places_each_module_once() -> None:
    placed = [unit for _, group in LAYERS for unit in group]
    assert len(placed) == len(set(placed))


@pytest.mark.parametrize("unit", units())
def test_nothing_imports_upward(unit: str) -> None:
    if unit not in LEVEL:
        pytest.skip("not placed (see test_every_core_module_has_a_layer)")
    upward = sorted(
        f"{target} ({LAYERS[LEVEL[target]][0]})"
        for target in imports()[unit]
        if target in LEVEL and LEVEL[target] < LEVEL[unit]
    )
    assert not upward, f"{unit} ({LAYERS[LEVEL[unit]][0]}) imports a layer above it: {', '.join(upward)}"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected group of more than one unit (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_there_are_no_import_cycles() -> None:
    assert cycles(imports()) == []


def test_the_checks_can_fail() -> None:
    """The checker itself: it finds a cycle, an upward import and a deferred import."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from .client import X\n"
        "def f():\n    from . import polling\n"
    )
    found = [set(_targets(CORE / "transport.py", node)) for node in _runtime_imports(tree)]
    assert found == [set(), {"polling"}]
    assert LEVEL["polling"] < LEVEL["transport"]  # so transport importing polling is upward
