"""The Python API a downstream solver calls per problem: `Solver(...).solve(problem)`.

    from library import Library
    from maker.use import Solver
    with Library.open("my-lib") as lib, Solver(lib, client) as solver:  # writable: recorded
        solution = solver.solve("What is the gcd of 12 and 18?", gold=6)
        solution.answer, solution.correct, solution.tools_used  # 6, True, ('gcd@1',)

The steps it runs are `maker.use.solver.ask` / `act`; a batch goes through `maker.use.job`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from library import Library, LibraryView
from maker.llm import ChatClient
from maker.tasks import Task
from maker.use.solver import SolveContext, SolveSettings, initial_state, run_steps
from sandbox import Sandbox


@dataclass(frozen=True)
class Solution:
    """The outcome of one problem. `correct` is None without a gold answer; `episode` is the
    recorded episode (its `id` None when recording is off); `state` is the full step state."""

    task_id: str
    answer: Any
    correct: bool | None
    tools_used: tuple[str, ...]
    stages: dict[str, bool | None]
    attempts: int
    offered: tuple[str, ...]
    episode_id: int | None
    state: dict[str, Any]

    @property
    def used_tool(self) -> bool:
        return bool(self.tools_used)

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> Solution:
        return cls(
            state["task"]["id"],
            state["answer"],
            state["correct"],
            tuple(state["tools_used"]),
            dict(state["stages"]),
            state["attempts"],
            tuple(state["offered"]),
            state["episode_id"],
            dict(state),
        )


class Solver:
    """Solve problems with a library's tools through a user-model client.

    Args:
        library: a writable `Library` (episodes are recorded into it), or a `LibraryView`
            (read-only: nothing is recorded).
        client: the user role's `ChatClient` (its ledger records every call, role ``user``).
        sandbox: where calls and programs run (a private one is started when None; `close()`
            stops it).
        settings: `SolveSettings` (top_k, max_retries, budgets...).
    """

    def __init__(
        self,
        library: Library | LibraryView,
        client: ChatClient,
        *,
        sandbox: Sandbox | None = None,
        settings: SolveSettings | None = None,
    ) -> None:
        lib = library.library if isinstance(library, LibraryView) else library
        s = settings or SolveSettings()
        if lib.store.read_only and s.record:
            s = SolveSettings(**{**s.to_json(), "record": False})
        self._own_sandbox = sandbox is None
        self.ctx = SolveContext(client, sandbox or Sandbox(workers=1), lib, s)

    def solve(
        self,
        problem: str | Task,
        *,
        gold: Any = None,
        task_id: str = "problem",
        metadata: Mapping[str, Any] | None = None,
    ) -> Solution:
        """Solve one problem (a text, or a `Task` carrying its gold answer and metadata)."""
        task = (
            problem
            if isinstance(problem, Task)
            else Task(task_id, problem, answer=gold, split="test", metadata=dict(metadata or {}))
        )
        return Solution.from_state(run_steps(initial_state(task), self.ctx))

    def close(self) -> None:
        if self._own_sandbox:
            self.ctx.sandbox.close()

    def __enter__(self) -> Solver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
