"""The `Library` facade keeps retrieval and experience in step with the store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from library import Call, Episode, Library, MemoryStore, Status
from tests.library.conftest import new_tool


def test_index_follows_publish_status_and_usage(tmp_path: Path) -> None:
    lib = Library(MemoryStore())
    lib.publish(new_tool("add", doc="Add two numbers."))
    assert lib.search("add two numbers").refs == ["add@1"]  # index built lazily here
    lib.publish(new_tool("add", expr="a + b + 0", doc="Sum of two numbers."))
    lib.publish(new_tool("mul", expr="a * b", doc="Product of two numbers."))
    assert lib.search("product").refs == ["mul@1"]
    assert lib.search("sum of two numbers").refs[0] == "add@2"
    lib.retire("add@2", "off by zero")
    assert lib.search("add two numbers").refs[0] == "add@1"  # falls back to the active version
    lib.deprecate("add", "mul")
    assert "add" not in [h.name for h in lib.search("add two numbers").hits]
    lib.record(
        Episode(
            query="frobnicate two values",
            call=Call("mul@1", {"a": 2, "b": 3}),
            result={"ok": True, "value": 6},
            success=True,
        )
    )
    assert lib.search("frobnicate values").refs == ["mul@1"]
    assert lib.replay("frobnicate two values", ["mul"]).examples[0].call.tool == "mul@1"
    assert lib.store.resolve("mul").usage.successes == 1
    fn = lib.openai_tools(["mul"])[0]["function"]
    assert fn["name"] == "mul" and fn["parameters"]["required"] == ["a", "b"]  # type: ignore[index]


def test_pinned_library_offers_exactly_the_lock(tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib") as lib:
        lib.publish(new_tool("add"))
        lock = lib.snapshot()
        lib.publish(new_tool("add", expr="a + b + 0"))
        lib.publish(new_tool("mul", expr="a * b", doc="Product of two numbers."))
    with Library.open(tmp_path / "lib", read_only=True, lock=lock) as pinned:
        assert pinned.resolve("add").ref == "add@1"
        assert pinned.search("add two numbers").refs == ["add@1"]
        assert pinned.search("product").abstained
        assert pinned.snapshot() == lock
        manifest = pinned.export(tmp_path / "export")
        assert manifest.exists()
    with Library.open(tmp_path / "lib", read_only=True) as live:
        assert [r.ref for r in live.store.list(statuses=[Status.ACTIVE])] == ["add@2", "mul@1"]


def test_library_needs_no_model_client_or_maker() -> None:
    code = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('openai', 'maker', 'httpx'):\n"
        "            raise ImportError('blocked ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import library, library.store, library.retrieval, library.export, library.library\n"
        "print('ok')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == "ok", out.stderr


def test_index_follows_other_writers(tmp_path: Path) -> None:
    reader = Library.open(tmp_path / "lib")
    writer = Library.open(tmp_path / "lib")  # another process, as far as SQLite can tell
    writer.publish(new_tool("add"))
    assert reader.search("add two numbers").refs == ["add@1"]
    writer.publish(new_tool("mul", expr="a * b", doc="Product of two numbers."))
    writer.publish(new_tool("mul_again", expr="a * b", task="t7", problem="area of a rug"))
    writer.record(Episode(query="frobnicate", call=Call("mul@1"), success=True))
    assert reader.search("product").refs == ["mul@1"]
    assert reader.search("rug area").refs == ["mul@1"]  # merged provenance joined its views
    assert reader.search("frobnicate").refs == ["mul@1"]
    writer.retire("mul", "broken")
    assert reader.search("product").abstained
    changed, cursor = reader.store.changes()
    assert ("mul", 1) in changed and reader.store.changes(cursor) == ([], cursor)
    reader.close()
    writer.close()
