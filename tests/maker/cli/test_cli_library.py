"""`maker library ...` and `maker bench library` from the shell: outputs, exit codes, errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters  # imported early: its errlog is sys.stderr

from library import Call, Episode, Library, NewTool
from tests.library.conftest import new_tool, tool_source

GCD = '''def gcd(a: int, b: int) -> int:
    """Greatest common divisor of two integers.

    >>> gcd(12, 18)
    6
    >>> gcd(7, 0)
    7

    Args:
        a: The first integer.
        b: The second integer.
    """
    while b:
        a, b = b, a % b
    return abs(a)
'''

ROOT = Path(__file__).resolve().parents[3]


def maker(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m maker.cli ARGS` in a subprocess: real exit codes and stderr."""
    full_env = {k: v for k, v in os.environ.items() if k != "MAKER_LIBRARY"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "maker.cli", *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=full_env,
        cwd=ROOT,
    )


def inproc(
    *args: str, env: dict[str, str | None] | None = None
) -> subprocess.CompletedProcess[str]:
    """The same through click's runner in this process (no interpreter start per command);
    for the happy paths, while `maker` covers exit codes and errors end to end."""
    from click.testing import CliRunner

    from maker.cli import main

    result = CliRunner().invoke(main, list(args), env={"MAKER_LIBRARY": None, **(env or {})})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout, result.stderr)


def one_line_error(proc: subprocess.CompletedProcess[str], code: int, needle: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    assert needle in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


@pytest.fixture(scope="module")
def lib_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("cli") / "lib"
    with Library.open(d) as lib:
        lib.publish(new_tool("add", problem="sum of two integers"))
        lib.publish(new_tool("add", expr="b + a"))
        lib.publish(new_tool("mul", expr="a * b", doc="Multiply two numbers."))
        lib.publish(NewTool("boom", tool_source("boom", "a // (b - b)", "Divide by zero.")))
        lib.publish(new_tool("old_add", expr="a + b + 0", doc="Add numbers the old way."))
        lib.publish(new_tool("gone", expr="a - b", doc="Subtract two numbers."))
        lib.record(
            Episode(
                query="2 plus 3",
                call=Call(tool="add@2", arguments={"a": 2, "b": 3}),
                result={"ok": True, "value": 5},
                success=True,
            )
        )
    return d


def test_list_show_history_search(lib_dir: Path) -> None:
    lib = ["--library", str(lib_dir)]
    proc = inproc("library", "list", *lib)
    assert proc.returncode == 0, proc.stderr
    assert "add@2" in proc.stdout and "mul@1" in proc.stdout and "┃" in proc.stdout
    listed = json.loads(inproc("library", "list", "--json", *lib).stdout)
    add = next(t for t in listed if t["name"] == "add")
    assert add["ref"] == "add@2" and add["signature"] == "add(a: int, b: int) -> int"
    assert add["usage"] == {"calls": 1, "successes": 1, "failures": 0}

    proc = inproc("library", "show", "add@1", *lib)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("add@1  [active]") and "return a + b" in proc.stdout
    shown = json.loads(inproc("library", "show", "add", "--json", *lib).stdout)
    assert shown["version"] == 2 and shown["parent_version"] == 1

    history = json.loads(inproc("library", "history", "add", "--json", *lib).stdout)
    assert [(h["version"], h["parent_version"]) for h in history] == [(1, None), (2, 1)]
    assert "history of add" in inproc("library", "history", "add", *lib).stdout

    found = json.loads(
        inproc("library", "search", "multiply two numbers", "-k", "2", "--json", *lib).stdout
    )
    assert not found["abstained"] and found["hits"][0]["ref"] == "mul@1"
    assert len(found["hits"]) <= 2
    proc = inproc("library", "search", "zzzz qqqq xylophone", *lib)
    assert proc.returncode == 0 and "No tool is relevant enough" in proc.stdout


def test_env_var_names_the_library(lib_dir: Path) -> None:
    proc = maker("library", "list", "--json", env={"MAKER_LIBRARY": str(lib_dir)})
    assert proc.returncode == 0 and "add@2" in proc.stdout


def test_call_prints_one_json_line(lib_dir: Path) -> None:
    lib = ["--library", str(lib_dir)]
    proc = maker("library", "call", "add@1", "--args", '{"a": 20, "b": 22}', *lib)
    assert proc.returncode == 0, proc.stderr
    line = json.loads(proc.stdout)
    assert line["tool"] == "add@1" and line["ok"] and line["value"] == 42
    assert proc.stdout.count("\n") == 1

    proc = maker("library", "call", "boom", "--args", '{"a": 1, "b": 2}', *lib)
    assert proc.returncode == 1
    line = json.loads(proc.stdout)
    assert not line["ok"] and line["error"]["type"] == "ZeroDivisionError"

    one_line_error(maker("library", "call", "add", "--args", "{nope", *lib), 2, "not valid JSON")
    for args, code, needle in [
        (["--args", "[1, 2]"], 2, "JSON object"),
        (["--args", '{"a": 1}'], 1, "needs argument 'b'"),
        (["--args", '{"a": 1, "b": 2, "c": 3}'], 1, "no parameter 'c'"),
    ]:
        one_line_error(inproc("library", "call", "add", *args, *lib), code, needle)


def test_curation_and_export(lib_dir: Path, tmp_path: Path) -> None:
    lib = ["--library", str(lib_dir)]
    proc = inproc(
        "library", "deprecate", "old_add@1", "--replacement", "add", "--reason", "duplicate", *lib
    )
    assert proc.returncode == 0 and "deprecated old_add@1" in proc.stdout, proc.stderr
    proc = inproc("library", "retire", "gone", "--reason", "wrong sign", *lib)
    assert proc.returncode == 0 and "retired gone@1" in proc.stdout, proc.stderr
    statuses = {
        t["name"]: t["status"]
        for t in json.loads(inproc("library", "list", "--all", "--json", *lib).stdout)
    }
    assert statuses["old_add"] == "deprecated" and statuses["gone"] == "retired"
    assert "gone" not in inproc("library", "list", "--json", *lib).stdout
    one_line_error(inproc("library", "call", "gone@1", *lib), 1, "retired")
    one_line_error(inproc("library", "retire", "gone", *lib), 2, "Missing option '--reason'")
    one_line_error(
        inproc("library", "deprecate", "mul@1", "--replacement", "nope", *lib),
        1,
        "unknown tool 'nope'",
    )

    out = tmp_path / "export"
    proc = inproc("library", "export", str(out), *lib)
    assert proc.returncode == 0 and "exported" in proc.stdout, proc.stderr
    code = "from tools.add.v2 import add; from tools.mul.v1 import mul; print(add(1, 2), mul(3, 4))"
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(out)},
    )
    assert run.returncode == 0 and run.stdout.split() == ["3", "12"], run.stderr
    not_export = tmp_path / "occupied"
    not_export.mkdir()
    (not_export / "keep.txt").write_text("mine")
    one_line_error(inproc("library", "export", str(not_export), *lib), 1, "not empty")


def test_add_a_hand_written_tool(tmp_path: Path) -> None:
    lib = ["--library", str(tmp_path / "new-lib")]  # created by the first add
    gcd = tmp_path / "gcd.py"
    gcd.write_text(GCD)
    proc = inproc("library", "add", str(gcd), *lib)
    assert proc.returncode == 0 and proc.stdout.strip() == "published gcd@1", proc.stderr
    proc = inproc("library", "call", "gcd", "--args", '{"a": 12, "b": 18}', "--record", *lib)
    assert json.loads(proc.stdout)["value"] == 6
    shown = json.loads(inproc("library", "show", "gcd", "--json", *lib).stdout)
    assert shown["usage"]["calls"] == 1 and shown["provenance"][0]["origin"] == "hand"
    wrong = tmp_path / "wrong.py"
    wrong.write_text(
        GCD.replace("    6\n", "    7\n")
        .replace("def gcd", "def gcd2")
        .replace(">>> gcd(", ">>> gcd2(")
    )
    proc = inproc("library", "add", str(wrong), *lib)
    assert proc.returncode == 1 and proc.stdout.startswith("invalid:"), proc.stdout
    one_line_error(
        inproc("library", "add", str(tmp_path / "missing.py"), *lib), 2, "does not exist"
    )


def test_add_several_files_one_line_each(tmp_path: Path) -> None:
    lib = ["--library", str(tmp_path / "lib")]
    gcd, wrong = tmp_path / "gcd.py", tmp_path / "wrong.py"
    gcd.write_text(GCD)
    wrong.write_text(GCD.replace("    6\n", "    7\n").replace("gcd", "gcd_wrong"))
    proc = inproc("library", "add", str(gcd), str(wrong), *lib)
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 2, proc.stdout  # one file failed: status 1
    assert lines[0] == f"{gcd}: published gcd@1"
    assert lines[1].startswith(f"{wrong}: invalid:")
    proc = inproc("library", "add", str(gcd), str(gcd), *lib)  # already there: not a failure
    assert proc.returncode == 0 and proc.stdout.count(": duplicate:") == 2, proc.stdout
    one_line_error(
        maker("library", "add", str(gcd), str(wrong), "--name", "x", *lib), 2, "one FILE"
    )


def test_errors_are_one_line(lib_dir: Path, tmp_path: Path) -> None:
    lib = ["--library", str(lib_dir)]
    nowhere = ["--library", str(tmp_path / "nowhere")]
    cases = [
        (["library", "list"], 2, "Missing option '--library'"),
        (["library", "list", *nowhere], 2, "no library at"),
        (["library", "serve-mcp", *nowhere], 2, "no library at"),
        (["library", "show", "nope", *lib], 1, "unknown tool 'nope'"),
        (["library", "retire", "add", "--reason", "x", *nowhere], 2, "no library at"),
        (["library", "show", "add@9", *lib], 1, "unknown tool version 'add@9'"),
        (["library", "history", "nope", *lib], 1, "unknown tool 'nope'"),
        (["library", "show", "add@x", *lib], 2, "bad tool reference 'add@x'"),
        (["library", "call", "nope", "--args", "{}", *lib], 1, "unknown tool 'nope'"),
        (["library", "search", "q", "-k", "0", *lib], 2, "-k"),
    ]
    for i, (args, code, needle) in enumerate(cases):
        run = maker if i < 4 else inproc  # a few end to end; the rest in this process
        one_line_error(run(*args), code, needle)
    assert not (tmp_path / "nowhere").exists()


def test_help_teaches_with_examples() -> None:
    from click.testing import CliRunner

    from maker.cli import main

    runner = CliRunner()
    for command in [
        "list",
        "show",
        "history",
        "search",
        "export",
        "deprecate",
        "retire",
        "serve-mcp",
        "add",
        "call",
        "lock",
    ]:
        result = runner.invoke(main, ["library", command, "--help"])
        assert result.exit_code == 0 and "maker library" in result.output, command
        assert "Example" in result.output and "--library" in result.output, command
    result = runner.invoke(main, ["bench", "library", "--help"])
    assert result.exit_code == 0 and "--sizes" in result.output and "Example" in result.output
    assert "maker library list" in runner.invoke(main, ["library", "--help"]).output


def test_serve_mcp_over_stdio(lib_dir: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "maker.cli", "library", "serve-mcp", "--library", str(lib_dir)],
        cwd=str(ROOT),
    )

    async def main() -> tuple[list[str], object]:
        async with Client(params) as client:
            names = [t.name for t in (await client.list_tools()).tools]
            return names, await client.call_tool("mul", {"a": 6, "b": 7})

    names, result = anyio.run(main)
    assert "mul" in names and result.structured_content == {"result": 42}  # type: ignore[attr-defined]


def test_bench_library_smoke() -> None:
    proc = maker("bench", "library", "--sizes", "30,60", "--queries", "5")
    assert proc.returncode == 0, proc.stderr
    figures = json.loads(proc.stdout.strip().splitlines()[-1])  # the JSON line comes last
    for key in [
        "publish_per_s",
        "open_60_s",
        "search_median_ms_30",
        "search_median_ms_60",
        "search_p99_ms_60",
    ]:
        assert figures[key] > 0, key
    assert "library benchmark" in proc.stdout
    assert "[60] publish 60/60" in proc.stderr and "[30] search" in proc.stderr
    one_line_error(maker("bench", "library", "--sizes", "ten"), 2, "comma-separated")
