"""`maker make`, `maker demo` and `maker bench make` from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from maker.bench.oracle import Oracle, example_solutions
from maker.cli import main
from maker.llm import FakeOpenAIServer
from maker.tasks import example_tasks_path, load_tasks

CLEAN_ENV = {
    "MAKER_MAKER_MODEL": "",
    "MAKER_MAKER_BASE_URL": "",
    "OPENAI_API_KEY": "",
    "MAKER_MAKER_API_KEY": "",
    "MAKER_MAKER_API_KEY_ENV": "",
    "MAKER_LLM_LOCAL": "off",
}


def _make_args(
    tasks_file: Path, tmp_path: Path, server: FakeOpenAIServer, *extra: str
) -> list[str]:
    """`maker make` of `tasks_file` on the fake server, into tmp_path's lib and job."""
    return [
        "make",
        str(tasks_file),
        "--library",
        str(tmp_path / "lib"),
        "--job-dir",
        str(tmp_path / "job"),
        "--maker-model",
        server.model,
        "--maker-base-url",
        server.base_url,
        "--no-progress",
        *extra,
    ]


def test_missing_endpoint_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["make", str(example_tasks_path()), "--library", str(tmp_path / "lib")], env=CLEAN_ENV
    )
    assert result.exit_code != 0
    lines = [x for x in result.output.splitlines() if x.strip()]
    assert len(lines) == 1 and "MAKER_MAKER_MODEL" in lines[0] and "Traceback" not in lines[0]
    assert not (tmp_path / "lib").exists()


def test_unavailable_strategy_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["make", str(example_tasks_path()), "--strategy", "alchemy", "--library", str(tmp_path)],
        env=CLEAN_ENV,
    )
    assert result.exit_code != 0 and "alchemy" in result.output


def test_malformed_lines_are_reported_and_the_rest_runs(tmp_path: Path) -> None:
    lines = example_tasks_path().read_text().splitlines()
    bad = [
        lines[0],
        '{"id": "x", "text": ',
        lines[2],
        json.dumps({"id": "y", "text": "t", "split": "dev"}),
    ]
    tasks_file = tmp_path / "tasks.jsonl"
    tasks_file.write_text("\n".join(bad) + "\n")
    tasks, _ = load_tasks(example_tasks_path())
    with FakeOpenAIServer(Oracle(example_solutions(tasks)).server_reply) as server:
        result = CliRunner().invoke(main, _make_args(tasks_file, tmp_path, server), env=CLEAN_ENV)
    assert result.exit_code == 0, result.output
    assert f"{tasks_file}:2: (json)" in result.output
    assert f"{tasks_file}:4: split" in result.output
    report = json.loads((tmp_path / "job" / "report.json").read_text())
    assert report["accepted"] == 2 and len(report["task_errors"]) == 2


def test_demo_runs_offline_and_says_it_is_scripted(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--workdir", str(tmp_path)], env=CLEAN_ENV)
    assert result.exit_code == 0, result.output
    assert "SCRIPTED" in result.output
    assert "divisor_sum@1" in result.output and "eval_boolean@1" in result.output


def test_bench_make_prints_a_json_line_last() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "maker.cli",
            "bench",
            "make",
            "--tasks",
            "6",
            "--latency",
            "0.05",
            "--concurrency",
            "4",
            "--max-examples",
            "5",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    for key in ("calls", "wall_s", "ideal_s", "efficiency", "rerun_wall_s"):
        assert key in figures
    assert figures["calls"] == 12 and figures["rerun_requests"] == 0
    assert figures["ledger_tokens_match_server"] is True
    # the fake server runs in its own process; its counters come back over HTTP
    assert figures["requests"] == 12
    assert figures["units_in_flight"] == 8 and 1 <= figures["max_in_flight"] <= 4


def test_make_drafts_sends_that_many_first_drafts_at_once(tmp_path: Path) -> None:
    """`--drafts 3`: three propose requests (the first cold, the others warm with their own
    seeds), the best draft goes on and the job report counts the others as turned down."""
    from maker.tasks import dump_tasks
    from tests.maker.make import test_latm_text as tx

    def reply(body: dict) -> str:
        last = body["messages"][-1]["content"]
        if "Write one generic Python function" not in last:
            return tx.HELD_CALLS
        return (tx.TOOL if body.get("seed") == 9 + 100 else tx.OVERFIT) + tx.SHOWN_CALLS

    tasks_file = tmp_path / "ws.jsonl"
    dump_tasks(tx._tasks(), tasks_file)
    with FakeOpenAIServer(reply) as server:
        result = CliRunner().invoke(
            main,
            _make_args(tasks_file, tmp_path, server, "--strategy", "latm", "--max-repairs", "0")
            + ["--drafts", "3"],
            env={**CLEAN_ENV, "MAKER_MAKER_TEMPERATURE": "0", "MAKER_MAKER_SEED": "9"},
        )
        proposals = [
            b for b in server.received if "Write one generic" in b["messages"][-1]["content"]
        ]
    assert result.exit_code == 0, result.output
    assert sorted((b.get("temperature"), b.get("seed")) for b in proposals) == [
        (0.0, 9),
        (0.7, 109),
        (0.7, 209),
    ]
    report = json.loads((tmp_path / "job" / "report.json").read_text())
    assert report["accepted"] == 1
    turned_down = (tmp_path / "job" / "rejections.jsonl").read_text().splitlines()
    assert [json.loads(x)["reason"] for x in turned_down] == ["not_chosen", "not_chosen"]
