"""Program of thought (PoT) and PoT self-consistency at matched compute.

The model writes a program; it runs only in the sandbox (never in this process). The answer is
what ``solution()`` returns, or, for a program without ``solution()`` (or one that returns
None), the last line it printed. Self-consistency draws programs until the item's `Budget` is
spent and takes the majority answer.
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass
from typing import Any

from experiments.data import Item
from experiments.grading.extract import answer_text
from experiments.methods.base import Attempt, SolveContext
from experiments.methods.prompts import pot_messages
from maker.text.blocks import extract_blocks
from maker.text.imports import add_missing_imports
from sandbox import Sandbox
from sandbox.parsing import parse_source

ENTRY = "solution"


def program_of(reply: str) -> str | None:
    """The program in a reply: its last Python code block (an unclosed one counts), else None."""
    blocks = [b for b in extract_blocks(reply) if b.is_python and b.text.strip()]
    return blocks[-1].text if blocks else None


def _defines_entry(source: str) -> bool:
    try:
        tree = parse_source(source)  # parsing only: nothing of the program runs here
    except SyntaxError:
        return True  # let the sandbox report the syntax error with its line
    return any(isinstance(node, ast.FunctionDef) and node.name == ENTRY for node in tree.body)


def run_program(
    sandbox: Sandbox, source: str, timeout: float | None = None, dataset: str = ""
) -> tuple[str | None, str | None, dict[str, Any]]:
    """Run ``source`` in the sandbox (``timeout`` seconds, default: the sandbox policy's):
    (answer, error, facts about the run); ``dataset`` says how a list is written (`answer_text`).

    A module or function the program uses but never imports is imported first when the policy
    allows it (`maker.text.imports.add_missing_imports`, as for the maker's drafts; noted in the
    facts as ``imports_added``): the 1.5B's MATH programs called ``sqrt`` with no import 4 times
    in 100, and the 0.5B's TabMWP ones ``bisect.bisect_left`` twice."""
    source, added = add_missing_imports(source, sandbox.policy)
    entry = ENTRY if _defines_entry(source) else None
    result = sandbox.run(source, entry, kwargs={} if entry else None, timeout=timeout)
    facts: dict[str, Any] = {"ok": result.ok, "elapsed_ms": round(result.elapsed_ms, 2)}
    if added:
        facts["imports_added"] = added
    if result.limit:
        facts["limit"] = result.limit
    if not result.ok:
        err = result.error
        text = f"{err.type}: {err.message}" if err is not None else "the program failed"
        return None, f"program failed: {text}"[:300], facts
    answer = answer_text(result.value, dataset) if entry else None
    if answer is None:
        printed = [ln.strip() for ln in result.stdout.splitlines() if ln.strip()]
        answer = printed[-1] if printed else None
    if answer is None:
        return None, "the program returned and printed nothing", facts
    return answer, None, facts


@dataclass
class ProgramMethod:
    """Program of thought: one program per item (per seed when sampled).

    Args:
        name: the arm's label.
        role: "user" (cheap) or "maker" (strong).
        temperature: above 0 the method is sampled (one run per seed).
        max_tokens: the reply's token limit (None: the role's default).
        timeout_s: seconds a program may run (None: the sandbox policy's limit).
    """

    name: str
    role: str = "user"
    temperature: float = 0.0
    max_tokens: int | None = None
    timeout_s: float | None = None
    library_dir: str | None = None

    @property
    def sampled(self) -> bool:
        return self.temperature > 0

    def params(self, seed: int) -> dict[str, Any]:
        params: dict[str, Any] = {"temperature": self.temperature}
        if self.max_tokens is not None:
            params["max_tokens"] = self.max_tokens
        if self.temperature > 0:
            params["seed"] = seed
        return params

    def sample(self, item: Item, ctx: SolveContext, index: int, key: int | None = None) -> Attempt:
        """Draw program number ``index`` for this seed and run it (`key`: the response cache's
        sample index instead of one per seed and index)."""
        sample = ctx.seed * 10_000 + index if key is None else key
        reply = ctx.meter.ask(
            self.role, pot_messages(item), phase="program", sample=sample, **self.params(sample)
        )
        source = program_of(reply.text)
        if source is None:
            return Attempt(pred=None, output=reply.text, error="no code block in the reply")
        answer, error, facts = run_program(ctx.sandbox, source, self.timeout_s, item.dataset)
        return Attempt(pred=answer, output=reply.text, error=error, detail={"run": facts})

    def solve(self, item: Item, ctx: SolveContext) -> Attempt:
        return self.sample(item, ctx, 0)


def vote(answers: list[str | None]) -> tuple[str | None, dict[str, int]]:
    """Majority answer (ties: the one drawn first) and the vote counts; None answers abstain."""
    counts = Counter(a.strip() for a in answers if a is not None and a.strip())
    if not counts:
        return None, {}
    best = max(counts.values())
    for a in answers:
        if a is not None and counts.get(a.strip()) == best:
            return a.strip(), dict(counts)
    raise AssertionError("unreachable: a counted answer was not found")  # pragma: no cover


@dataclass
class SelfConsistencyMethod:
    """PoT self-consistency: sample programs until the item's budget is spent, majority vote.

    The budget (`SolveContext.budget`) is another method's measured per-item spend (``match``:
    a method name, or a list whose first method with results is used; ``match_seconds``: also
    match model seconds, by default when the endpoint is local). Sampling
    stops before the next program would (at the mean cost of those drawn so far) go past it,
    so spend stays at or under the reference on average; at least ``min_samples`` are drawn,
    at most ``max_samples``. Without a budget, ``max_samples`` programs are drawn.

    ``greedy_first``: the first program is the greedy one (temperature 0, the same for every
    seed and, from a shared response cache, the greedy PoT arm's own reply), the rest sampled;
    a tie goes to the answer drawn first, so to the greedy program's. With the warm samples
    only, the `small` run's 0.5B drew 2.7 programs per item at the full loop's compute, the vote
    tied on 35% of the items and fell to a warm program, and the arm was below greedy PoT
    (19.5% against 21.4%).
    """

    name: str
    role: str = "user"
    temperature: float = 0.7
    max_tokens: int | None = None
    min_samples: int = 1
    max_samples: int = 16
    timeout_s: float | None = None
    match: str | list[str] | None = None
    match_seconds: bool | None = None
    greedy_first: bool = False
    library_dir: str | None = None

    sampled = True

    def solve(self, item: Item, ctx: SolveContext) -> Attempt:
        pot = ProgramMethod(
            self.name, self.role, self.temperature, self.max_tokens, timeout_s=self.timeout_s
        )
        greedy = (
            ProgramMethod(self.name, self.role, 0.0, self.max_tokens, timeout_s=self.timeout_s)
            if self.greedy_first
            else None
        )
        budget = ctx.budget
        attempts: list[Attempt] = []
        while len(attempts) < self.max_samples:
            if len(attempts) >= self.min_samples and budget is not None:
                if budget.passed_by_next(ctx.meter.tokens, ctx.meter.seconds, len(attempts)):
                    break
            if greedy is not None and not attempts:
                attempts.append(greedy.sample(item, ctx, 0, key=0))
            else:
                attempts.append(pot.sample(item, ctx, len(attempts)))
        answer, votes = vote([a.pred for a in attempts])
        errors = Counter(a.error for a in attempts if a.error)
        return Attempt(
            pred=answer,
            output=attempts[-1].output if attempts else "",
            error=None if answer is not None else "no sample produced an answer",
            detail={
                "samples": len(attempts),
                "votes": votes,
                "errors": dict(errors),
                "budget": budget.to_json() if budget else None,
            },
        )
