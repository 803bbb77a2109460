"""Using the library: a cheap model retrieves tools and calls them in the sandbox.

    from maker.use import Solver
    solution = Solver(library, client).solve("What is the gcd of 12 and 18?", gold=6)

`Solver` solves one problem at a time (the Python API for downstream solvers); `run_solve` runs
a batch of tasks through the job runner (resumable, concurrent, with a report), as `maker solve`
does. The reply format is `maker.use.reply`; what the model sees, `maker.use.prompt`.
"""

from __future__ import annotations

from maker.use.api import Solution, Solver
from maker.use.reply import Decision, Problem, decision_schema, parse_decision
from maker.use.solver import STAGES, SolveContext, SolveSettings

__all__ = [
    "STAGES",
    "Decision",
    "Problem",
    "SolveContext",
    "SolveSettings",
    "Solution",
    "Solver",
    "decision_schema",
    "parse_decision",
]
