"""A scripted "user model" that knows the right call, and `maker bench solve`.

`UserOracle` answers the `use_solve` prompt: it reads the problem out of the prompt and replies
with the JSON call of the tool that solves it (a direct answer when that tool is not offered).
It is a fake, labelled "scripted" where a user sees it. Reply factories for the fake server:

- `example_reply`: the shipped example tasks, both roles on one endpoint (the maker's CREATOR
  prompts go to the maker oracle), so `maker make` and then `maker solve` run on the wire
  without a model::

      python -m maker.llm.testing.fake_endpoint --reply-factory maker.bench.solve:example_reply

- `synthetic_user_reply(count)`: the benchmark's problems (`maker.bench.oracle.synthetic_tasks`).

`run_bench` measures (1) a batch of problems through `run_solve` against the fake server in its
own process (``efficiency`` = calls x latency / concurrency over the measured wall time; then
the same command again on the finished job, ``rerun_wall_s``), and (2) the host's own cost per
problem (retrieve, replay, render, parse, sandbox run, record; model time excluded) on a
library of `big_tools` tools and `big_episodes` episodes, built directly through the store in
one transaction, with an in-process oracle as the model.
"""

from __future__ import annotations

import ast
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from library import Library
from library.records import Call, Episode, NewTool, Provenance
from library.store.base import prepare
from library.store.sqlite import SqliteStore
from maker.bench.oracle import TOOLS, Oracle, Solution, example_solutions, synthetic_tasks
from maker.llm import ChatClient, ChatResponse, RoleConfig, Usage
from maker.tasks import Task
from maker.text.blocks import extract_blocks
from maker.use.prompt import PROBLEM_HEADING, REPLY_REMINDER
from sandbox.parsing import parse_source

SOLVE_SYSTEM_MARK = "You solve problems with the tools listed"


def is_solve_prompt(messages: Sequence[Mapping[str, Any]]) -> bool:
    return bool(messages) and SOLVE_SYSTEM_MARK in str(messages[0].get("content", ""))


def problem_of(messages: Sequence[Mapping[str, Any]]) -> str:
    """The problem text of a `use_solve` prompt (its first user message, after the tools and
    the replayed experience)."""
    user = next((str(m.get("content", "")) for m in messages if m.get("role") == "user"), "")
    body = user.rpartition(PROBLEM_HEADING)[2]
    return body.rpartition(REPLY_REMINDER)[0].strip()


def call_json(call: str) -> dict[str, Any]:
    """``name(k=v, ...)`` (an oracle's ```python call``` block or bare) as a JSON decision."""
    blocks = extract_blocks(call)
    text = blocks[0].text if blocks else call
    node = parse_source(text.strip(), mode="eval").body
    assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    args = {k.arg: ast.literal_eval(k.value) for k in node.keywords if k.arg}
    return {"tool": node.func.id, "arguments": args}


class UserOracle:
    """Replies to `use_solve` prompts with the known call for each problem text."""

    def __init__(self, tasks: Sequence[Task], solutions: Sequence[Solution]) -> None:
        by_text = {s.text.strip(): s for s in solutions}
        self.decisions: dict[str, dict[str, Any]] = {}
        self.answers: dict[str, Any] = {}
        for t in tasks:
            self.answers[t.text.strip()] = t.answer
            sol = by_text.get(t.text.strip())
            if sol is not None:
                self.decisions[t.text.strip()] = call_json(sol.call)

    def reply(self, messages: Sequence[Mapping[str, Any]]) -> str:
        problem = problem_of(messages)
        decision = self.decisions.get(problem)
        offered = str(messages[1].get("content", "")) if len(messages) > 1 else ""
        if decision is None or f"\n{decision['tool']}(" not in offered:
            return json.dumps({"tool": "none", "answer": str(self.answers.get(problem, ""))})
        return json.dumps(decision)

    def server_reply(self, body: Mapping[str, Any]) -> str:
        return self.reply(list(body.get("messages") or []))


def example_reply() -> Callable[[Mapping[str, Any]], str]:
    """Reply factory: the example tasks for both roles (see the module docstring)."""
    from maker.tasks import example_tasks_path, load_tasks

    tasks = load_tasks(example_tasks_path())[0]
    sols = example_solutions(tasks)
    maker, user = Oracle(sols), UserOracle(tasks, sols)

    def reply(body: Mapping[str, Any]) -> str:
        messages = list(body.get("messages") or [])
        return user.reply(messages) if is_solve_prompt(messages) else maker.reply(messages)

    return reply


def synthetic_user_reply(count: int, seed: int = 0) -> Callable[[Mapping[str, Any]], str]:
    """Reply factory: the user oracle for `synthetic_tasks(count, seed=seed)`."""
    return UserOracle(*synthetic_tasks(count, seed=seed)).server_reply


def tool_source(family: str) -> str:
    """The oracle's tool for a task family, as source."""
    block = next(b for b in extract_blocks(TOOLS[family][0]) if b.label == "tool")
    return block.text


def publish_oracle_tools(library: Library) -> list[str]:
    """Publish the oracle's tools for the three synthetic families; returns their refs."""
    refs = []
    for family in ("divisor_sum", "table_range", "boolean_expressions"):
        source = tool_source(family)
        name = parse_source(source).body[0].name  # type: ignore[attr-defined]
        result = library.publish(
            NewTool(
                name,
                source,
                provenance=Provenance(
                    task_ids=(family,), strategy="oracle", problems=(family.replace("_", " "),)
                ),
            )
        )
        assert result.record is not None, result
        refs.append(result.record.ref)
    return refs


class OracleModel:
    """An in-process `ChatModel` answering from a `UserOracle` (no latency, words as tokens)."""

    def __init__(self, oracle: UserOracle) -> None:
        self.oracle = oracle

    def complete(
        self, messages: Sequence[Mapping[str, Any]], *, phase: str = "", **params: Any
    ) -> ChatResponse:
        text = self.oracle.reply(messages)
        prompt = sum(len(str(m.get("content", "")).split()) for m in messages)
        return ChatResponse(text, "stop", Usage(prompt, len(text.split())), "oracle")


def build_big_library(directory: Path, tools: int, episodes: int, seed: int = 0) -> list[str]:
    """A library of `tools` synthetic tools (plus the oracle's three) and `episodes` episodes,
    written directly through the store in one transaction. Returns the oracle tools' refs."""
    from library.bench import synthetic_tools

    rng = random.Random(seed)
    store = SqliteStore.open(directory)
    now = time.time()
    names: list[str] = []
    queries: list[str] = []
    with store._tx(write=True):  # one transaction: the benchmark's set-up, not what it measures
        for new, query in synthetic_tools(tools, seed):
            rec = prepare(new, now)
            assert not isinstance(rec, str), rec
            store._insert(rec.with_(version=1))
            store._log(rec.name, 1, "publish")
            names.append(rec.name)
            queries.append(query)
        for i in range(episodes):
            j = rng.randrange(len(names))
            ok = rng.random() < 0.7
            ep = Episode(
                query=f"{queries[j]} case {i}",
                offered=(f"{names[j]}@1",),
                call=Call(f"{names[j]}@1", {"x": rng.randint(1, 9)}),
                result={
                    "ok": ok,
                    "value": rng.random() if ok else None,
                    "error": None if ok else {"type": "ValueError", "message": "bad"},
                },
                answer=str(i),
                success=ok if rng.random() < 0.9 else None,
                time=now,
            )
            store._insert_episode(ep)
            store._bump_usage(names[j], 1, ep.success)
    store.close()
    with Library.open(directory) as lib:
        return publish_oracle_tools(lib)


def host_cost(
    directory: Path, problems: int, *, tools: int, episodes: int, sandbox: Any, seed: int = 1
) -> dict[str, Any]:
    """Host milliseconds per problem on a big library (see the module docstring)."""
    from maker.use import Solver, SolveSettings

    t0 = time.perf_counter()
    build_big_library(directory, tools, episodes)
    build_s = time.perf_counter() - t0
    tasks, sols = synthetic_tasks(problems + 1, seed=seed)
    client = ChatClient(
        OracleModel(UserOracle(tasks, sols)), RoleConfig("user", model="oracle"), local=True
    )
    host: list[float] = []
    host_cpu: list[float] = []  # this thread's CPU time per problem (no sandbox worker time)
    steps: dict[str, list[float]] = {}
    with Library.open(directory) as lib:
        solver = Solver(lib, client, sandbox=sandbox, settings=SolveSettings())
        t0 = time.perf_counter()
        first = solver.solve(tasks[0])  # builds the indexes: reported apart, not in the median
        open_s = time.perf_counter() - t0
        correct = 0
        for task in tasks[1:]:
            cpu = time.thread_time()
            sol = solver.solve(task)
            host_cpu.append((time.thread_time() - cpu) * 1000)
            timing = sol.state["timing"]
            parts = {
                k: timing[k]
                for k in ("retrieve_ms", "render_ms", "parse_ms", "run_ms", "record_ms")
            }
            for k, v in parts.items():
                steps.setdefault(k, []).append(v)
            host.append(sum(parts.values()))
            correct += sol.correct is True
    return {
        "host_ms_median": round(statistics.median(host), 3),
        "host_ms_p90": round(sorted(host)[int(0.9 * (len(host) - 1))], 3),
        "host_cpu_ms_median": round(statistics.median(host_cpu), 3),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "host_steps_median_ms": {k: round(statistics.median(v), 3) for k, v in steps.items()},
        "host_library_tools": tools + 3,
        "host_library_episodes": episodes,
        "host_build_s": round(build_s, 2),
        "host_first_problem_s": round(open_s, 3),
        "host_problems": problems,
        "host_correct": correct,
        "host_first_correct": first.correct,
    }


def run_bench(
    *,
    problems: int = 200,
    latency: float = 0.2,
    concurrency: int = 16,
    units_in_flight: int | None = None,
    big_tools: int = 10_000,
    big_episodes: int = 100_000,
    host_problems: int = 200,
    workers: int = 2,
    console: Console | None = None,
    workdir: str | Path | None = None,
) -> dict[str, Any]:
    """Run the benchmark; print a table and, last, one JSON line; return the figures."""
    from maker.jobs import default_units, freeze_startup_objects
    from maker.llm import CostLedger, FakeServerProcess, ResponseCache, load_config, make_client
    from maker.use import SolveSettings
    from maker.use.job import run_solve
    from sandbox import Sandbox

    console = console or Console()
    tasks, _ = synthetic_tasks(problems)
    units = units_in_flight or default_units(concurrency)
    with (
        tempfile.TemporaryDirectory(prefix="maker-bench-solve-") as tmp,
        FakeServerProcess(
            "maker.bench.solve:synthetic_user_reply", [problems], latency=latency
        ) as server,
        Sandbox(workers=workers) as sb,
    ):
        root = Path(workdir or tmp)
        with Library.open(root / "lib") as lib:
            publish_oracle_tools(lib)
        config = load_config(
            env={},
            overrides={
                "user.base_url": server.base_url,
                "user.model": server.model,
                "user.concurrency": concurrency,
                "user.max_retries": 2,
                "cache_dir": str(root / "cache"),
            },
        )
        t0 = time.perf_counter()
        import langgraph.graph  # noqa: F401 - the job graph's library (~0.8 s), a process cost

        sb.start()
        sb.run("def warm() -> int:\n    return 1\n", "warm")
        warm = make_client(config, "user")
        sdk = getattr(getattr(warm, "backend", None), "client", None)
        if sdk is not None:
            sdk.chat.completions  # noqa: B018 - the SDK's lazy import, outside the timers
        freeze_startup_objects()
        startup = time.perf_counter() - t0

        def one() -> tuple[Any, Any, float, int, CostLedger]:
            ledger = CostLedger()
            client = make_client(config, "user", ledger=ledger, cache=ResponseCache(root / "cache"))
            before = server.stats().requests
            t0 = time.perf_counter()
            report, job = run_solve(
                tasks,
                library_dir=root / "lib",
                job_dir=root / "job",
                client=client,
                sandbox=sb,
                settings=SolveSettings(),
                concurrency=units,
                progress=False,
            )
            return (report, job, time.perf_counter() - t0, server.stats().requests - before, ledger)

        first, first_job, wall, requests, ledger = one()
        stats = server.stats()
        again, again_job, rerun_wall, rerun_requests, _ = one()
        host = host_cost(
            root / "big", host_problems, tools=big_tools, episodes=big_episodes, sandbox=sb
        )
    calls = ledger.total().calls
    ideal = calls * latency / concurrency
    figures = {
        "problems": problems,
        "latency_s": latency,
        "concurrency": concurrency,
        "units_in_flight": units,
        "calls": calls,
        "requests": requests,
        "wall_s": round(wall, 3),
        "ideal_s": round(ideal, 3),
        "efficiency": round(ideal / wall, 3) if wall else 0.0,
        "max_in_flight": stats.max_in_flight,
        "accuracy": first.accuracy,
        "tool_use_rate": first.tool_use_rate,
        "errors": first_job.errors,
        "batch_host_ms_median": first.host_ms_median,
        "startup_s": round(startup, 3),
        "rerun_wall_s": round(rerun_wall, 3),
        "rerun_requests": rerun_requests,
        "rerun_ratio": round(rerun_wall / wall, 4) if wall else 0.0,
        "rerun_resumed": again_job.resumed,
        "rerun_accuracy": again.accuracy,
        **host,
    }
    table = Table(
        title=f"maker bench solve: {problems} problems, fake server "
        f"{latency * 1000:.0f} ms/call, {concurrency} requests in flight, "
        f"{units} problems in flight"
    )
    for col in ("measure", "value", "note"):
        table.add_column(col)
    table.add_row(
        "first run wall s",
        f"{wall:.3f}",
        f"ideal {ideal:.3f} s ({calls} calls), efficiency {figures['efficiency']:.2f} "
        "(target >= 0.8)",
    )
    table.add_row(
        "re-run wall s (finished job)",
        f"{rerun_wall:.3f}",
        f"{figures['rerun_ratio'] * 100:.1f}% of first (target < 5%), {rerun_requests} requests",
    )
    table.add_row(
        "accuracy / tool-use rate",
        f"{first.accuracy} / {first.tool_use_rate}",
        "scripted user model (oracle): checks the pipeline, not a model",
    )
    table.add_row(
        "host ms per problem, median",
        f"{host['host_ms_median']:.3f}",
        f"library of {host['host_library_tools']} tools and {big_episodes} episodes "
        f"(target <= 5 ms); p90 {host['host_ms_p90']:.3f}",
    )
    for step, ms in host["host_steps_median_ms"].items():
        table.add_row(f"  {step} (median)", f"{ms:.3f}", "")
    table.caption = (
        f"start-up {startup:.3f} s (sandbox warm-up, imports) not timed; big "
        f"library built in {host['host_build_s']} s, first problem (index "
        f"build) {host['host_first_problem_s']} s, both outside the median"
    )
    console.print(table)
    console.print(json.dumps(figures), soft_wrap=True, markup=False, highlight=False)
    return figures
