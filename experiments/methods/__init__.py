"""Experiment methods: baselines (direct, CoT, PoT, PoT self-consistency) and tool arms.

>>> m = build_method({"name": "cheap_pot", "kind": "pot", "role": "user"})
>>> m.name, m.role, m.sampled
('cheap_pot', 'user', False)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from experiments.grading.extract import answer_text
from experiments.methods.base import (
    Attempt,
    Budget,
    CallRecord,
    Meter,
    MeteredClient,
    Method,
    MethodError,
    SolveContext,
)
from experiments.methods.program import (
    ProgramMethod,
    SelfConsistencyMethod,
    program_of,
    run_program,
    vote,
)
from experiments.methods.prompting import PromptMethod, final_answer
from experiments.methods.tools import (
    DEFAULT_SOLVER,
    MethodUnavailable,
    ToolAnswer,
    ToolMethod,
    ToolSolver,
    get_solver,
    making_calls,
    register_solver,
)
from experiments.methods.use_solver import solve_with_maker_use

register_solver(DEFAULT_SOLVER, solve_with_maker_use)

ROLES = ("user", "maker")


def _direct(spec: dict[str, Any]) -> Method:
    return PromptMethod(style="direct", **spec)


def _cot(spec: dict[str, Any]) -> Method:
    return PromptMethod(style="cot", **spec)


def _tools(spec: dict[str, Any]) -> Method:
    ledger = spec.pop("make_ledger", ())
    spec["make_ledger"] = (ledger,) if isinstance(ledger, str) else tuple(ledger)
    return ToolMethod(library_dir=spec.pop("library", None), **spec)


KINDS: dict[str, Callable[[dict[str, Any]], Method]] = {
    "direct": _direct,
    "cot": _cot,
    "pot": lambda spec: ProgramMethod(**spec),
    "pot_sc": lambda spec: SelfConsistencyMethod(**spec),
    "tools": _tools,
}
"""Method kinds a config may name; ``tools`` covers LATM, CREATOR, CRAFT, the full loop and
curated libraries (``strategy`` says which)."""

RUN_KEYS = frozenset({"seeds"})  # read by the runner, not the method


def build_method(spec: Mapping[str, Any]) -> Method:
    """A method from its config table (``name``, ``kind``, and the kind's settings).

    Raises `MethodError` naming the method and the bad setting.
    """
    data = {k: v for k, v in spec.items() if k not in RUN_KEYS}
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise MethodError("a method needs a non-empty string 'name'")
    kind = data.pop("kind", None)
    if kind not in KINDS:
        raise MethodError(f"method {name!r}: kind must be one of {', '.join(KINDS)}, not {kind!r}")
    role = data.get("role", "user")
    if role not in ROLES:
        raise MethodError(f"method {name!r}: role must be 'user' or 'maker', not {role!r}")
    try:
        return KINDS[kind](data)
    except TypeError as exc:
        msg = str(exc).split("__init__() ", 1)[-1]
        raise MethodError(f"method {name!r} ({kind}): {msg}") from None


__all__ = [
    "KINDS",
    "Attempt",
    "Budget",
    "CallRecord",
    "Meter",
    "MeteredClient",
    "Method",
    "MethodError",
    "MethodUnavailable",
    "ProgramMethod",
    "PromptMethod",
    "SelfConsistencyMethod",
    "SolveContext",
    "ToolAnswer",
    "ToolMethod",
    "ToolSolver",
    "answer_text",
    "build_method",
    "final_answer",
    "get_solver",
    "making_calls",
    "program_of",
    "register_solver",
    "run_program",
    "vote",
]
