"""`maker bench make`: a CREATOR batch against the fake server, then the same batch from cache.

The first run makes every model call through the wire: the fake server runs in its own process
(`FakeServerProcess`, as a real endpoint would; an in-process server would take the client's
GIL to answer) and answers after `latency` seconds with the oracle's reply for the task.
``rerun_wall_s`` is the same command re-run on the finished job (same job dir and response
cache): it resumes, makes zero requests and gives the same results; the target is under 5% of
the first run (``rerun_ratio``). The ``fresh_job_cached_*`` figures are a fresh job dir and a
fresh library served from the first run's response cache: zero requests, everything else redone
(sandbox runs, validation, checkpoints, publishing), with its own ratio.

Validation uses the settings of a default `maker make` run (`Options()`: max_examples 50)
unless ``max_examples`` is given. Before the timers start, the sandbox runs one warm-up call and
the process does its one-time imports (the strategy's LangGraph graph, the OpenAI SDK's chat
client; no request is made), and, as `maker make` does, freezes the objects alive after
start-up out of the cyclic garbage collector; their time is reported as ``startup_s``. Each run
is its own job with its own property memo and de-duplication index (nothing carries over
between jobs in one process).

`concurrency` is the maker role's limit on model requests in flight (the fake server reports the
highest it saw as ``max_in_flight``). The job works on ``units_in_flight`` units at once (default
twice the concurrency, as `maker make`), so that sandbox validation of some units overlaps
waiting on the model for others. `ideal_s` = calls x latency / concurrency: the wall time if
the only cost were waiting for the model with every slot busy. `efficiency` = ideal_s / wall_s.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from maker.bench.oracle import synthetic_tasks
from maker.jobs import default_units, freeze_startup_objects, run_job
from maker.llm import CostLedger, FakeServerProcess, ResponseCache, load_config, make_client
from maker.make import Options, get_strategy
from sandbox import Sandbox


def run_bench(
    *,
    tasks: int = 100,
    latency: float = 0.2,
    concurrency: int = 16,
    workers: int = 2,
    max_examples: int | None = None,
    units_in_flight: int | None = None,
    console: Console | None = None,
    workdir: str | Path | None = None,
) -> dict[str, Any]:
    """Run the benchmark; print a table and, last, one JSON line; return the figures."""
    console = console or Console()
    batch, _ = synthetic_tasks(tasks)
    units = units_in_flight or default_units(concurrency)
    options = Options() if max_examples is None else Options(max_examples=max_examples)
    with (
        tempfile.TemporaryDirectory(prefix="maker-bench-") as tmp,
        FakeServerProcess(
            "maker.bench.oracle:synthetic_server_reply", [tasks], latency=latency
        ) as server,
        Sandbox(workers=workers) as sb,
    ):
        root = Path(workdir or tmp)
        config = load_config(
            env={},
            overrides={
                "maker.base_url": server.base_url,
                "maker.model": server.model,
                "maker.concurrency": concurrency,
                "maker.max_retries": 2,
                "cache_dir": str(root / "cache"),
            },
        )
        t0 = time.perf_counter()
        sb.start()
        sb.run("def warm() -> int:\n    return 1\n", "warm")
        _warm_up(make_client(config, "maker"))
        freeze_startup_objects()
        startup = time.perf_counter() - t0

        def one(tag: str, job: str) -> tuple[Any, float, int, CostLedger]:
            ledger = CostLedger()
            client = make_client(
                config, "maker", ledger=ledger, cache=ResponseCache(root / "cache")
            )
            before = server.stats().requests
            t0 = time.perf_counter()
            report = run_job(
                batch,
                "creator",
                library_dir=root / f"lib-{tag}",
                job_dir=root / job,
                client=client,
                sandbox=sb,
                concurrency=units,
                progress=False,
                options=options,
            )
            return report, time.perf_counter() - t0, server.stats().requests - before, ledger

        first, wall, requests, ledger = one("first", "job-first")
        stats = server.stats()
        third, resume_wall, resume_requests, _ = one("first", "job-first")
        second, fresh_wall, fresh_requests, _ = one("fresh", "job-fresh")
    calls = ledger.total().calls
    ideal = calls * latency / concurrency
    figures = {
        "tasks": tasks,
        "latency_s": latency,
        "concurrency": concurrency,
        "accepted": first.accepted,
        "rejected": first.rejected,
        "errors": first.errors,
        "calls": calls,
        "requests": requests,
        "wall_s": round(wall, 3),
        "ideal_s": round(ideal, 3),
        "efficiency": round(ideal / wall, 3) if wall else 0.0,
        "max_in_flight": stats.max_in_flight,
        "units_in_flight": units,
        "ledger_tokens_match_server": (
            ledger.total().prompt_tokens == stats.prompt_tokens
            and ledger.total().completion_tokens == stats.completion_tokens
        ),
        "max_examples": options.max_examples,
        "startup_s": round(startup, 3),
        "rerun_wall_s": round(resume_wall, 3),
        "rerun_requests": resume_requests,
        "rerun_accepted": third.accepted,
        "rerun_skipped": third.resumed,
        "rerun_ratio": round(resume_wall / wall, 4) if wall else 0.0,
        "fresh_job_cached_wall_s": round(fresh_wall, 3),
        "fresh_job_cached_requests": fresh_requests,
        "fresh_job_cached_accepted": second.accepted,
        "fresh_job_cached_ratio": round(fresh_wall / wall, 4) if wall else 0.0,
    }
    table = Table(
        title=f"maker bench make: CREATOR on {tasks} tasks, fake server "
        f"{latency * 1000:.0f} ms/call, concurrency {concurrency}, "
        f"{units} units in flight"
    )
    for col in ("run", "wall s", "model requests", "accepted", "note"):
        table.add_column(col)
    table.caption = (
        f"max_examples {options.max_examples} (as `maker make`); start-up "
        f"{startup:.3f} s (sandbox warm-up, imports) not in the timed runs"
    )
    table.add_row(
        "first",
        f"{wall:.3f}",
        str(requests),
        str(first.accepted),
        f"ideal {ideal:.3f} s, efficiency {figures['efficiency']:.2f}",
    )
    table.add_row(
        "re-run: same command, finished job (rerun_wall_s)",
        f"{resume_wall:.3f}",
        str(resume_requests),
        str(third.accepted),
        f"{figures['rerun_ratio'] * 100:.1f}% of first run (target < 5%); "
        f"{third.resumed} units already finished",
    )
    table.add_row(
        "fresh job dir, cached replies (fresh_job_cached_wall_s)",
        f"{fresh_wall:.3f}",
        str(fresh_requests),
        str(second.accepted),
        f"{figures['fresh_job_cached_ratio'] * 100:.1f}% of first run; everything "
        "but the model calls redone",
    )
    console.print(table)
    console.print(json.dumps(figures), soft_wrap=True, markup=False, highlight=False)
    return figures


def _warm_up(client: Any) -> None:
    """One-time process start-up that the first job would otherwise pay inside its timer:
    importing the strategy's graph (LangGraph) and building the OpenAI SDK client with its chat
    resource. No request is made; nothing of the job is done."""
    get_strategy("creator")
    sdk = getattr(getattr(client, "backend", None), "client", None)
    if sdk is not None:
        sdk.chat.completions  # noqa: B018 - the lazy import of the chat resource
