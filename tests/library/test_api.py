"""The read-only solver API: open, list, search, callables (sandboxed vs native), schemas,
experiences, snapshots, and the errors a user sees."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from library import (
    Call,
    Episode,
    Library,
    LibraryError,
    LibraryView,
    NewTool,
    ReadOnlyError,
    ToolCallError,
    UnknownToolError,
    open_library,
)
from sandbox import Sandbox
from tests.library.conftest import new_tool, tool_source

SCALE = '''DEFAULT_UNIT = "m"


def scale(x: float, factor: float = 2.0, unit: str = DEFAULT_UNIT) -> str:
    """Scale a length and label it.

    Args:
        x: The length.
        factor: How much to multiply it by.
        unit: The unit label.

    Returns:
        The scaled length with its unit.
    """
    return f"{x * factor:g} {unit}"
'''

SNOOP = '''def snoop(path: str) -> str:
    """Read the first line of a file.

    Args:
        path: The file to read.
    """
    with open(path) as f:
        return f.readline().strip()
'''


@pytest.fixture(scope="module")
def sb() -> Iterator[Sandbox]:
    with Sandbox(workers=1) as box:
        yield box


@pytest.fixture(scope="module")
def lib_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("api") / "lib"
    with Library.open(d) as lib:
        lib.publish(new_tool("add", problem="sum of two integers"))
        lib.publish(new_tool("add", expr="b + a"))  # add@2, the latest
        lib.publish(new_tool("mul", expr="a * b", doc="Multiply two numbers."))
        lib.publish(NewTool("boom", tool_source("boom", "a // (b - b)", "Divide by zero.")))
        lib.publish(NewTool("scale", SCALE))
        lib.publish(NewTool("snoop", SNOOP))
        lib.publish(new_tool("old_add", expr="a + b + 0", doc="Add numbers, the old way."))
        lib.deprecate("old_add@1", "add", "use add")
        lib.publish(new_tool("gone", expr="a - b", doc="Subtract two numbers."))
        lib.retire("gone", "wrong sign")
        lib.record(
            Episode(
                query="what is 2 plus 3",
                offered=("add@2",),
                call=Call(tool="add@2", arguments={"a": 2, "b": 3}),
                result={"ok": True, "value": 5},
                answer="5",
                success=True,
            )
        )
        lib.record(
            Episode(
                query="divide 4 by nothing",
                offered=("boom@1",),
                call=Call(tool="boom@1", arguments={"a": 4, "b": 0}),
                result={"ok": False, "error": {"type": "ZeroDivisionError", "message": "by zero"}},
                success=False,
            )
        )
    return d


@pytest.fixture
def view(lib_dir: Path, sb: Sandbox) -> Iterator[LibraryView]:
    with open_library(lib_dir, sandbox=sb) as v:
        yield v


def test_list_and_search(view: LibraryView) -> None:
    assert [r.ref for r in view.list()] == ["add@2", "boom@1", "mul@1", "scale@1", "snoop@1"]
    assert "old_add@1" in [r.ref for r in view.list(statuses=["active", "deprecated"])]
    hits = view.search("multiply two numbers", k=3)
    assert not hits.abstained and hits.refs[0] == "mul@1"
    nothing = view.search("zzzz qqqq xylophone")
    assert nothing.abstained and nothing.hits == ()


def test_sandboxed_callable_looks_like_the_function(view: LibraryView) -> None:
    add = view.tool("add")
    assert add.__name__ == "add" and add.ref == "add@2" and not add.native
    assert str(inspect.signature(add)) == "(a: 'int', b: 'int') -> 'int'"
    assert add.__doc__.startswith("Add two numbers.") and "a: The first number." in add.__doc__
    assert add(2, 3) == 5 and add(a=2, b=40) == 42
    assert view.tool("add@1")(1, 1) == 2
    scale = view.tool("scale")
    # a non-literal default is shown as its source text and left to the tool
    assert str(inspect.signature(scale)) == (
        "(x: 'float', factor: 'float' = 2.0, unit: 'str' = DEFAULT_UNIT) -> 'str'"
    )
    assert scale(1.5) == "3 m" and scale(1, unit="km") == "2 km"
    with pytest.raises(TypeError, match="add@2: missing a required argument: 'b'"):
        add(1)


def test_sandboxed_failure_raises_with_the_run_result(view: LibraryView) -> None:
    with pytest.raises(ToolCallError, match="tool boom@1 failed: ZeroDivisionError") as info:
        view.tool("boom")(1, 2)
    assert info.value.result.ok is False and info.value.result.error.line == 8
    assert isinstance(info.value, LibraryError)
    assert view.tool("boom").run(1, 2).error.type == "ZeroDivisionError"


def test_sandbox_contains_the_tool_but_trust_native_does_not(
    view: LibraryView, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("hunter2\n")
    with pytest.raises(ToolCallError):
        view.tool("snoop")(str(secret))
    native = view.tool("snoop", trust_native=True)
    assert native.native and native(str(secret)) == "hunter2"
    assert "library_tool_snoop_v1" not in sys.modules  # a fresh namespace, not registered
    assert view.tool("add", trust_native=True)(2, 3) == 5
    with pytest.raises(ZeroDivisionError):  # native errors propagate unchanged
        view.tool("boom", trust_native=True)(1, 2)


def test_native_and_sandboxed_agree(view: LibraryView) -> None:
    scale_native = view.tool("scale", trust_native=True)
    assert scale_native(2) == view.tool("scale")(2) == "4 m"


def test_statuses_decide_what_is_callable(view: LibraryView) -> None:
    assert view.tool("old_add")(1, 2) == 3  # deprecated: still callable
    with pytest.raises(UnknownToolError, match="'gone' is retired"):
        view.tool("gone")
    with pytest.raises(LibraryError, match="gone@1 is retired"):
        view.tool("gone@1")
    with pytest.raises(UnknownToolError, match="unknown tool 'nope'"):
        view.tool("nope")
    with pytest.raises(UnknownToolError, match="add@9"):
        view.tool("add@9")
    with pytest.raises(LibraryError, match="bad tool reference"):
        view.tool("add@x")


def test_view_is_read_only(view: LibraryView, lib_dir: Path) -> None:
    assert not hasattr(view, "publish") and not hasattr(view, "retire")
    with pytest.raises(ReadOnlyError):
        view.library.publish(new_tool("sneaky"))
    with pytest.raises(ReadOnlyError):
        view.library.retire("add", "no")
    with pytest.raises(ReadOnlyError):
        view.library.record(Episode(query="q"))
    assert view.tool("add").ref == "add@2"


def test_openai_schemas_of_active_tools(view: LibraryView) -> None:
    tools = view.openai_tools()
    by_name = {t["function"]["name"]: t for t in tools}
    assert sorted(by_name) == ["add", "boom", "mul", "scale", "snoop"]
    add = by_name["add"]
    assert add["type"] == "function"
    assert add["function"]["parameters"] == {
        "type": "object",
        "properties": {
            "a": {"type": "integer", "description": "The first number."},
            "b": {"type": "integer", "description": "The second number."},
        },
        "required": ["a", "b"],
        "additionalProperties": False,
    }
    json.dumps(tools)  # plain JSON
    assert [t["function"]["name"] for t in view.openai_tools(["old_add"])] == ["old_add"]


def test_experiences_for_few_shot(view: LibraryView) -> None:
    replay = view.experiences("what is 7 plus 8", k=2, tools=["boom@1"])
    assert [e.query for e in replay.examples] == ["what is 2 plus 3"]
    assert "boom@1" in replay.failures
    text = replay.render()
    assert "Call: add@2" in text and "Known failures of boom@1" in text


def test_snapshot_pins_a_view(lib_dir: Path, sb: Sandbox, tmp_path: Path) -> None:
    with open_library(lib_dir, sandbox=sb) as v:
        lock = v.snapshot()
    assert "add@2" in lock.to_text() and "gone@1" not in lock.to_text()
    lock_file = tmp_path / "lib.lock"
    lock_file.write_text(lock.to_text())
    with open_library(lib_dir, lock=lock_file, sandbox=sb) as pinned:
        assert pinned.snapshot().digest == lock.digest
        assert {r.ref for r in pinned.list()} == {f"{e.name}@{e.version}" for e in lock.entries}
        assert pinned.tool("add").ref == "add@2"
        assert pinned.search("multiply two numbers").refs[0] == "mul@1"
    lock_file.write_text(lock.to_text().replace('"add@2"', '"add@7"'))
    with pytest.raises(LibraryError, match="lock file digest does not match"):
        open_library(lib_dir, lock=lock_file)


def test_view_owns_its_sandbox_lazily(lib_dir: Path) -> None:
    view = open_library(lib_dir)
    assert view._sandbox is None  # nothing started by listing or searching
    view.list()
    view.search("add numbers")
    assert view._sandbox is None
    add = view.tool("add")
    assert add(1, 2) == 3
    box = view._sandbox
    assert box is not None and view.tool("mul")(2, 3) == 6 and view._sandbox is box
    view.close()
    with pytest.raises(LibraryError, match="closed"):
        add(1, 2)


def test_missing_or_invalid_library(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match="no library at .*missing.*not a directory"):
        open_library(tmp_path / "missing")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(LibraryError, match=r"no library at .*library\.sqlite is missing"):
        open_library(empty)
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "library.sqlite").write_bytes(b"this is not a database" * 100)
    with pytest.raises(LibraryError, match="garbage/library.sqlite is not a usable library"):
        open_library(garbage)
    assert not (tmp_path / "missing").exists()  # a read-only open creates nothing


def test_export_reimported_and_run(view: LibraryView, tmp_path: Path) -> None:
    out = tmp_path / "export"
    view.library.export(out)
    code = (
        "from tools.add.v2 import add; from tools.scale.v1 import scale; "
        "print(add(20, 22), scale(3))"
    )
    env = {**os.environ, "PYTHONPATH": str(out)}
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=out, capture_output=True, text=True, env=env, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["42", "6", "m"]
    # the exported file, run through the sandbox, agrees with the view's callable
    source = (out / "tools/add/v2.py").read_text()
    assert view.sandbox().run(source, "add", kwargs={"a": 5, "b": 6}).value == view.tool("add")(
        5, 6
    )
