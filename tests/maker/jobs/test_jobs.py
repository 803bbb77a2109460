"""Batch jobs on the wire: faults, cache re-runs, ledger vs server, resume after kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from library import Library
from maker.bench.oracle import Oracle, example_solutions
from maker.jobs import JobError, run_job
from maker.llm import (
    CostLedger,
    FakeOpenAIServer,
    FakeServerProcess,
    ResponseCache,
    load_config,
    make_client,
)
from maker.make import StrategyUnavailable, get_strategy
from maker.tasks import example_tasks_path, load_tasks
from sandbox import Sandbox

TASKS, _ = load_tasks(example_tasks_path())


def wire_client(
    server: FakeOpenAIServer, cache_dir: Path | None = None, ledger: CostLedger | None = None
):
    config = load_config(
        env={},
        overrides={
            "maker.base_url": server.base_url,
            "maker.model": server.model,
            "maker.max_retries": 4,
            "maker.backoff_initial": 0.01,
            "maker.backoff_max": 0.05,
            "maker.timeout": 2,
        },
    )
    cache = ResponseCache(cache_dir) if cache_dir else None
    return make_client(config, "maker", ledger=ledger or CostLedger(), cache=cache)


def oracle() -> Oracle:
    return Oracle(example_solutions(TASKS))


def test_wire_faults_are_retried_and_ledger_matches_server(tmp_path: Path, sb: Sandbox) -> None:
    faults = ["429", "500", "malformed", "truncated", "no_choices", "no_usage"]
    with FakeOpenAIServer(oracle().server_reply, faults=faults) as server:
        client = wire_client(server)
        report = run_job(
            TASKS,
            "creator",
            library_dir=tmp_path / "lib",
            job_dir=tmp_path / "job",
            client=client,
            sandbox=sb,
            concurrency=3,
            progress=False,
        )
        stats = server.stats()
    assert (report.accepted, report.errors) == (6, 0)
    total = client.ledger.total()
    assert total.calls == 12 and stats.completions == 12
    assert total.attempts == stats.requests == 12 + 5  # five faults cost a retry each
    assert total.usage_missing == 1  # the no_usage reply: counted, flagged
    assert total.prompt_tokens == stats.prompt_tokens
    assert total.completion_tokens == stats.completion_tokens
    assert report.phases["total"]["requests"] == stats.requests


def test_rerun_is_served_wholly_from_cache(tmp_path: Path, sb: Sandbox) -> None:
    with FakeOpenAIServer(oracle().server_reply) as server:
        first = run_job(
            TASKS,
            "creator",
            library_dir=tmp_path / "lib1",
            job_dir=tmp_path / "job1",
            client=wire_client(server, tmp_path / "c"),
            sandbox=sb,
            concurrency=4,
            progress=False,
        )
        served = server.stats().requests
        client = wire_client(server, tmp_path / "c")
        second = run_job(
            TASKS,
            "creator",
            library_dir=tmp_path / "lib2",
            job_dir=tmp_path / "job2",
            client=client,
            sandbox=sb,
            concurrency=4,
            progress=False,
        )
        assert server.stats().requests == served == 12
    assert (second.accepted, second.errors) == (6, 0), second.to_json()
    assert client.ledger.total().cache_hits == 12 and client.ledger.total().dollars == 0
    assert second.accepted == first.accepted == 6
    with Library.open(tmp_path / "lib1") as a, Library.open(tmp_path / "lib2") as b:
        assert [(r.ref, r.content_hash) for r in a.store.list()] == [
            (r.ref, r.content_hash) for r in b.store.list()
        ]


def test_finished_job_rerun_does_nothing(tmp_path: Path, sb: Sandbox) -> None:
    with FakeOpenAIServer(oracle().server_reply) as server:
        kw = dict(
            library_dir=tmp_path / "lib",
            job_dir=tmp_path / "job",
            sandbox=sb,
            concurrency=2,
            progress=False,
        )
        run_job(TASKS, "creator", client=wire_client(server), **kw)
        first = server.stats().requests
        client = wire_client(server)
        again = run_job(TASKS, "creator", client=client, **kw)
        # the first run asks create + decide per task (a request retried under load is counted
        # by the server too); the rerun asks nothing
        assert first >= 12 and server.stats().requests == first
    assert again.resumed == 6 and again.accepted == 6 and client.ledger.total().calls == 0


def test_job_dir_of_another_strategy_and_unavailable_strategies(tmp_path: Path) -> None:
    (tmp_path / "job").mkdir()
    (tmp_path / "job" / "job.json").write_text(json.dumps({"strategy": "latm", "job_id": "x"}))
    with pytest.raises(JobError, match="another --job-dir"):
        run_job(
            TASKS,
            "creator",
            library_dir=tmp_path / "lib",
            job_dir=tmp_path / "job",
            client=None,
            sandbox=None,
            progress=False,
        )  # type: ignore[arg-type]
    with pytest.raises(StrategyUnavailable, match="unknown strategy"):
        get_strategy("alchemy")


def test_resume_after_kill_does_not_redo_finished_units(tmp_path: Path) -> None:
    tasks_file = tmp_path / "tasks.jsonl"
    tasks_file.write_text(example_tasks_path().read_text())
    lib, job = tmp_path / "lib", tmp_path / "job"
    with FakeOpenAIServer(oracle().server_reply, latency=0.25) as server:
        cmd = [
            sys.executable,
            "-m",
            "maker.cli",
            "make",
            str(tasks_file),
            "--strategy",
            "creator",
            "--library",
            str(lib),
            "--job-dir",
            str(job),
            "--concurrency",
            "1",
            "--maker-model",
            server.model,
            "--maker-base-url",
            server.base_url,
            "--no-progress",
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKER_", "OPENAI"))}
        proc = subprocess.Popen(
            cmd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        units = job / "units.jsonl"
        deadline = time.monotonic() + 60
        while not (units.exists() and units.read_text().strip()):
            assert proc.poll() is None, "the job ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.3)  # mid-way through the next unit
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        done_first = {json.loads(x)["unit_id"] for x in units.read_text().splitlines() if x}
        assert 1 <= len(done_first) < 6
        requests_first = server.stats().requests
        texts = {t.id: t.text for t in TASKS}
        rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=90)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        later = server.received[requests_first:]
    report = json.loads((job / "report.json").read_text())
    assert report["accepted"] == 6 and report["resumed"] >= len(done_first)
    for uid in done_first:  # no request in the second run for a finished unit
        assert not [b for b in later if texts[uid] in b["messages"][-1]["content"]]
    # at most the one request in flight at the kill is asked again (its reply never arrived,
    # so it could not be cached); everything answered before the kill came from the cache
    assert 12 <= server.stats().requests <= 13
    with Library.open(lib, read_only=True) as library:
        for rec in library.store.list():
            assert [r.version for r in library.store.history(rec.name)] == [1]
            ids = [p.task_ids for p in rec.provenance]
            assert len(ids) == len(set(ids)) == 2  # each task's provenance recorded once


def test_cli_concurrency_limits_requests_in_flight_not_units(tmp_path: Path) -> None:
    """`maker make --concurrency 2`: at most 2 requests at the endpoint at once, while up to 4
    units are worked on (their validation overlaps the waiting)."""
    tasks_file = tmp_path / "tasks.jsonl"
    tasks_file.write_text(example_tasks_path().read_text())
    with FakeServerProcess("maker.bench.oracle:example_server_reply", latency=0.15) as server:
        cmd = [
            sys.executable,
            "-m",
            "maker.cli",
            "make",
            str(tasks_file),
            "--library",
            str(tmp_path / "lib"),
            "--concurrency",
            "2",
            "--maker-model",
            server.model,
            "--maker-base-url",
            server.base_url,
            "--no-progress",
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MAKER_", "OPENAI"))}
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
        stats = server.stats()
    assert stats.requests == 12 and stats.max_in_flight == 2


def test_job_stops_starting_units_after_errors_in_a_row_and_resumes(
    tmp_path: Path, sb: Sandbox
) -> None:
    kw = dict(
        library_dir=tmp_path / "lib",
        job_dir=tmp_path / "job",
        sandbox=sb,
        concurrency=1,
        progress=False,
    )
    with FakeOpenAIServer(oracle().server_reply, faults=["500"] * 10) as server:
        down = run_job(TASKS, "creator", client=wire_client(server), stop_after_errors=2, **kw)
        assert server.stats().requests == 10  # two units, five attempts each, then no more
        assert (down.errors, down.not_started, down.accepted) == (2, 4, 0)
        assert down.stopped.startswith(
            "2 units in a row ended in an error; the last: ModelCallError"
        )
        saved = json.loads((tmp_path / "job" / "report.json").read_text())
        assert saved["not_started"] == 4 and saved["stopped"] == down.stopped
        up = run_job(TASKS, "creator", client=wire_client(server), **kw)  # the endpoint is back
    assert (up.accepted, up.errors, up.not_started, up.stopped) == (6, 0, 0, "")


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        (
            "propose:no_code_block: the reply has no fenced ```python code block",
            "propose:no_code_block",
        ),
        ("validation:held_out (repairs exhausted): expected 28, got 16", "validation:held_out"),
        (
            "solve:no_verified_solutions: no train problem with a gold answer was solved",
            "solve:no_verified_solutions",
        ),
        ("publish:rejected: gate failed against gcd@4", "publish:rejected"),
        (
            "rectify:exhausted: no correct run after 3 repair(s): The call failed",
            "rectify:exhausted",
        ),
    ],
)
def test_unit_reasons_lead_with_a_code_the_report_counts(reason: str, code: str) -> None:
    from maker.jobs.report import count_reasons, reason_code

    assert reason_code(reason) == code
    assert count_reasons([reason, reason]) == {code: 2}
