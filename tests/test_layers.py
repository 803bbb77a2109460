"""The layers import one way (sandbox <- library <- maker <- experiments), and the library works
for a downstream solver without any model client installed."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["sandbox", "library", "maker", "experiments"]


def _imported_tops(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    tops: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            tops.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            tops.add(node.module.split(".")[0])
    return tops


@pytest.mark.parametrize("layer", LAYERS)
def test_a_layer_imports_no_layer_above_it(layer: str) -> None:
    above = set(LAYERS[LAYERS.index(layer) + 1 :])
    wrong = {
        f"{path.relative_to(ROOT)} imports {top}"
        for path in (ROOT / layer).rglob("*.py")
        for top in _imported_tops(path) & above
    }
    assert not wrong, sorted(wrong)


def test_library_imports_without_openai() -> None:
    code = (
        "import sys; sys.modules['openai'] = None; sys.modules['langgraph'] = None\n"
        "import library, library.api, library.export, library.retrieval\n"
        "from library import open_library\n"
        "assert 'openai' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
        "print('ok')"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _internal_imports(path: Path, modules: set[str]) -> set[str]:
    """Modules of the same package that ``path`` imports, at any depth of the file (a
    function-level import still makes a cycle), TYPE_CHECKING blocks excepted."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(n) for n in ast.walk(node))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                found.add(sub if sub in modules else node.module)
    return found & modules


def test_the_sandbox_has_no_import_cycles() -> None:
    files = {_module_name(p): p for p in (ROOT / "sandbox").rglob("*.py")}
    graph = {
        name: _internal_imports(path, set(files)) - {name, "sandbox"}
        for name, path in files.items()
        if name != "sandbox"
    }
    cycles = []
    for start in graph:
        stack = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    cycles.append(" -> ".join([*trail, start]))
                elif nxt not in trail:
                    stack.append((nxt, [*trail, nxt]))
    assert not cycles, sorted(set(cycles))[:5]
