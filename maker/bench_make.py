"""`maker bench make`: a CREATOR batch against the fake server, then the same batch from cache.

The first run makes every model call through the wire (the fake server answers after `latency`
seconds with the oracle's reply for the task); the second run starts a fresh job dir and a
fresh library with the response cache of the first, so it makes zero requests and measures
everything else (sandbox runs, validation, checkpoints, publishing). A third figure, the same
command re-run on the finished job dir, measures resume (nothing left to do).

`ideal_s` = calls x latency / concurrency: the wall time if the only cost were waiting for the
model with every slot busy. `efficiency` = ideal_s / wall_s.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from maker.jobs import run_job
from maker.llm import CostLedger, FakeOpenAIServer, ResponseCache, load_config, make_client
from maker.oracle import Oracle, synthetic_tasks
from maker.strategies import Options
from sandbox import Sandbox


def run_bench(*, tasks: int = 100, latency: float = 0.2, concurrency: int = 16,
              workers: int = 2, max_examples: int = 20, console: Console | None = None,
              workdir: str | Path | None = None) -> dict[str, Any]:
    """Run the benchmark; print a table and, last, one JSON line; return the figures."""
    console = console or Console()
    batch, solutions = synthetic_tasks(tasks)
    oracle = Oracle(solutions)
    options = Options(max_examples=max_examples)
    with tempfile.TemporaryDirectory(prefix="maker-bench-") as tmp, \
            FakeOpenAIServer(oracle.server_reply, latency=latency) as server, \
            Sandbox(workers=workers) as sb:
        root = Path(workdir or tmp)
        config = load_config(env={}, overrides={
            "maker.base_url": server.base_url, "maker.model": server.model,
            "maker.concurrency": concurrency, "maker.max_retries": 2,
            "cache_dir": str(root / "cache")})
        sb.start()
        sb.run("def warm() -> int:\n    return 1\n", "warm")

        def one(tag: str, job: str) -> tuple[Any, float, int, CostLedger]:
            ledger = CostLedger()
            client = make_client(config, "maker", ledger=ledger,
                                 cache=ResponseCache(root / "cache"))
            before = server.stats().requests
            t0 = time.perf_counter()
            report = run_job(batch, "creator", library_dir=root / f"lib-{tag}",
                             job_dir=root / job, client=client, sandbox=sb,
                             concurrency=concurrency, progress=False, options=options)
            return report, time.perf_counter() - t0, server.stats().requests - before, ledger

        first, wall, requests, ledger = one("first", "job-first")
        stats = server.stats()
        second, rerun_wall, rerun_requests, _ = one("rerun", "job-rerun")
        third, resume_wall, resume_requests, _ = one("first", "job-first")
    calls = ledger.total().calls
    ideal = calls * latency / concurrency
    figures = {
        "tasks": tasks, "latency_s": latency, "concurrency": concurrency,
        "accepted": first.accepted, "rejected": first.rejected, "errors": first.errors,
        "calls": calls, "requests": requests, "wall_s": round(wall, 3),
        "ideal_s": round(ideal, 3), "efficiency": round(ideal / wall, 3) if wall else 0.0,
        "max_in_flight": stats.max_in_flight,
        "ledger_tokens_match_server": (
            ledger.total().prompt_tokens == stats.prompt_tokens
            and ledger.total().completion_tokens == stats.completion_tokens),
        "rerun_wall_s": round(rerun_wall, 3), "rerun_requests": rerun_requests,
        "rerun_accepted": second.accepted,
        "rerun_ratio": round(rerun_wall / wall, 4) if wall else 0.0,
        "resume_wall_s": round(resume_wall, 3), "resume_requests": resume_requests,
        "resume_skipped": third.resumed,
    }
    table = Table(title=f"maker bench make: CREATOR on {tasks} tasks, fake server "
                        f"{latency * 1000:.0f} ms/call, concurrency {concurrency}")
    for col in ("run", "wall s", "model requests", "accepted", "note"):
        table.add_column(col)
    table.add_row("first", f"{wall:.3f}", str(requests), str(first.accepted),
                  f"ideal {ideal:.3f} s, efficiency {figures['efficiency']:.2f}")
    table.add_row("fresh job, cached replies", f"{rerun_wall:.3f}", str(rerun_requests),
                  str(second.accepted), f"{figures['rerun_ratio'] * 100:.1f}% of first run")
    table.add_row("same job re-run (resume)", f"{resume_wall:.3f}", str(resume_requests),
                  str(third.accepted), f"{third.resumed} units already finished")
    console.print(table)
    console.print(json.dumps(figures), soft_wrap=True, markup=False, highlight=False)
    return figures
