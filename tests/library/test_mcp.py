"""MCP round trips: list the active tools, call one, bad arguments, a failing tool, an unknown
tool; in-process (direct and over in-memory JSON-RPC streams) and over stdio in a subprocess."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client, StdioServerParameters

from library import Library, LibraryView, NewTool, open_library
from library.mcp_server import build_server
from sandbox import Sandbox
from tests.library.conftest import new_tool, tool_source

PAIR = '''def pair(n: int) -> tuple[int, int]:
    """Split a number into its half and remainder.

    Args:
        n: The number to split.
    """
    return divmod(n, 2)
'''


@pytest.fixture(scope="module")
def lib_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("mcp") / "lib"
    with Library.open(d) as lib:
        lib.publish(new_tool("add"))
        lib.publish(NewTool("boom", tool_source("boom", "a // (b - b)", "Divide by zero.")))
        lib.publish(NewTool("pair", PAIR))
        lib.publish(new_tool("gone", expr="a - b", doc="Subtract two numbers."))
        lib.retire("gone", "wrong sign")
    return d


@pytest.fixture(scope="module")
def view(lib_dir: Path) -> Iterator[LibraryView]:
    with Sandbox(workers=1) as sb, open_library(lib_dir, sandbox=sb) as v:
        yield v


def _text(result: Any) -> str:
    return "".join(c.text for c in result.content)


async def _round_trip(client: Client) -> dict[str, Any]:
    listed = await client.list_tools()
    out: dict[str, Any] = {"tools": {t.name: t for t in listed.tools}}
    out["add"] = await client.call_tool("add", {"a": 2, "b": 40})
    out["pair"] = await client.call_tool("pair", {"n": 7})
    out["bad_type"] = await client.call_tool("add", {"a": "two", "b": 40})
    out["missing"] = await client.call_tool("add", {"a": 2})
    out["extra"] = await client.call_tool("add", {"a": 2, "b": 3, "c": 4})
    out["boom"] = await client.call_tool("boom", {"a": 1, "b": 2})
    out["unknown"] = await client.call_tool("nope", {})
    out["retired"] = await client.call_tool("gone", {"a": 1, "b": 2})
    return out


def _check(out: dict[str, Any]) -> None:
    tools = out["tools"]
    assert sorted(tools) == ["add", "boom", "pair"]  # retired tools are not offered
    add = tools["add"]
    assert add.description == "Add two numbers."
    assert add.input_schema["required"] == ["a", "b"]
    assert add.input_schema["properties"]["a"]["type"] == "integer"
    assert add.output_schema == {
        "type": "object",
        "properties": {"result": {"type": "integer"}},
        "required": ["result"],
    }

    ok = out["add"]
    assert not ok.is_error and ok.structured_content == {"result": 42} and _text(ok) == "42"
    pair = out["pair"]
    assert not pair.is_error and pair.structured_content == {"result": [3, 1]}
    assert json.loads(_text(pair)) == [3, 1]

    for key, needle in [
        ("bad_type", "bad arguments for add@1: a: 'two' is not of type 'integer'"),
        ("missing", "bad arguments for add@1: 'b' is a required property"),
        ("extra", "bad arguments for add@1: Additional properties are not allowed ('c'"),
        ("boom", "tool boom@1 failed: ZeroDivisionError: integer division or modulo by zero"),
        ("unknown", "unknown tool 'nope'"),
        ("retired", "tool 'gone' is retired: wrong sign"),
    ]:
        result = out[key]
        assert result.is_error, key
        assert needle in _text(result), (key, _text(result))


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_in_memory_round_trip(view: LibraryView, mode: str) -> None:
    """`auto`: the SDK's direct in-process dispatch; `legacy`: the initialize handshake and
    JSON-RPC over in-memory streams."""

    async def main() -> dict[str, Any]:
        async with Client(build_server(view), mode=mode) as client:  # type: ignore[arg-type]
            assert client.instructions and "sandbox" in client.instructions
            return await _round_trip(client)

    _check(anyio.run(main))


def test_new_tools_appear_without_restart(view: LibraryView, lib_dir: Path) -> None:
    async def names() -> list[str]:
        async with Client(build_server(view)) as client:
            first = [t.name for t in (await client.list_tools()).tools]
            with Library.open(lib_dir) as lib:
                lib.publish(new_tool("mul", expr="a * b", doc="Multiply two numbers."))
            second = [t.name for t in (await client.list_tools(cache_mode="refresh")).tools]
            result = await client.call_tool("mul", {"a": 6, "b": 7})
            assert result.structured_content == {"result": 42}
            with Library.open(lib_dir) as lib:
                lib.retire("mul", "only for this test")  # the other tests see the fixture
            return [*first, "|", *second]

    got = anyio.run(names)
    assert got[: got.index("|")] == ["add", "boom", "pair"]
    assert "mul" in got[got.index("|") + 1 :]


def test_stdio_round_trip_in_a_subprocess(lib_dir: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-c", f"from library.mcp_server import serve; serve({str(lib_dir)!r})"],
        cwd=str(Path(__file__).resolve().parents[2]),
    )

    async def main() -> tuple[list[str], Any, Any]:
        async with Client(params) as client:
            tools = [t.name for t in (await client.list_tools()).tools]
            ok = await client.call_tool("add", {"a": 1, "b": 2})
            bad = await client.call_tool("boom", {"a": 1, "b": 2})
            return tools, ok, bad

    tools, ok, bad = anyio.run(main)
    assert "add" in tools and ok.structured_content == {"result": 3}
    assert bad.is_error and "ZeroDivisionError" in _text(bad)
