"""Export: manifest plus importable per-version files, re-imported and run."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from library.errors import LibraryError
from library.export import export_library, read_manifest, verify_export
from library.records import NewTool
from library.store import GateDecision, Store
from tests.library.conftest import new_tool


def _load(path: Path, name: str):  # noqa: ANN202 - test helper; these are our own trusted fixtures
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_export_reimport_and_run(store: Store, tmp_path: Path) -> None:
    store.publish(new_tool("add"))
    store.publish(new_tool("add", expr="a + b + 0"))
    store.publish(new_tool("mul", expr="a * b"))
    store.publish(new_tool("add", expr="a - b"), gate=lambda old, new: GateDecision(False, "wrong"))
    store.retire("mul", "unused")
    manifest_path = export_library(store, tmp_path / "export")
    manifest = json.loads(manifest_path.read_text())
    assert manifest == read_manifest(tmp_path / "export")
    assert [t["ref"] for t in manifest["tools"]] == ["add@1", "add@2", "mul@1"]  # rejected left out
    assert manifest["latest"] == {"add": 2}
    mul = manifest["tools"][2]
    assert mul["status"]["status"] == "retired" and mul["openai"]["function"]["name"] == "mul"
    assert mul["input_schema"]["required"] == ["a", "b"]
    root = tmp_path / "export"
    assert verify_export(root) == []
    for t in manifest["tools"]:
        tests = json.loads((root / t["tests_path"]).read_text())
        fn = getattr(_load(root / t["path"], f"exported_{t['name']}_{t['version']}"), t["entry"])
        for case in tests["examples"]:
            assert fn(**case["input"]) == case["expected"]
    # importable as a package too
    sys.path.insert(0, str(root))
    try:
        mod = importlib.import_module("tools.add.v2")
        assert mod.add(a=2, b=5) == 7
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m == "tools" or m.startswith("tools.")]:
            del sys.modules[name]
    # edits are detected, and a re-export replaces the old one whole
    (root / "tools/add/v1.py").write_text((root / "tools/add/v1.py").read_text() + "\n# edited\n")
    assert verify_export(root) == ["add@1: tools/add/v1.py differs from the published source"]
    export_library(store, root)
    assert verify_export(root) == []
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".export")]  # no leftovers


def test_export_a_lock_and_refuse_foreign_directories(store: Store, tmp_path: Path) -> None:
    store.publish(new_tool("add"))
    lock = store.snapshot()
    store.publish(new_tool("add", expr="a + b + 0"))
    export_library(store, tmp_path / "pinned", lock=lock)
    manifest = read_manifest(tmp_path / "pinned")
    assert [t["ref"] for t in manifest["tools"]] == ["add@1"]
    assert manifest["lock"]["digest"] == lock.digest and manifest["latest"] == {"add": 1}
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("keep")
    with pytest.raises(LibraryError, match="not empty and holds no earlier export"):
        export_library(store, foreign)
    with pytest.raises(LibraryError, match="no readable export manifest"):
        read_manifest(foreign)
    assert (foreign / "precious.txt").read_text() == "keep"


def test_exported_source_is_byte_identical(store: Store, tmp_path: Path) -> None:
    src = 'from __future__ import annotations\n\n\ndef f(x: int) -> int:\n    """Twice x."""\n    return 2 * x\n'
    store.publish(NewTool("f", src))
    export_library(store, tmp_path / "e")
    text = (tmp_path / "e/tools/f/v1.py").read_text()
    assert text.endswith(src) and text.splitlines()[3] == "from __future__ import annotations"
    assert _load(tmp_path / "e/tools/f/v1.py", "exported_f").f(4) == 8
