"""`run_solve`: a batch of problems through the job runner, then the solve report.

    report = run_solve(tasks, library_dir="lib", job_dir="lib/jobs/solve-x", client=user,
                       sandbox=sb, settings=SolveSettings(top_k=3))

The job runner (`maker.jobs.run_job`) does the batch work: one unit per problem, checkpointed,
resumable after kill -9, concurrent (``concurrency`` units; model requests are limited by the
client's role), the cost ledger and a progress bar. The job dir's ``report.json`` is then
replaced by the `SolveReport` (with the runner's figures under ``job``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from library.records import Lock
from maker.jobs import JobDir, run_job
from maker.jobs.report import JobReport
from maker.llm import ChatClient
from maker.tasks import Task, TaskError
from maker.use.report import SolveReport, summarize
from maker.use.solver import SolveSettings
from maker.use.strategy import SolveStrategy
from sandbox import Sandbox


def solve_job_dir(
    library_dir: str | Path,
    tasks: Sequence[Task],
    settings: SolveSettings,
    lock: Lock | None = None,
) -> Path:
    """``LIBRARY/jobs/solve-<digest>``: the digest covers the problems, the settings and the
    lock, so the same command finds its job again and a different one starts afresh."""
    text = json.dumps(
        {
            "tasks": [t.to_json() for t in tasks],
            "settings": settings.to_json(),
            "lock": lock.digest if lock else None,
        },
        sort_keys=True,
        default=str,
    )
    return Path(library_dir) / "jobs" / f"solve-{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def run_solve(
    tasks: Sequence[Task],
    *,
    library_dir: str | Path,
    job_dir: str | Path,
    client: ChatClient,
    sandbox: Sandbox,
    settings: SolveSettings | None = None,
    lock: Lock | None = None,
    concurrency: int = 8,
    progress: bool = True,
    task_errors: Sequence[TaskError] = (),
    console: Console | None = None,
    step_nodes: bool = False,
) -> tuple[SolveReport, JobReport]:
    """Solve `tasks` with the tools of the library at `library_dir` (see the module docstring).

    `step_nodes` checkpoints after each step (ask, act) instead of once per problem.

    Returns the `SolveReport` (also written to ``report.json`` in the job dir) and the runner's
    `JobReport` (errors, units not started, wall time).
    """
    strategy = SolveStrategy(settings, lock=lock, step_nodes=step_nodes)
    job = run_job(
        tasks,
        strategy,
        library_dir=library_dir,
        job_dir=job_dir,
        client=client,
        sandbox=sandbox,
        concurrency=concurrency,
        progress=progress,
        gate=False,
        task_errors=task_errors,
        console=console,
    )
    jd = JobDir(Path(job_dir))
    finished = jd.finished_units()
    records = [
        finished[t.id]["usage"]["solve"]
        for t in tasks
        if t.id in finished and "solve" in finished[t.id].get("usage", {})
    ]
    info = {
        "job_id": job.job_id,
        "job_dir": job.job_dir,
        "library_dir": job.library_dir,
        "lock": lock.digest if lock else None,
        "settings": strategy.settings.to_json(),
        "errors": job.errors,
        "error_details": list(job.error_details),
        "not_started": job.not_started,
        "resumed": job.resumed,
        "wall_s": job.wall_s,
        "stopped": job.stopped,
        "task_errors": list(job.task_errors),
    }
    report = summarize(records, client.ledger, problems=len(tasks), job=info)
    jd.report_file.write_text(report.dumps(), encoding="utf-8")
    return report, job
