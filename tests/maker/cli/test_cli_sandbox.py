"""`maker sandbox run` from the shell: one JSON line per file, exit codes, clear errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def maker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "maker.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_runs_each_file_and_prints_json_lines(tmp_path: Path) -> None:
    good = tmp_path / "good.py"
    good.write_text(
        "def gcd(a: int, b: int) -> int:\n    while b:\n        a, b = b, a % b\n"
        "    print('done')\n    return a\n"
    )
    also = tmp_path / "also.py"
    also.write_text("def gcd(a, b):\n    return 0\n")
    proc = maker(
        "sandbox", "run", str(good), str(also), "--entry", "gcd", "--args", '{"a": 12, "b": 18}'
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [(d["file"], d["ok"], d["value"], d["stdout"]) for d in lines] == [
        (str(good), True, 6, "done\n"),
        (str(also), True, 0, ""),
    ]
    assert {"ok", "value", "error", "stdout", "limit"} <= set(lines[0])


def test_nonzero_exit_when_a_file_fails(tmp_path: Path) -> None:
    ok = tmp_path / "ok.py"
    ok.write_text("x = 1\n")
    bad = tmp_path / "bad.py"
    bad.write_text("import os\n")
    spin = tmp_path / "spin.py"
    spin.write_text("while True:\n    pass\n")
    proc = maker("sandbox", "run", str(ok), str(bad), str(spin), "--timeout", "0.5")
    assert proc.returncode == 1
    ok_line, bad_line, spin_line = (json.loads(line) for line in proc.stdout.splitlines())
    assert ok_line["ok"] and ok_line["error"] is None
    assert bad_line["error"]["type"] == "ImportError" and bad_line["error"]["line"] == 1
    assert spin_line["limit"] == "timeout"


def test_bad_input_gets_one_line_errors(tmp_path: Path) -> None:
    tool = tmp_path / "t.py"
    tool.write_text("def f(n):\n    return n\n")
    for args, needle in [
        (["sandbox", "run", str(tmp_path / "missing.py")], "does not exist"),
        (["sandbox", "run", str(tool), "--entry", "f", "--args", "{nope"], "not valid JSON"),
        (["sandbox", "run", str(tool), "--entry", "f", "--args", "[1]"], "JSON object"),
        (["sandbox", "run", str(tool), "--args", '{"n": 1}'], "--args needs --entry"),
    ]:
        proc = maker(*args)
        assert proc.returncode == 2, (args, proc.stdout)
        assert needle in proc.stderr and "Traceback" not in proc.stderr


def test_help_teaches() -> None:
    proc = maker("sandbox", "run", "--help")
    assert proc.returncode == 0 and "--entry" in proc.stdout and "Examples:" in proc.stdout
