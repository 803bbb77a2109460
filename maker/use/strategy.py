"""Solving as a job: one unit per problem, run as a LangGraph graph by the job runner.

`SolveStrategy` follows the making strategies' protocol (`maker.make.base.Strategy`), so a batch
of problems runs through the same job runner as `maker make`: request limit, units in flight,
resume after kill -9 from SQLite checkpoints, response cache, cost ledger, progress bar. A unit
"accepted" means the problem got an answer, "rejected" that no usable reply came; the
per-problem record (answer, stages, tools used, host timings) travels in the unit outcome's
``usage["solve"]`` for `maker.use.report`.

By default the graph is one node per problem (the whole `ask`/`act` loop), checkpointed once,
when the problem ends (``durability = "exit"``): checkpoints cost more host time than the
steps themselves. A problem interrupted by a kill starts over on resume, its model calls served
by the response cache (`step_nodes=True` checkpoints after each step instead). The episode is recorded at the very end
of the node: a kill in the microseconds between the episode's commit and the node's checkpoint
records the episode a second time on resume (the answer and the report are unaffected).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, TypedDict

from library import Library
from library.records import Lock
from maker.make.base import Context, Unit, UnitOutcome, routed_graph
from maker.tasks import Task
from maker.use.solver import SolveContext, SolveSettings, act, ask, initial_state, run_steps


class SolveState(TypedDict, total=False):
    """The JSON state of one problem (see `maker.use.solver.initial_state`)."""

    task: dict[str, Any]
    next: str
    status: str
    offered: list[str]
    refused: list[str]
    refused_before: list[dict[str, str]]
    abstained: bool
    abstain_reason: str
    shown: list[int]
    messages: list[dict[str, str]]
    schema: dict[str, Any] | None
    example_values: list[str]
    example_calls: list[list[Any]]
    decision: dict[str, Any] | None
    ready: bool
    last_reply: str
    problems: list[dict[str, Any]]
    attempts: int
    execution: dict[str, Any] | None
    answer: Any
    correct: bool | None
    tools_used: list[str]
    stages: dict[str, bool | None]
    episode_id: int | None
    reason: str
    timing: dict[str, float]
    usage: dict[str, Any]


def solve_node(state: dict[str, Any], ctx: SolveContext) -> dict[str, Any]:
    """The whole problem as one graph node: the `ask`/`act` loop. One checkpoint per problem
    instead of one per step (the checkpoints cost more host time than the steps); a problem
    interrupted by a kill starts over, its model calls served by the response cache."""
    final = run_steps(dict(state), ctx)
    final |= {"messages": [], "schema": None}  # spent: a smaller checkpoint to write and read
    return {k: v for k, v in final.items() if k in SolveState.__annotations__}


HOST_STEPS = ("retrieve_ms", "render_ms", "parse_ms", "run_ms", "record_ms")


def problem_record(state: dict[str, Any]) -> dict[str, Any]:
    """What the report needs of a finished problem (JSON)."""
    timing = state.get("timing", {})
    problems = state.get("problems", [])
    return {
        "task_id": state["task"]["id"],
        "type": state["task"].get("type", "general"),
        "status": state.get("status"),
        "answer": state.get("answer"),
        "gold": state["task"].get("answer"),
        "correct": state.get("correct"),
        "tools_used": list(state.get("tools_used", [])),
        "offered": list(state.get("offered", [])),
        "abstained": bool(state.get("abstained")),
        "refused_before": [r["ref"] for r in state.get("refused_before") or ()],
        "stages": dict(state.get("stages", {})),
        "attempts": state.get("attempts", 0),
        "decision": (state.get("decision") or {}).get("kind") if state.get("ready") else None,
        "first_reply_well_formed": not any(
            p.get("attempt") == 1 and p["stage"] == "well_formed" for p in problems
        ),
        "problems": [f"{p['stage']}:{p['code']}" for p in problems],
        "reason": state.get("reason", ""),
        "episode_id": state.get("episode_id"),
        "shown": list(state.get("shown", [])),
        "host_ms": round(sum(float(timing.get(k, 0.0)) for k in HOST_STEPS), 3),
        "timing": dict(timing),
        "usage": dict(state.get("usage", {})),
    }


class SolveStrategy:
    """Problems -> answers with the library's tools (see the module docstring)."""

    name = "solve"
    progress_words = ("solving", "answered", "no answer")

    def __init__(
        self,
        settings: SolveSettings | None = None,
        *,
        lock: Lock | None = None,
        step_nodes: bool = False,
    ) -> None:
        self.settings = settings or SolveSettings()
        self.lock = lock
        self.step_nodes = step_nodes  # one graph node per step (more checkpoints, finer resume)

    @property
    def durability(self) -> str:
        """When the job runner writes checkpoints: after each step with `step_nodes`, else
        once, when the problem ends (one node: resume starts the problem over either way)."""
        return "sync" if self.step_nodes else "exit"

    def units(self, tasks: Sequence[Task]) -> list[Unit]:
        return [Unit(t.id, (t.id,), initial_state(t)) for t in tasks]

    def context(self, ctx: Context) -> SolveContext:
        library = ctx.library if self.lock is None else Library(ctx.library.store, lock=self.lock)
        return SolveContext(ctx.client, ctx.sandbox, library, self.settings, threading.Lock())

    def build(self, ctx: Context) -> Any:
        nodes = {"ask": ask, "act": act} if self.step_nodes else {"solve": solve_node}
        start = "ask" if self.step_nodes else "solve"
        return routed_graph(SolveState, nodes, start, self.context(ctx))  # type: ignore[arg-type]

    def outcome(self, unit_id: str, state: dict[str, Any]) -> UnitOutcome:
        status = {"answered": "accepted", "no_answer": "rejected"}.get(
            state.get("status", ""), "running"
        )
        record = problem_record(state)
        return UnitOutcome(
            unit_id, status, reason=record["reason"], usage={**record["usage"], "solve": record}
        )
