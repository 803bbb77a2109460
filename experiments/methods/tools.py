"""Tool arms (LATM, CREATOR, CRAFT, the full loop, a curated library): answer with a library.

A tool arm is a library (made by `maker make` on the making split, or hand-written tools added
with `maker library add`) plus a *solver*: the cheap model retrieving and calling its tools. The
solver is the extension point for ``maker.use``: register one under a name with
`register_solver` and name it in the config (``solver = "maker.use"``). Until one is
registered, building the arm raises `MethodUnavailable` saying so.

A tool arm may name a ``fallback``: another method of the config (listed before it, e.g. the
cheap model's program of thought) that answers the items on which no tool ran (none was
retrieved, the model chose none, or its calls never ran). The solver is then asked not to
answer directly when nothing is offered (no model call is spent on it), and the fallback's
calls count in the arm's cost. Without one, the solver's own direct answer stands (a JSON
answer with no reasoning: the real 0.5B did worse with it than with the plain direct prompt).

The making cost is read from the cost ledgers of the jobs that built the library (``make_ledger``:
the ``ledger.jsonl`` of the job dir ``maker make`` wrote, or a directory such as the library
itself, whose `maker solve` / `explore` / `improve` ledgers count too: the full loop's cost),
so the report can amortize it over the test problems.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from experiments.data import Item
from experiments.methods.base import Attempt, CallRecord, Method, MethodError, SolveContext
from maker.llm import ChatClient, CostLedger
from sandbox import Sandbox

DEFAULT_SOLVER = "maker.use"


class MethodUnavailable(MethodError):
    """A method whose parts are not installed (e.g. the tool-user Solver); says what is missing."""


@dataclass(frozen=True)
class ToolAnswer:
    """What a solver returns: the answer text, the tool calls that ran (from executed code,
    never the model's words; each a dict with at least ``"tool"``: ``name@version``, which the
    report counts for use and reuse), and the raw output (model text or call result)."""

    answer: str | None
    tool_calls: tuple[Mapping[str, Any], ...] = ()
    output: str = ""
    error: str | None = None
    # how the tool user got there (for the report's per-family stage counts): the tools
    # offered, the model calls asked, and each stage's outcome (True, False, None: not reached)
    offered: tuple[str, ...] = ()
    attempts: int | None = None
    stages: Mapping[str, bool | None] | None = None
    # tools that raised on the problem before the model was asked, so were not offered
    refused: tuple[str, ...] = ()

    def trace(self) -> dict[str, Any]:
        """The `offered` / `attempts` / `stages` (and any `refused`) fields for a result row's
        ``detail``."""
        more = {"refused": list(self.refused)} if self.refused else {}
        if self.attempts is None and self.stages is None and not self.offered:
            return more
        return {
            "offered": list(self.offered),
            "attempts": self.attempts,
            "stages": dict(self.stages or {}),
            **more,
        }


class ToolSolver(Protocol):
    """Solve one item with a library: the cheap model picks and calls tools, in the sandbox.

    An arm with a fallback also passes ``direct=False``: when no tool is offered, return no
    answer without asking the model (the fallback answers instead)."""

    def __call__(
        self,
        item: Item,
        *,
        library_dir: str,
        client: ChatClient,
        sandbox: Sandbox,
        seed: int,
        **options: Any,
    ) -> ToolAnswer: ...


SOLVERS: dict[str, ToolSolver] = {}


def register_solver(name: str, solver: ToolSolver) -> None:
    """Make ``solver`` available to tool arms as ``solver = "<name>"`` in a config."""
    SOLVERS[name] = solver


def get_solver(name: str, method: str) -> ToolSolver:
    """The registered solver ``name``, or `MethodUnavailable` saying what to install."""
    if name in SOLVERS:
        return SOLVERS[name]
    if name == DEFAULT_SOLVER:
        present = importlib.util.find_spec("maker.use") is not None
        if present:
            why = (
                "maker.use is installed but no adapter is registered; call "
                "experiments.methods.tools.register_solver('maker.use', ...)"
            )
        else:
            why = "it needs maker.use (the tool-user Solver), which this checkout does not have"
        raise MethodUnavailable(f"method {method!r}: {why}")
    known = ", ".join(sorted(SOLVERS)) or "none registered"
    raise MethodUnavailable(f"method {method!r}: unknown solver {name!r} (known: {known})")


def ledger_files(paths: Sequence[str | Path]) -> list[Path]:
    """The cost ledgers ``paths`` name: a ledger file as it is; a directory (a make job's dir, or
    a library whose jobs and `maker explore` / `improve` runs wrote into it) for every ledger
    below it: each ``ledger.jsonl`` and each ``*.jsonl`` in a ``ledgers`` folder, in name order.
    `MethodError` when a path is missing or a directory holds no ledger."""
    files: list[Path] = []
    for path in paths:
        p = Path(path)
        if p.is_file():
            files.append(p)
        elif p.is_dir():
            found = sorted(
                f
                for f in p.rglob("*.jsonl")
                if f.is_file() and (f.name == "ledger.jsonl" or f.parent.name == "ledgers")
            )
            if not found:
                raise MethodError(
                    f"make ledger {p}: a directory with no cost ledger in it (a job dir's "
                    "ledger.jsonl, or a library's ledgers/*.jsonl)"
                )
            files += found
        else:
            raise MethodError(f"make ledger {p}: no such file (the job dir's ledger.jsonl)")
    return list(dict.fromkeys(files))  # a ledger named twice (a file and its dir) counts once


def making_calls(paths: Sequence[str | Path]) -> list[CallRecord]:
    """The making phase's model calls, from the ledgers of the jobs that built the library (see
    `ledger_files`); `MethodError` when one is missing.

    Cache hits count as the answer first bought would have (a ledger entry for a hit has no
    tokens: a make job re-run from cache is not a cost, and is not counted twice).
    """
    calls: list[CallRecord] = []
    for p in ledger_files(paths):
        for e in CostLedger.load(p).entries:
            if e.cache_hit or e.error is not None:
                continue
            calls.append(
                CallRecord(
                    role=e.role,
                    phase=f"make/{e.phase}",
                    model=e.model,
                    prompt_tokens=e.prompt_tokens,
                    completion_tokens=e.completion_tokens,
                    seconds=e.seconds,
                    dollars=e.dollars,
                    cache_hit=False,
                )
            )
    return calls


@dataclass
class ToolMethod:
    """Answer with a library through a registered solver (see the module docstring).

    Args:
        name: the arm's label ("latm", "craft", "full_loop", "curated"...).
        library_dir: the library the solver uses; its lock is saved with the run.
        solver: the registered solver's name.
        strategy: how the library was made (latm, creator, craft, loop, curated), for the report.
        make_ledger: ledgers of the jobs that built the library (making cost): files, or
            directories holding them (`ledger_files`).
        role: the model the solver uses ("user", the cheap one, by default).
        sampled: whether the solver samples (then the arm runs once per seed, which it gets).
        fallback: the method answering items on which no tool ran (see the module docstring);
            the runner binds it (`bind_fallback`) before any item runs.
    """

    name: str
    library_dir: str | None
    solver: str = DEFAULT_SOLVER
    strategy: str = "curated"
    make_ledger: Sequence[str] = field(default_factory=tuple)
    role: str = "user"
    sampled: bool = False
    fallback: str | None = None
    fallback_method: Method | None = field(default=None, init=False, repr=False, compare=False)

    def bind_fallback(self, methods: Mapping[str, Method]) -> None:
        """Bind ``fallback`` to its method in ``methods`` (by name); `MethodError` if absent."""
        if self.fallback is None:
            return
        if self.fallback not in methods or self.fallback == self.name:
            raise MethodError(
                f"method {self.name!r}: its fallback {self.fallback!r} is not a method of "
                "this run listed before it"
            )
        self.fallback_method = methods[self.fallback]

    def check(self) -> None:
        """Raise `MethodUnavailable`/`MethodError` now (before any item runs) if unusable."""
        get_solver(self.solver, self.name)
        if not self.library_dir or not Path(self.library_dir).is_dir():
            raise MethodError(
                f"method {self.name!r}: library {self.library_dir!r} is not a "
                "directory (make one with `maker make` or `maker library add`)"
            )
        try:
            ledger_files(self.make_ledger)
        except MethodError as exc:
            raise MethodError(f"method {self.name!r}: {exc}") from None

    def making(self) -> list[CallRecord]:
        return making_calls(self.make_ledger)

    def solve(self, item: Item, ctx: SolveContext) -> Attempt:
        solver: Callable[..., ToolAnswer] = get_solver(self.solver, self.name)
        options: dict[str, Any] = {} if self.fallback is None else {"direct": False}
        result = solver(
            item,
            library_dir=str(self.library_dir),
            client=ctx.meter.client(self.role),
            sandbox=ctx.sandbox,
            seed=ctx.seed,
            **options,
        )
        if self.fallback is not None and not result.tool_calls:
            if self.fallback_method is None:
                raise MethodError(f"method {self.name!r}: fallback {self.fallback!r} not bound")
            answer = self.fallback_method.solve(item, ctx)
            why = result.error or ("no tool ran" if result.answer is None else "answered directly")
            detail = {**answer.detail, "fallback": self.fallback, "no_tool": why[:200]}
            return replace(answer, detail=detail | {"tool_user": result.trace()})
        return Attempt(
            pred=result.answer,
            output=result.output,
            tool_calls=tuple(dict(c) for c in result.tool_calls),
            error=result.error or (None if result.answer is not None else "no answer"),
            detail={"tool_user": result.trace()},
        )
