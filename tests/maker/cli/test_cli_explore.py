"""`maker explore` from the command line: bad input in one line, a run over the fake server."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from library import Library, NewTool
from maker.bench.solve import problem_of
from maker.cli import main
from maker.llm import FakeOpenAIServer
from tests.maker.use.conftest import GCD

CLEAN_ENV = {
    "MAKER_MAKER_MODEL": "",
    "MAKER_MAKER_BASE_URL": "",
    "MAKER_USER_MODEL": "",
    "MAKER_USER_BASE_URL": "",
    "OPENAI_API_KEY": "",
    "MAKER_LLM_LOCAL": "off",
}

PROBLEMS = [
    "Two ropes of 24 m and 36 m are cut into equal pieces; longest piece?",
    "A baker packs 18 rolls and 27 buns in identical boxes; most boxes possible?",
]


def make_library(path: Path) -> Path:
    with Library.open(path) as lib:
        assert lib.publish(NewTool("gcd", GCD)).ok
    return path


def numbers(text: str) -> list[int]:
    problem = text.split("Problem:", 1)[-1]
    return [int(n) for n in re.findall(r"\b\d+\b", problem)][:2]


def fake_models() -> Any:
    """Both roles over HTTP: the explorer imagines PROBLEMS in turn and calls gcd with the
    problem's numbers; the judge agrees and its program computes the same."""
    asked = {"imagine": 0}

    def reply(body: Mapping[str, Any]) -> str:
        messages = body["messages"]
        system, last = messages[0]["content"], messages[-1]["content"]
        if system.startswith("You write realistic problems"):
            asked["imagine"] += 1
            return json.dumps({"query": PROBLEMS[(asked["imagine"] - 1) % len(PROBLEMS)]})
        if system.startswith("You solve problems with the tools"):
            a, b = numbers(problem_of(messages))
            return json.dumps({"kind": "call", "tool": "gcd", "arguments": {"a": a, "b": b}})
        if system.startswith("You check the work"):
            a, b = numbers(last)
            return json.dumps({"verdict": "yes", "reason": "ok", "answer": str(math.gcd(a, b))})
        a, b = numbers(last)
        return f"```python\ndef solve():\n    return {math.gcd(a, b)}\n```"

    return reply


def run(*args: str, env: Mapping[str, str] | None = None) -> Any:
    return CliRunner().invoke(main, ["explore", *args], env={**CLEAN_ENV, **(env or {})})


def one_line_error(result: Any) -> str:
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in lines[0]
    return lines[0]


def test_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    line = one_line_error(run("--library", str(tmp_path / "none")))
    assert "no library there" in line
    lib = make_library(tmp_path / "lib")
    line = one_line_error(run("--library", str(lib), "--tools", "gcd,nope"))
    assert "--tools nope" in line and "unknown tool 'nope'" in line
    line = one_line_error(run("--library", str(lib), "--tools", " , "))
    assert "--tools" in line
    result = run("--library", str(lib), "--trials", "0")
    assert result.exit_code == 2 and "--trials" in result.output


def test_explore_runs_over_the_fake_server_and_records_demonstrations(tmp_path: Path) -> None:
    lib = make_library(tmp_path / "lib")
    with FakeOpenAIServer(fake_models()) as server:
        env = {
            "MAKER_USER_BASE_URL": server.base_url,
            "MAKER_USER_MODEL": server.model,
            "MAKER_MAKER_BASE_URL": server.base_url,
            "MAKER_MAKER_MODEL": server.model,
            "OPENAI_API_KEY": "x",
        }
        result = run(
            "--library",
            str(lib),
            "--queries-per-tool",
            "2",
            "--no-progress",
            "--cache-dir",
            str(tmp_path / "cache"),
            "--ledger",
            str(tmp_path / "explore.jsonl"),
            env=env,
        )
        assert result.exit_code == 0, result.output
        summary = json.loads(result.output.strip().splitlines()[-1])
        assert summary["verified"] == 2 and summary["failed"] == 0 and summary["queries"] == 2
        assert summary["tokens"]["user"] > 0 and summary["tokens"]["maker"] > 0
        ledger = [json.loads(x) for x in (tmp_path / "explore.jsonl").read_text().splitlines()]
        for role in ("user", "maker"):  # every call on record, as an experiment's make_ledger
            mine = [e for e in ledger if e["role"] == role]
            tokens = sum(e["prompt_tokens"] + e["completion_tokens"] for e in mine)
            assert tokens == summary["tokens"][role]
        assert "gcd@1" in result.output  # the table
        # with --min-experience 2 the tool now has enough judged episodes: skipped
        again = run(
            "--library",
            str(lib),
            "--queries-per-tool",
            "1",
            "--no-progress",
            "--min-experience",
            "2",
            "--cache-dir",
            str(tmp_path / "cache"),
            env=env,
        )
        assert again.exit_code == 0, again.output
        assert json.loads(again.output.strip().splitlines()[-1])["skipped"] == 1
    with Library.open(lib, read_only=True) as opened:
        eps = opened.store.episodes()
        assert [(e.origin, e.success, e.result["value"]) for e in eps] == [
            ("exploration", True, 12),
            ("exploration", True, 9),
        ]
