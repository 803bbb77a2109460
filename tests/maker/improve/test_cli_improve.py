"""`maker improve` from the command line: a repair over the wire, dry runs, exit codes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from library import Library
from maker.cli import main
from maker.llm import FakeOpenAIServer
from tests.maker.improve.conftest import FIXED, add_tool, tool_reply, use, wrong_uses

CLEAN_ENV = {
    "MAKER_MAKER_MODEL": "",
    "MAKER_MAKER_BASE_URL": "",
    "OPENAI_API_KEY": "",
    "MAKER_MAKER_API_KEY": "",
    "MAKER_MAKER_API_KEY_ENV": "",
    "MAKER_LLM_LOCAL": "off",
    "MAKER_LIBRARY": None,
}
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def lib_dir(tmp_path: Path) -> Path:
    d = tmp_path / "lib"
    with Library.open(d) as lib:
        add_tool(lib)
        wrong_uses(lib)
        use(lib, {"a": "3", "b": 5}, value=1, gold="2", success=False)  # misuse
    return d


def invoke(*args: str, env: dict[str, str | None] | None = None):
    return CliRunner().invoke(main, ["improve", *args], env={**CLEAN_ENV, **(env or {})})


def last_json(output: str) -> dict:
    return json.loads(output.strip().splitlines()[-1])


def digest(d: Path) -> str:
    return hashlib.sha256((d / "library.sqlite").read_bytes()).hexdigest()


def test_a_repair_over_the_wire(lib_dir: Path) -> None:
    with FakeOpenAIServer([tool_reply(FIXED)]) as server:
        result = invoke(
            "--library",
            str(lib_dir),
            "--maker-model",
            server.model,
            "--maker-base-url",
            server.base_url,
            "--no-progress",
            "--cache-dir",
            str(lib_dir / "cache"),
            "--report",
            str(lib_dir / "improve.json"),
        )
        assert server.stats().requests == 1
    assert result.exit_code == 0, result.output
    summary = last_json(result.output)
    assert (summary["examined"], summary["bugs"], summary["misuse"]) == (1, 2, 1)
    assert (summary["repaired"], summary["gated"], summary["rejected"]) == (1, 1, 0)
    assert summary["pitfalls"] == 1 and summary["maker_calls"] == 1
    assert summary["maker_tokens_in"] > 0 and "maker_dollars" in summary
    assert "abs_diff@1" in result.output and "repaired" in result.output
    with Library.open(lib_dir, read_only=True) as lib:
        assert lib.resolve("abs_diff").version == 2
    saved = json.loads((lib_dir / "improve.json").read_text())
    assert saved["summary"] == summary and saved["tools"][0]["repair"]["new_ref"] == "abs_diff@2"
    (ledger,) = (lib_dir / "ledgers").glob("improve-*.jsonl")  # the round's cost, on record
    (entry,) = [json.loads(line) for line in ledger.read_text().splitlines()]
    assert entry["role"] == "maker" and entry["prompt_tokens"] == summary["maker_tokens_in"]


def test_dry_run_changes_nothing_and_calls_no_model(lib_dir: Path) -> None:
    before = digest(lib_dir)
    result = invoke("--library", str(lib_dir), "--dry-run")  # no endpoint configured: fine
    assert result.exit_code == 0, result.output
    assert digest(lib_dir) == before
    summary = last_json(result.output)
    assert summary["dry_run"] and summary["would_repair"] == 1 and summary["maker_calls"] == 0
    assert "dry run" in result.output and "would repair" in result.output


def test_an_unreachable_maker_exits_1(lib_dir: Path) -> None:
    env = {
        "MAKER_MAKER_MODEL": "m",
        "MAKER_MAKER_BASE_URL": "http://127.0.0.1:9/v1",
        "MAKER_MAKER_MAX_RETRIES": "0",
    }
    result = invoke("--library", str(lib_dir), "--no-progress", env=env)
    assert result.exit_code == 1, result.output
    assert last_json(result.output)["errors"] == 1
    with Library.open(lib_dir, read_only=True) as lib:
        assert lib.resolve("abs_diff").version == 1


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--library", "{missing}"], "no library there"),
        (["--library", "{lib}", "--min-failures", "0"], "--min-failures"),
        (  # exploring needs the user role too
            ["--library", "{lib}", "--explore", "--maker-model", "m", "--maker-base-url", "{url}"],
            "MAKER_USER_MODEL",
        ),
        (["--library", "{lib}"], "MAKER_MAKER_MODEL"),  # no maker endpoint, no local models
        (["--library", "{damaged}"], "damaged"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(lib_dir: Path, tmp_path: Path, args, needle) -> None:
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "library.sqlite").write_bytes(b"this is not a database" * 100)
    paths = {
        "missing": tmp_path / "nope",
        "lib": lib_dir,
        "damaged": damaged,
        "url": "http://127.0.0.1:9/v1",
    }
    argv = [a.format(**{k: str(v) for k, v in paths.items()}) for a in args]
    before = digest(lib_dir)
    result = invoke(*argv)
    assert result.exit_code == 2, result.output
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert needle in result.output and "Traceback" not in result.output
    assert len([x for x in lines if x.startswith("Error")]) == 1
    assert digest(lib_dir) == before


def test_exit_code_and_error_line_in_a_real_process(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKER_", "OPENAI"))}
    proc = subprocess.run(
        [sys.executable, "-m", "maker.cli", "improve", "--library", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "no library" in proc.stderr
