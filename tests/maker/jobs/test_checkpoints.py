"""What a job writes to its checkpointer, and how a finished job is read back on a re-run."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from langgraph.pregel import Pregel

from library import Library, NewTool
from maker.llm import Rule
from maker.tasks import Task
from maker.use.job import run_solve
from sandbox import Sandbox
from tests.maker.use.conftest import GCD, client_for

TASKS = [
    Task(f"g{i}", f"Greatest common divisor of {6 * i} and 4?", answer=gold)
    for i, gold in zip((1, 2, 3), (2, 4, 2), strict=True)
]
RULES = [
    Rule(f"of {6 * i} and 4", json.dumps({"tool": "gcd", "arguments": {"a": 6 * i, "b": 4}}))
    for i in range(1, 4)
]


def _solve(tmp_path: Path, sb: Sandbox, rules: list[Rule], **kw: object) -> tuple:
    client, model = client_for(rules)
    report, job = run_solve(
        TASKS,
        library_dir=tmp_path / "lib",
        job_dir=tmp_path / "job",
        client=client,
        sandbox=sb,
        concurrency=2,
        progress=False,
        **kw,
    )
    return report, job, model


def _checkpoints(tmp_path: Path) -> dict[str, int]:
    with sqlite3.connect(tmp_path / "job" / "checkpoints.sqlite") as conn:
        rows = conn.execute("SELECT thread_id, COUNT(*) FROM checkpoints GROUP BY thread_id")
        return {t.rsplit(":", 1)[1]: n for t, n in rows}


def _lines(tmp_path: Path) -> dict[str, dict]:
    text = (tmp_path / "job" / "units.jsonl").read_text("utf-8")
    return {d["unit_id"]: d for d in map(json.loads, text.splitlines())}


@pytest.fixture
def library(tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib") as lib:
        lib.publish(NewTool("gcd", GCD))


@pytest.mark.parametrize("step_nodes", [False, True])
def test_a_solve_job_checkpoints_once_per_problem_unless_per_step(
    tmp_path: Path, sb: Sandbox, library: None, step_nodes: bool
) -> None:
    report, job, model = _solve(tmp_path, sb, RULES, step_nodes=step_nodes)
    model.assert_consumed()
    assert job.errors == 0 and report.accuracy == 1.0
    counts = _checkpoints(tmp_path)
    assert set(counts) == {"g1", "g2", "g3"}
    if step_nodes:  # input, after ask, after act (and the writes in between)
        assert all(n >= 3 for n in counts.values()), counts
    else:
        assert all(n == 1 for n in counts.values()), counts


def test_a_finished_job_is_read_back_from_its_lines_while_they_match_the_checkpoints(
    tmp_path: Path, sb: Sandbox, library: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, _, _ = _solve(tmp_path, sb, RULES)
    lines = _lines(tmp_path)
    assert all(line.get("checkpoint_id") for line in lines.values())

    # every line names its unit's latest checkpoint: no checkpoint is loaded on a re-run
    with monkeypatch.context() as m:
        m.setattr(Pregel, "get_state", lambda *a, **k: pytest.fail("a checkpoint was loaded"))
        again, job, model = _solve(tmp_path, sb, [])
    assert not model.calls and job.resumed == 3 and again.accuracy == first.accuracy == 1.0

    # a line that names another checkpoint is not trusted: the checkpoint is read instead
    stale = {**json.loads(json.dumps(lines["g2"])), "status": "rejected", "checkpoint_id": "0-x"}
    stale["usage"]["solve"] = {**stale["usage"]["solve"], "correct": False}
    (tmp_path / "job" / "units.jsonl").write_text(
        "".join(json.dumps(d) + "\n" for d in {**lines, "g2": stale}.values()), "utf-8"
    )
    third, job3, model3 = _solve(tmp_path, sb, [])
    assert not model3.calls and job3.resumed == 3
    assert third.accuracy == 1.0 and job3.accepted == 3
    assert _lines(tmp_path)["g2"] == lines["g2"]  # rewritten from the checkpoint
