"""The house rules that keep providers plugins: checked on the source, not hoped for.

1. Provider packages (``providers/*``) use only importbridge's public API: the modules
   ``importbridge``, ``importbridge.sandbox`` and ``importbridge.testing``, and of each only
   the names its ``__all__`` lists, whether imported (``from importbridge import X``) or reached
   as an attribute (``importbridge.X``). They never import another provider's package.
2. The core (``src/importbridge``) never names a provider: no identifier, attribute, argument or
   string constant in its code contains the word micro, qobra or talkvalue. Docstrings and
   comments may (they explain with examples); words are split on case changes, ``_``, ``-``,
   ``/`` and so on, so ``MICRO_API_KEY`` counts and ``microsecond`` does not.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROVIDERS = ROOT / "providers"
CORE = ROOT / "src" / "importbridge"
PUBLIC_MODULES = ("importbridge", "importbridge.flows", "importbridge.sandbox", "importbridge.testing")
PROVIDER_WORDS = {"micro", "qobra", "talkvalue"}


def _public_names(module: str) -> set[str]:
    names = set(getattr(importlib.import_module(module), "__all__", ()))
    # a public subpackage is itself reachable as an attribute of its parent
    return names | {child.rsplit(".", 1)[1] for child in PUBLIC_MODULES if child.startswith(module + ".")}


def _provider_files() -> list[Path]:
    return sorted(PROVIDERS.glob("importbridge_*/**/*.py"))


def _is_ours(module: str) -> bool:
    return module == "importbridge" or module.startswith("importbridge.")


def public_api_violations(path: Path, providers: Path = PROVIDERS) -> Iterator[str]:
    """Every use of importbridge that is not public API, and every import of another provider."""
    own_package = path.relative_to(providers).parts[0]
    tree = ast.parse(path.read_text(), filename=str(path))
    aliases: dict[str, str] = {}  # local name -> public module it stands for
    for node in ast.walk(tree):
        where = f"{path.name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("importbridge_") and alias.name.split(".")[0] != own_package:
                    yield f"{where}: imports another provider's package {alias.name}"
                if not _is_ours(alias.name):
                    continue
                if alias.name not in PUBLIC_MODULES:
                    yield f"{where}: imports {alias.name}, which is not public API"
                elif alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    aliases["importbridge"] = "importbridge"
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            if node.module.startswith("importbridge_") and node.module.split(".")[0] != own_package:
                yield f"{where}: imports from another provider's package {node.module}"
            if not _is_ours(node.module):
                continue
            if node.module not in PUBLIC_MODULES:
                yield f"{where}: imports from {node.module}, which is not public API"
                continue
            public = _public_names(node.module)
            for alias in node.names:
                if alias.name not in public:
                    yield f"{where}: {node.module}.{alias.name} is not in its __all__"
                elif f"{node.module}.{alias.name}" in PUBLIC_MODULES:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    yield from _attribute_violations(tree, aliases, path)


def _attribute_violations(tree: ast.AST, aliases: dict[str, str], path: Path) -> Iterator[str]:
    """``importbridge.X`` (or ``ib.sandbox.Y``) must reach only names in the module's __all__."""
    inner = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or id(node) in inner:
            continue  # only whole chains: ``a.b.c``, not its part ``a.b`` again
        chain: list[str] = []
        base: ast.expr = node
        while isinstance(base, ast.Attribute):
            chain.insert(0, base.attr)
            base = base.value
        if not isinstance(base, ast.Name) or base.id not in aliases:
            continue
        module = aliases[base.id]
        for attr in chain:
            if module not in PUBLIC_MODULES:
                break  # past the modules: attributes of a public object are its own business
            if attr not in _public_names(module):
                yield f"{path.name}:{node.lineno}: {module}.{attr} is not in its __all__"
                break
            module = f"{module}.{attr}"


def test_provider_packages_exist() -> None:
    packages = {path.relative_to(PROVIDERS).parts[0] for path in _provider_files()}
    assert {"importbridge_micro", "importbridge_qobra", "importbridge_talkvalue"} <= packages


@pytest.mark.parametrize("path", _provider_files(), ids=lambda path: str(path.relative_to(PROVIDERS)))
def test_providers_use_only_the_public_api(path: Path) -> None:
    assert list(public_api_violations(path)) == []


def _words(text: str) -> set[str]:
    """Words of ``text``: its alphanumeric runs, whole and split at camelCase humps."""
    runs = [run for run in re.split(r"[^A-Za-z0-9]+", text) if run]
    humps = [hump for run in runs for hump in re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", run).split()]
    return {word.lower() for word in runs + humps}


def _docstring_nodes(tree: ast.AST) -> set[int]:
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def _code_texts(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, text) for every identifier and string constant in code (docstrings excluded)."""
    docstrings = _docstring_nodes(tree)
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Name):
            yield line, node.id
        elif isinstance(node, ast.Attribute):
            yield line, node.attr
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield line, node.name
        elif isinstance(node, (ast.arg, ast.keyword)) and node.arg:
            yield line, node.arg
        elif isinstance(node, ast.alias):
            yield line, node.name
            if node.asname:
                yield line, node.asname
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield line, node.module
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield line, node.value


def provider_mentions(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return [
        f"{path.name}:{line}: {text!r}" for line, text in _code_texts(tree) if _words(text) & PROVIDER_WORDS
    ]


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda path: str(path.relative_to(CORE)))
def test_the_core_never_names_a_provider(path: Path) -> None:
    assert provider_mentions(path) == []


# -- the checks themselves catch what they are for ------------------------------------------------


def test_the_public_api_check_catches_internals(tmp_path: Path) -> None:
    package = tmp_path / "importbridge_fake"
    package.mkdir()
    source = package / "bad.py"
    source.write_text(
        "import importbridge\n"
        "import importbridge.model\n"
        "from importbridge import ImportJob, _LAZY\n"
        "from importbridge.convert import to_dict\n"
        "from importbridge_micro import normalize\n"
        "from . import sibling\n"
        "importbridge.ImportJob\n"
        "importbridge.plugins.registry()\n"
        "import importbridge as ib\n"
        "ib.model.ImportJob\n"
        "ib.sandbox.run\n"
        "from importbridge import testing\n"
        "testing.conformance\n"
    )
    found = list(public_api_violations(source, providers=tmp_path))
    assert sorted(message.split(": ", 1)[1] for message in found) == sorted(
        [
            "imports importbridge.model, which is not public API",
            "importbridge._LAZY is not in its __all__",
            "imports from importbridge.convert, which is not public API",
            "imports from another provider's package importbridge_micro",
            "importbridge.plugins is not in its __all__",
            "importbridge.model is not in its __all__",
            "importbridge.testing.conformance is not in its __all__",
        ]
    )


def test_the_naming_check_reads_code_not_prose(tmp_path: Path) -> None:
    source = tmp_path / "core.py"
    source.write_text(
        '"""Docstrings may say micro and Qobra."""\n'
        "# comments may say talkvalue\n"
        "def f(value):\n"
        '    """So may this: micro."""\n'
        "    value.microsecond\n"
        '    return {"MICRO_API_KEY": 1, "path": "/qobra/v1", "x": f"{value}talkValue"}\n'
    )
    assert provider_mentions(source) == [
        "core.py:6: 'MICRO_API_KEY'",
        "core.py:6: '/qobra/v1'",
        "core.py:6: 'talkValue'",
    ]
