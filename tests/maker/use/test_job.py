"""Solving as a batch job: the report from a run, resume after kill -9, the CLI's errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from library import Library
from maker.bench.solve import example_reply, publish_oracle_tools
from maker.cli import main
from maker.llm import FakeOpenAIServer, Rule
from maker.tasks import Task, dump_tasks, example_tasks_path, load_tasks
from maker.use import SolveSettings
from maker.use.job import run_solve
from sandbox import Sandbox
from tests.maker.use.conftest import GCD, client_for

ENV = {k: v for k, v in os.environ.items() if not k.startswith(("MAKER_", "OPENAI"))}


def oracle_library(path: Path) -> None:
    with Library.open(path) as lib:
        publish_oracle_tools(lib)


@pytest.mark.parametrize("step_nodes", [False, True])
def test_a_batch_reports_what_its_problems_did(
    tmp_path: Path, sb: Sandbox, step_nodes: bool
) -> None:
    from library import NewTool

    with Library.open(tmp_path / "lib") as lib:
        lib.publish(NewTool("gcd", GCD))
    tasks = [
        Task(
            f"g{i}",
            f"What is the greatest common divisor of {6 * i} and 4?",
            answer=[2, 4, 2][i - 1],
        )
        for i in range(1, 4)
    ]
    tasks += [
        Task("prog", "Greatest common divisor of 12 and 18, doubled?", answer=12),
        Task("capital", "What is the capital city of France?", answer="Paris"),
        Task("nogold", "What is the greatest common divisor of 7 and 21?"),
    ]
    rules = [
        Rule(
            f"divisor of {6 * i} and 4",
            json.dumps({"kind": "call", "tool": "gcd", "arguments": {"a": 6 * i, "b": 4}}),
        )
        for i in (1, 2)
    ]
    rules += [  # g3: a wrong argument type first, corrected
        Rule("divisor of 18 and 4?\n", '{"tool": "gcd", "arguments": {"a": "18", "b": 4}}'),
        Rule("Reply again", '{"tool": "gcd", "arguments": {"a": 18, "b": 4}}'),
        Rule(
            "doubled",
            json.dumps({"kind": "program", "program": "def solve():\n    return 2 * gcd(12, 18)"}),
        ),
        Rule("capital", '{"kind": "answer", "answer": "Lyon"}'),
        Rule("7 and 21", '{"kind": "call", "tool": "gcd", "arguments": {"a": 7, "b": 21}}'),
    ]
    client, model = client_for(rules)
    report, job = run_solve(
        tasks,
        library_dir=tmp_path / "lib",
        job_dir=tmp_path / "job",
        client=client,
        sandbox=sb,
        settings=SolveSettings(),
        concurrency=3,
        progress=False,
        step_nodes=step_nodes,
    )
    model.assert_consumed()
    assert job.errors == 0 and (report.problems, report.finished) == (6, 6)
    assert (report.graded, report.correct, report.accuracy) == (5, 4, 0.8)  # Lyon is wrong
    assert report.tool_use_rate == round(5 / 6, 4)
    assert report.accuracy_with_tool == 1.0 and report.accuracy_without_tool == 0.0
    assert report.reuse == {"gcd@1": {"problems": 5, "correct": 4}}
    assert report.stage_rates["first_reply_well_formed"]["rate"] == 1.0
    assert report.stage_rates["args_valid"] == {"rate": 1.0, "n": 5}  # g3 was corrected
    assert report.mean_attempts == round(7 / 6, 4)
    assert report.cost["by_role"]["user"]["calls"] == 7
    assert report.cost["by_phase"]["solve_retry"]["calls"] == 1
    saved = json.loads((tmp_path / "job" / "report.json").read_text())
    assert saved["accuracy"] == 0.8 and saved["job"]["errors"] == 0
    with Library.open(tmp_path / "lib", read_only=True) as lib:
        episodes = lib.store.episodes()
        assert len(episodes) == 6
        assert lib.resolve("gcd").usage.successes == 3  # the single calls with a gold answer
    # the same job again: nothing re-asked, the same report
    client2, model2 = client_for([])
    again, job2 = run_solve(
        tasks,
        library_dir=tmp_path / "lib",
        job_dir=tmp_path / "job",
        client=client2,
        sandbox=sb,
        progress=False,
    )
    assert not model2.calls and job2.resumed == 6 and again.accuracy == 0.8


@pytest.mark.slow
def test_resume_after_kill_does_not_ask_finished_problems_again(tmp_path: Path) -> None:
    lib, job = tmp_path / "lib", tmp_path / "job"
    oracle_library(lib)
    problems = tmp_path / "problems.jsonl"
    problems.write_text(example_tasks_path().read_text())
    with FakeOpenAIServer(example_reply(), latency=0.3) as server:
        cmd = [
            sys.executable,
            "-m",
            "maker.cli",
            "solve",
            str(problems),
            "--library",
            str(lib),
            "--job-dir",
            str(job),
            "--concurrency",
            "1",
            "--units-in-flight",
            "1",
            "--user-model",
            server.model,
            "--user-base-url",
            server.base_url,
            "--no-progress",
        ]
        proc = subprocess.Popen(
            cmd,
            env=ENV,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        units = job / "units.jsonl"
        deadline = time.monotonic() + 60
        while not (units.exists() and len(units.read_text().splitlines()) >= 2):
            assert proc.poll() is None, "the job ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.1)  # waiting on the model for the next problem
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        done_first = {json.loads(x)["unit_id"] for x in units.read_text().splitlines() if x}
        assert 2 <= len(done_first) < 6
        first_requests = server.stats().requests
        rerun = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        later = server.received[first_requests:]
    texts = {t.id: t.text for t in load_tasks(problems)[0]}
    for uid in done_first:
        assert not [b for b in later if texts[uid] in b["messages"][1]["content"]]
    assert 6 <= server.stats().requests <= 7  # at most the one in flight at the kill, again
    report = json.loads((job / "report.json").read_text())
    assert report["finished"] == 6 and report["accuracy"] == 1.0
    assert report["tool_use_rate"] == 1.0 and report["job"]["resumed"] >= len(done_first)
    with Library.open(lib, read_only=True) as library:
        assert len(library.store.episodes()) == 6  # each problem recorded once


def test_cli_errors_are_one_line_with_exit_2(tmp_path: Path) -> None:
    problems = tmp_path / "p.jsonl"
    dump_tasks([Task("a", "What is 1 + 1?", answer=2)], problems)
    runner = CliRunner()
    env = {"MAKER_USER_MODEL": "m", "MAKER_USER_BASE_URL": "http://127.0.0.1:9/v1"}
    out = runner.invoke(
        main, ["solve", str(problems), "--library", str(tmp_path / "none")], env=env
    )
    assert out.exit_code == 2 and "no library at" in out.output
    no_endpoint = runner.invoke(
        main,
        ["solve", str(problems), "--library", str(tmp_path)],
        env={"MAKER_USER_MODEL": "", "OPENAI_API_KEY": ""},
    )
    assert no_endpoint.exit_code == 2 and "MAKER_USER_MODEL" in no_endpoint.output
    oracle_library(tmp_path / "lib")
    bad_lock = tmp_path / "lock.json"
    bad_lock.write_text("{not json")
    out = runner.invoke(
        main,
        ["solve", str(problems), "--library", str(tmp_path / "lib"), "--lock", str(bad_lock)],
        env=env,
    )
    assert out.exit_code == 2 and "--lock" in out.output and "Traceback" not in out.output
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"id": "x"}\n')
    out = runner.invoke(main, ["solve", str(empty), "--library", str(tmp_path / "lib")], env=env)
    assert out.exit_code == 2 and "no valid problem" in out.output


def test_a_lock_pins_the_tools_offered(tmp_path: Path, sb: Sandbox) -> None:
    from library import NewTool
    from tests.maker.use.conftest import SORT_WORDS

    with Library.open(tmp_path / "lib") as lib:
        lib.publish(NewTool("gcd", GCD))
        lock = lib.snapshot()
        lib.publish(NewTool("sort_words", SORT_WORDS))  # after the snapshot
    tasks = [Task("s", "Sort these words alphabetically: pear apple fig", answer="apple fig pear")]
    reply = (
        '{"kind": "call", "tool": "sort_words", "arguments": {"words": ["pear", "apple", "fig"]}}'
    )
    direct = '{"kind": "answer", "answer": "apple fig pear"}'
    client, model = client_for([Rule("none of the library's tools fits", direct)])
    pinned, _ = run_solve(
        tasks,
        library_dir=tmp_path / "lib",
        job_dir=tmp_path / "pinned",
        client=client,
        sandbox=sb,
        lock=lock,
        progress=False,
    )
    assert pinned.abstained == 1 and pinned.tool_use_rate == 0.0 and pinned.accuracy == 1.0
    assert pinned.job["lock"] == lock.digest
    client, model = client_for([Rule("sort_words(words: list[str])", reply)])
    free, _ = run_solve(
        tasks,
        library_dir=tmp_path / "lib",
        job_dir=tmp_path / "free",
        client=client,
        sandbox=sb,
        progress=False,
    )
    assert free.reuse == {"sort_words@1": {"problems": 1, "correct": 1}}


def test_the_progress_bar_of_a_solve_job_says_solving_and_answered() -> None:
    from rich.console import Console

    from maker.jobs.runner import _progress
    from maker.use.strategy import SolveStrategy

    console = Console(record=True, width=120)
    bar = _progress(console, SolveStrategy.progress_words)
    with bar:
        bar.add_task("", total=3, accepted=2, rejected=1, in_flight=0, errors=0, dollars=0.0)
    text = console.export_text()
    assert "solving" in text and "2 answered" in text and "1 no answer" in text
    assert "making" not in text and "accepted" not in text


def test_the_graph_state_keeps_every_key_of_a_problem() -> None:
    # a key missing from the graph's state schema is dropped between checkpointed steps
    # (`step_nodes=True`): the example values a copied call is checked against, the tools
    # that refused the problem
    from maker.use.solver import initial_state
    from maker.use.strategy import SolveState

    assert set(initial_state(Task("t", "x"))) == set(SolveState.__annotations__)
