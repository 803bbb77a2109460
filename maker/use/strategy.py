"""Solving as a job: one unit per problem, the `ask`/`act` steps as a LangGraph graph.

`SolveStrategy` follows the making strategies' protocol (`maker.make.base.Strategy`), so a batch
of problems runs through the same job runner as `maker make`: request limit, units in flight,
resume after kill -9 from SQLite checkpoints, response cache, cost ledger, progress bar. A unit
"accepted" means the problem got an answer, "rejected" that no usable reply came; the
per-problem record (answer, stages, tools used, host timings) travels in the unit outcome's
``usage["solve"]`` for `maker.use.report`.

A problem's episode is recorded in the same step that grades it, after the checkpoint of the
previous step: a kill in the few microseconds between the episode's commit and that step's
checkpoint records the episode a second time on resume (the answer and report are unaffected).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, TypedDict

from library import Library
from library.records import Lock
from maker.make.base import Context, Unit, UnitOutcome, routed_graph
from maker.tasks import Task
from maker.use.solver import NODES, SolveContext, SolveSettings, initial_state


class SolveState(TypedDict, total=False):
    """The JSON state of one problem (see `maker.use.solver.initial_state`)."""

    task: dict[str, Any]
    next: str
    status: str
    offered: list[str]
    abstained: bool
    abstain_reason: str
    shown: list[int]
    messages: list[dict[str, str]]
    schema: dict[str, Any] | None
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

    def __init__(self, settings: SolveSettings | None = None, *, lock: Lock | None = None) -> None:
        self.settings = settings or SolveSettings()
        self.lock = lock

    def units(self, tasks: Sequence[Task]) -> list[Unit]:
        return [Unit(t.id, (t.id,), initial_state(t)) for t in tasks]

    def context(self, ctx: Context) -> SolveContext:
        library = ctx.library if self.lock is None else Library(ctx.library.store, lock=self.lock)
        return SolveContext(ctx.client, ctx.sandbox, library, self.settings, threading.Lock())

    def build(self, ctx: Context) -> Any:
        return routed_graph(SolveState, NODES, "ask", self.context(ctx))  # type: ignore[arg-type]

    def outcome(self, unit_id: str, state: dict[str, Any]) -> UnitOutcome:
        status = {"answered": "accepted", "no_answer": "rejected"}.get(
            state.get("status", ""), "running"
        )
        record = problem_record(state)
        return UnitOutcome(
            unit_id, status, reason=record["reason"], usage={**record["usage"], "solve": record}
        )
