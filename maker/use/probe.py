"""Tools that refuse a problem, found before the model is asked.

A tool that parses a whole problem (its worked examples pass the example's full text in one
argument) says when a problem is not its kind by raising: a swap tracker given a shopping
question, a "mean of the table" tool given a question that asks for no statistic. The solver
learnt that after a model call (`maker.use.solver.refusal`): the real 0.5B, offered such tools
on 42 of 100 TabMWP items, spent 2.7 calls (26 s) per item on them before the fallback answered.
Running the tool on the problem first costs milliseconds in the sandbox instead.

    >>> probes = whole_problem_probes(rec)                  # doctest: +SKIP
    >>> refusal_error(sandbox, rec, problem_text, probes)   # doctest: +SKIP
    'ValueError: the question does not ask for the mean of the numbers'

Only the whole-problem argument is this problem's; the tool's other arguments take the values
its examples pass (a statistic's name such as ``"mean"``), each set in turn. The tool refuses
only when every one of those runs raises, and never on a limit (a timeout says nothing about
the problem). A tool whose examples pass parts of their problem (a word list, a bracket
sequence) is not probed: called with a whole problem it may raise and still fit its part.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from library.records import ToolRecord
from maker.text.clip import same_text
from sandbox import Sandbox

MAX_PROBES = 8
"""The most runs one tool gets per problem (sets of its other arguments)."""


def whole_problem_probes(rec: ToolRecord) -> tuple[str, list[dict[str, Any]]] | None:
    """(the parameter every worked example with its problem passes that whole problem in, the
    distinct sets of other arguments any example passes beside it), or None when the tool is
    not used that way: no example with its problem, one that passes a part, or parameters
    that differ. Examples without their problem count for the other arguments: a curated
    tool's docstring shows one problem, then calls for the other statistics it computes."""
    params = {p.name for p in rec.spec.params}
    cases = [
        (ex["input"], ex.get("question"))
        for ex in (*rec.tests.examples, *rec.tests.held_out)
        if isinstance(ex, dict) and isinstance(ex.get("input"), dict) and set(ex["input"]) <= params
    ]
    wholes = {
        tuple(k for k, v in args.items() if isinstance(v, str) and same_text(v, question))
        for args, question in cases
        if isinstance(question, str) and question.strip()
    }
    if len(wholes) != 1 or len(next(iter(wholes))) != 1:
        return None
    ((param,),) = wholes
    others: dict[str, dict[str, Any]] = {}
    for args, _ in cases:
        if param in args:
            rest = {k: v for k, v in args.items() if k != param}
            others.setdefault(json.dumps(rest, sort_keys=True, default=str), rest)
    return param, list(others.values())[:MAX_PROBES]


def refusal_error(
    sandbox: Sandbox,
    rec: ToolRecord,
    problem: str,
    probes: tuple[str, Sequence[dict[str, Any]]],
    timeout: float | None = None,
) -> str | None:
    """The error the tool raised on `problem` (its whole text in the probed parameter) with
    every set of other arguments, or None when one run returned, hit a limit, or none ran."""
    param, sets = probes
    error: str | None = None
    for rest in sets:
        result = sandbox.run(
            rec.source, rec.entry, kwargs={**rest, param: problem}, timeout=timeout
        )
        if result.ok or result.limit is not None:
            return None
        err = result.error
        error = error or (f"{err.type}: {err.message}" if err is not None else "it failed")
    return error
