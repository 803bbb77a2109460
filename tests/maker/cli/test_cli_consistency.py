"""The CLI says the same as the other doors: `library call` checks arguments against the spec
as `serve-mcp` does, and `library lock` writes the lock file `serve-mcp --lock` reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from library import Library, open_library
from library.mcp_server import call_result
from tests.library.conftest import new_tool
from tests.maker.cli.test_cli_library import inproc, maker, one_line_error


@pytest.fixture
def lib_dir(tmp_path: Path) -> Path:
    d = tmp_path / "lib"
    with Library.open(d) as lib:
        lib.publish(new_tool("add"))
        lib.publish(new_tool("mul", expr="a * b", doc="Multiply two numbers."))
    return d


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ('{"a": "12", "b": 18}', "bad arguments for add@1: a: '12' is not of type 'integer'"),
        ('{"a": 1.5, "b": 2}', "a: 1.5 is not of type 'integer'"),
        ('{"a": [1], "b": 2}', "is not of type 'integer'"),
    ],
)
def test_call_checks_arguments_against_the_spec_like_serve_mcp(
    lib_dir: Path, args: str, needle: str
) -> None:
    proc = inproc("library", "call", "add", "--args", args, "--library", str(lib_dir))
    one_line_error(proc, 1, needle)
    assert proc.stdout == ""  # nothing ran: no result line
    with open_library(lib_dir) as view:  # the MCP server refuses the same call the same way
        mcp = call_result(view, "add", json.loads(args))
    assert mcp.is_error and needle.split(": ", 1)[-1] in mcp.content[0].text


def test_lock_writes_what_serve_mcp_lock_reads(lib_dir: Path, tmp_path: Path) -> None:
    lock_file = tmp_path / "tools.lock.json"
    proc = maker("library", "lock", str(lock_file), "--library", str(lib_dir))
    assert proc.returncode == 0, proc.stderr
    assert "2 tools" in proc.stdout and f"serve-mcp --lock {lock_file}" in proc.stdout
    with Library.open(lib_dir) as lib:  # the library moves on; the lock does not
        lib.publish(new_tool("add", expr="b + a"))
        lib.publish(new_tool("sub", expr="a - b", doc="Subtract two numbers."))
    with open_library(lib_dir, lock=lock_file) as pinned:
        assert [r.ref for r in pinned.list()] == ["add@1", "mul@1"]
    with open_library(lib_dir) as live:
        assert [r.ref for r in live.list()] == ["add@2", "mul@1", "sub@1"]
    one_line_error(
        inproc("library", "lock", str(lock_file), "--library", str(lib_dir)), 1, "already exists"
    )
    proc = inproc("library", "lock", str(lock_file), "--force", "--library", str(lib_dir))
    assert proc.returncode == 0 and "3 tools" in proc.stdout
    with open_library(lib_dir, lock=lock_file) as pinned:
        assert [r.ref for r in pinned.list()] == ["add@2", "mul@1", "sub@1"]
