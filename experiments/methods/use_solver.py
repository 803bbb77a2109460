"""The `maker.use` tool user as the solver of the experiments' tool arms.

Each item goes to `maker.use.Solver` with the arm's library opened read-only (evaluation never
changes the library it measures; nothing is recorded), the run's sandbox and the arm's client
(the cheap ``user`` role by default). The gold answer stays with the experiment's grader: the
solver gets the task without it. Tool calls are the ones that ran in the sandbox.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from typing import Any

from experiments.data import Item
from experiments.grading.extract import answer_text
from experiments.methods.tools import ToolAnswer
from library import Library
from maker.llm import ChatClient
from maker.use import Solver, SolveSettings
from sandbox import Sandbox

_OPEN = threading.local()  # one read-only connection per thread and library (SQLite's rule)


def _library(path: str) -> Library:
    libraries: dict[str, Library] = _OPEN.__dict__.setdefault("libraries", {})
    if path not in libraries:
        libraries[path] = Library.open(path, read_only=True)
    return libraries[path]


def pred_text(answer: Any, dataset: str) -> Any:
    """The solver's answer as the dataset writes it: on MATH an ordered pair is ``(a, b)``
    (`answer_text`), whether the tool returned a list or a list's JSON text."""
    if dataset != "math":
        return answer
    if isinstance(answer, str) and answer.startswith("["):
        try:
            answer = json.loads(answer)
        except ValueError:
            return answer
    return answer_text(answer, "math") if isinstance(answer, list | tuple) else answer


def solve_with_maker_use(
    item: Item,
    *,
    library_dir: str,
    client: ChatClient,
    sandbox: Sandbox,
    seed: int,
    direct: bool = True,
) -> ToolAnswer:
    """Solve ``item`` with the library's tools through `maker.use.Solver` (``seed`` unused: the
    solver is deterministic at the client's sampling settings). ``direct=False``: when no tool
    is offered, no answer and no model call (the arm's fallback answers)."""
    del seed
    task = dataclasses.replace(item.to_task(), answer=None)
    settings = SolveSettings(record=False, answer_without_tools=direct)
    solver = Solver(_library(library_dir), client, sandbox=sandbox, settings=settings)
    solution = solver.solve(task)
    answer: Any = pred_text(solution.answer, item.dataset)
    return ToolAnswer(
        answer=None if answer is None else str(answer),
        tool_calls=tuple({"tool": ref} for ref in solution.tools_used),
        output=str(solution.state.get("reply") or solution.state.get("last_reply") or ""),
        error=None if answer is not None else str(solution.state.get("reason") or "no answer"),
        offered=tuple(solution.offered),
        attempts=solution.attempts,
        stages={k: v for k, v in solution.stages.items() if k != "correct"},  # graded here
        refused=tuple(r["ref"] for r in solution.state.get("refused_before") or ()),
    )
