"""Making strategies: each turns tasks into units of work, and a unit into a LangGraph graph.

A strategy is a small object (see `Strategy`): `units(tasks)` splits a batch into units (one per
problem for CREATOR, one per task type for LATM and CRAFT), each with a JSON-serializable initial
state; `build(ctx)` returns an uncompiled `StateGraph` whose nodes are plain functions of
``(state, ctx)``; `outcome(state)` reads a finished unit's state. The batch runner
(`maker.jobs.run_job`) compiles the graph with its checkpointer and fans units out.

Adding a strategy is one line in `REGISTRY`: ``"name": "module.path:ATTRIBUTE"``.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from maker.errors import MakerError

if TYPE_CHECKING:  # annotations only: keeps `maker --help` from importing langgraph and co.
    from langgraph.graph import StateGraph

    from library import Library
    from library.store.base import Gate
    from maker.llm import ChatClient
    from maker.tasks import Task
    from sandbox import Sandbox
    from sandbox.suite_runner import PropertyMemo

REGISTRY: dict[str, str | None] = {
    "creator": "maker.make.creator:STRATEGY",
    "latm": "maker.make.latm:STRATEGY",
    "craft": "maker.make.craft:STRATEGY",
}
"""Strategy name -> ``"module:attribute"`` of its `Strategy` object (None: not yet available)."""


class StrategyUnavailable(MakerError, LookupError):
    """The named strategy is unknown or not implemented yet."""

    exit_code = 2


@dataclass(frozen=True)
class Unit:
    """One unit of work: an id unique within the job, its task ids and initial graph state."""

    id: str
    task_ids: tuple[str, ...]
    state: dict[str, Any]


@dataclass(frozen=True)
class UnitOutcome:
    """What a finished unit produced, read from its final state.

    ``status`` is ``accepted`` (at least one tool published or already in the library) or
    ``rejected``; ``tools`` are ``{"ref", "outcome", "name"}`` dicts; ``reason`` says why a
    rejected unit gave up; ``rejections`` are the drafts turned down on the way, with reasons.
    """

    unit_id: str
    status: str
    tools: tuple[dict[str, Any], ...] = ()
    reason: str = ""
    rejections: tuple[dict[str, Any], ...] = ()
    usage: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "unit_id": self.unit_id,
            "status": self.status,
            "tools": list(self.tools),
            "reason": self.reason,
            "rejections": list(self.rejections),
            "usage": dict(self.usage),
        }


@dataclass(frozen=True)
class Options:
    """Knobs shared by strategies. ``max_repairs`` bounds rectify + repair rounds per unit;
    ``max_retries`` bounds re-asking after an unparseable reply; ``max_examples`` is the most
    Hypothesis examples per property during validation; ``solve_samples`` is how many programs
    CRAFT runs per train problem until one reproduces the gold answer (each a new sample).
    ``retry_temperature``: a later sample (a repair, a re-ask, another solution) is drawn at
    least this warm, with the seed moved by the sample index, so that a role running at
    temperature 0 (the local default) does not send the same reply again; still reproducible.
    None keeps the role's own sampling for every call. ``blind_redraws``: how many more times
    a blind repair (`maker.make.steps.ask_blind`) is drawn when its draft ignores its input.
    ``fresh_starts``: how many times a unit whose draft failed with no repair left starts over
    from its first drafting step with a new sample (LATM's propose, CRAFT's abstract,
    CREATOR's create), each time with ``max_repairs`` repairs again
    (`maker.make.steps.fresh_start`). ``drafts``: how many first drafts a drafting step draws
    at once (LATM's propose); the one that does best on the checks known at that point goes
    on (`maker.make.steps.best_of_drafts`).
    """

    max_repairs: int = 3
    max_retries: int = 2
    max_examples: int = 50
    solve_samples: int = 3
    retry_temperature: float | None = 0.7
    blind_redraws: int = 2
    fresh_starts: int = 0
    drafts: int = 1


class DedupHooks:
    """A job's behavioural de-duplication index, built on first use for the job's library and
    serialized across the job's threads (see `maker.make.steps.dedup_hook`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.hook: Callable[[Any], Any] | None = None


@dataclass(frozen=True)
class Context:
    """Everything a strategy's nodes need, injected (nodes do no other I/O).

    ``memo`` (identical property runs reused) and ``dedup`` belong to the job that made the
    context: no state outlives it or leaks between jobs of one process."""

    client: ChatClient
    sandbox: Sandbox
    library: Library
    gate: Gate | None = None
    options: Options = Options()
    memo: PropertyMemo | None = field(default_factory=lambda: _property_memo())  # lazy import
    dedup: DedupHooks = field(default_factory=DedupHooks)


def _property_memo() -> PropertyMemo:
    from sandbox.suite_runner import PropertyMemo

    return PropertyMemo()


class Strategy(Protocol):
    """A making strategy (see the module docstring)."""

    name: str

    def units(self, tasks: Sequence[Task]) -> list[Unit]: ...

    def build(self, ctx: Context) -> StateGraph: ...

    def outcome(self, unit_id: str, state: dict[str, Any]) -> UnitOutcome: ...


def available() -> list[str]:
    """Names of the strategies that can run now."""
    return [name for name, target in REGISTRY.items() if target]


def get_strategy(name: str) -> Strategy:
    """The strategy registered as `name`, or `StrategyUnavailable` saying what exists."""
    if name not in REGISTRY:
        raise StrategyUnavailable(f"unknown strategy {name!r}; choose one of {', '.join(REGISTRY)}")
    target = REGISTRY[name]
    if target is None:
        raise StrategyUnavailable(
            f"strategy {name!r} is not yet available; available now: {', '.join(available())}"
        )
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


def router(nodes: Mapping[str, Any]) -> Callable[[Mapping[str, Any]], str]:
    """Route to the node that the last node named in ``state["next"]``; ``"end"`` (or an
    unknown name) finishes the unit."""
    from langgraph.graph import END

    def route(state: Mapping[str, Any]) -> str:
        nxt = state.get("next", "end")
        return END if nxt == "end" or nxt not in nodes else nxt

    return route


def routed_graph(
    state_type: type, nodes: Mapping[str, Callable[..., Any]], start: str, ctx: Context
) -> StateGraph:
    """A graph of plain ``node(state, ctx)`` functions that each name the next node in
    ``state["next"]``: the shape every strategy here uses."""
    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(state_type)
    for name, fn in nodes.items():
        graph.add_node(name, partial(fn, ctx=ctx))
    graph.add_edge(START, start)
    route = router(nodes)
    for name in nodes:
        graph.add_conditional_edges(name, route, [*nodes, END])
    return graph
