"""A scripted "maker model" that knows the answers: replies for the demo, tests and benchmark.

`Oracle` maps each task's text to a known-good tool reply and call (and optionally a first,
buggy tool, so a walk-through shows rectification). It answers the CREATOR prompts by
recognising the template from its system message and the task from its text, so the same
replies serve a `ScriptedModel` (through `scripted_model`) and a `FakeOpenAIServer` (pass
`oracle.server_reply` as its reply generator). It is a fake: it never looks at what a real model
would do, and everything it says is labelled "scripted" where a user sees it.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from maker.llm import Rule, ScriptedModel
from maker.prompts import render
from maker.tasks import Task
from sandbox import ExampleCase, RunResult


@dataclass(frozen=True)
class Solution:
    """What the oracle answers for one task: the tool reply, the call, an optional buggy first
    tool (served once, to the first create request for this task)."""

    text: str
    tool: str
    call: str
    first_tool: str | None = None


def _reply(source: str, tests: str = "", properties: str = "") -> str:
    out = f"Here is the tool.\n\n```python tool\n{source.strip()}\n```\n"
    if tests:
        out += f"\n```python tests\n{tests.strip()}\n```\n"
    if properties:
        out += f"\n```json properties\n{properties.strip()}\n```\n"
    return out


DIVISOR_SUM = _reply(
    '''
def divisor_sum(n: int) -> int:
    """Sum of all positive divisors of a positive integer n, n itself included.

    Args:
        n: a positive integer.

    Returns:
        The sum of every d with 1 <= d <= n that divides n.
    """
    if n < 1:
        raise ValueError("n must be a positive integer")
    total = 0
    d = 1
    while d * d <= n:
        if n % d == 0:
            total += d
            if d != n // d:
                total += n // d
        d += 1
    return total
''',
    """
def test_small():
    assert divisor_sum(1) == 1
    assert divisor_sum(6) == 12

def prop_at_least_n_plus_one(n: int):
    assert divisor_sum(n) >= n + (1 if n > 1 else 0)
""",
    '[{"name": "prop_at_least_n_plus_one", "strategies": '
    '{"n": {"type": "integers", "min_value": 1, "max_value": 5000}}}]',
)

DIVISOR_SUM_BUGGY = _reply(
    '''
def divisor_sum(n: int) -> int:
    """Sum of all positive divisors of a positive integer n.

    Args:
        n: a positive integer.

    Returns:
        The sum of the divisors of n.
    """
    if n < 1:
        raise ValueError("n must be a positive integer")
    total = 0
    for d in range(1, n):
        if n % d == 0:
            total += d
    return total
''',
    properties='[{"name": "prop_none", "source": "def prop_none(n: int):\\n    '
    'assert divisor_sum(n) >= 0\\n", "strategies": {"n": {"type": "integers", '
    '"min_value": 1, "max_value": 5000}}}]',
)

VALUE_RANGE = _reply(
    '''
def value_range(values: list[float]) -> float:
    """Range of a list of numbers: the largest value minus the smallest.

    Args:
        values: the numbers (for example a column of a table); may be empty.

    Returns:
        max(values) - min(values), or 0 for an empty list.
    """
    if not values:
        return 0
    return max(values) - min(values)
''',
    """
def test_range():
    assert value_range([3, 9, 4]) == 6
    assert value_range([]) == 0

def prop_non_negative(values: list[float]):
    assert value_range(values) >= 0
""",
    '[{"name": "prop_non_negative", "strategies": {"values": {"type": "lists", "elements": '
    '{"type": "integers", "min_value": -1000, "max_value": 1000}, "max_size": 20}}}]',
)

EVAL_BOOLEAN = _reply(
    '''
def eval_boolean(expression: str) -> bool:
    """Evaluate a Boolean expression of True, False, not, and, or and parentheses.

    Precedence is not > and > or, as in Python. Tokens are separated by spaces or parentheses.

    Args:
        expression: the expression, e.g. "not ( True and False ) or False".

    Returns:
        The truth value. Raises ValueError for a malformed expression.
    """
    precedence = {"not": 3, "and": 2, "or": 1}
    output = []
    ops = []
    for tok in expression.replace("(", " ( ").replace(")", " ) ").split():
        if tok == "True" or tok == "False":
            output.append(tok == "True")
        elif tok == "(":
            ops.append(tok)
        elif tok == ")":
            while ops and ops[-1] != "(":
                output.append(ops.pop())
            if not ops:
                raise ValueError("unbalanced parentheses")
            ops.pop()
        elif tok in precedence:
            while (ops and ops[-1] != "(" and tok != "not"
                   and precedence[ops[-1]] >= precedence[tok]):
                output.append(ops.pop())
            ops.append(tok)
        else:
            raise ValueError("unknown token " + tok)
    while ops:
        op = ops.pop()
        if op == "(":
            raise ValueError("unbalanced parentheses")
        output.append(op)
    stack = []
    for item in output:
        if item is True or item is False:
            stack.append(item)
        elif item == "not":
            if not stack:
                raise ValueError("malformed expression")
            stack.append(not stack.pop())
        else:
            if len(stack) < 2:
                raise ValueError("malformed expression")
            right = stack.pop()
            left = stack.pop()
            stack.append((left and right) if item == "and" else (left or right))
    if len(stack) != 1:
        raise ValueError("malformed expression")
    return stack[0]
''',
    """
def test_known():
    assert eval_boolean("True and not False") is True
    assert eval_boolean("not ( True or False )") is False
""",
)

TOOLS: Mapping[str, tuple[str, str]] = {
    "divisor_sum": (DIVISOR_SUM, "divisor_sum"),
    "table_range": (VALUE_RANGE, "value_range"),
    "boolean_expressions": (EVAL_BOOLEAN, "eval_boolean"),
}
"""Task type -> (tool reply, tool name): the oracle's tools for the shipped task families."""

EXAMPLE_CALLS: Mapping[str, str] = {
    "math-divisor-sum-36": "divisor_sum(n=36)",
    "math-divisor-sum-50": "divisor_sum(n=50)",
    "tab-range-books": "value_range(values=[14, 9, 21, 11])",
    "tab-range-temps": "value_range(values=[48, 55, 41, 60, 52])",
    "bbh-boolean-1": 'eval_boolean(expression="not ( True and False ) or False")',
    "bbh-boolean-2": 'eval_boolean(expression="( False or not False ) and not True")',
}
"""The oracle's calls for the shipped example tasks (maker/data/example_tasks.jsonl)."""


def example_solutions(tasks: Sequence[Task], *, buggy_first: Sequence[str] = ()) -> list[Solution]:
    """Oracle solutions for the shipped example tasks; tasks in `buggy_first` get a wrong first
    tool (a divisor sum that forgets n itself) so rectification shows."""
    out = []
    for t in tasks:
        if t.id not in EXAMPLE_CALLS or t.type not in TOOLS:
            continue
        first = DIVISOR_SUM_BUGGY if t.id in buggy_first and t.type == "divisor_sum" else None
        out.append(
            Solution(t.text, TOOLS[t.type][0], f"```python call\n{EXAMPLE_CALLS[t.id]}\n```", first)
        )
    return out


@cache
def _system_prompts() -> dict[str, str]:
    """The system message of each CREATOR template -> the phase it starts."""
    run = RunResult(ok=True, value=0)
    fields: dict[str, dict[str, Any]] = {
        "creator_create": {"problem": "p"},
        "creator_decide": {"problem": "p", "signature": "s", "docstring": "d", "name": "n"},
        "creator_rectify": {
            "problem": "p",
            "source": "s",
            "call": "c",
            "observation": run,
            "feedback": "f",
        },
        "repair": {"task": "t", "source": "s", "feedback": "f"},
    }
    phases = {
        "creator_create": "create",
        "creator_decide": "decide",
        "creator_rectify": "rectify",
        "repair": "repair",
    }
    return {render(name, **f)[0]["content"]: phases[name] for name, f in fields.items()}


def phase_of(messages: Sequence[Mapping[str, Any]]) -> str:
    """Which CREATOR prompt `messages` is (create/decide/rectify/repair), or ``""``."""
    system = next((str(m.get("content", "")) for m in messages if m.get("role") == "system"), "")
    return _system_prompts().get(system, "")


class Oracle:
    """Answers CREATOR prompts from known solutions (thread-safe)."""

    def __init__(self, solutions: Sequence[Solution]) -> None:
        # longest text first, so a text that contains another is matched as itself
        self.solutions = sorted(solutions, key=lambda s: -len(s.text))
        self._served_first: set[str] = set()
        self._lock = threading.Lock()

    def solution_for(self, messages: Sequence[Mapping[str, Any]]) -> Solution | None:
        user = "\n".join(str(m.get("content", "")) for m in messages if m.get("role") == "user")
        return next((s for s in self.solutions if s.text in user), None)

    def reply(self, messages: Sequence[Mapping[str, Any]]) -> str:
        """The oracle's reply to a CREATOR prompt (a polite refusal for anything else)."""
        phase = phase_of(messages)
        sol = self.solution_for(messages)
        if sol is None or not phase:
            return "I cannot help with that."
        if phase == "decide":
            return sol.call
        if phase == "create" and sol.first_tool is not None:
            with self._lock:
                first = sol.text not in self._served_first
                self._served_first.add(sol.text)
            if first:
                return sol.first_tool
        return sol.tool

    def server_reply(self, body: Mapping[str, Any]) -> str:
        """Reply generator for `FakeOpenAIServer` (takes the request body)."""
        return self.reply(list(body.get("messages") or []))


def scripted_model(solutions: Sequence[Solution]) -> ScriptedModel:
    """A `ScriptedModel` whose script is exactly the calls CREATOR makes on these solutions:
    create (+ rectify for a buggy first tool) and decide, each served once."""
    rules: list[Rule] = []
    for sol in solutions:

        def match(phase: str, text: str = sol.text) -> Any:
            return lambda messages, _p: (
                phase_of(messages) == phase and text in str(messages[-1].get("content", ""))
            )

        rules.append(Rule(match("create"), sol.first_tool or sol.tool))
        rules.append(Rule(match("decide"), sol.call))
        if sol.first_tool is not None:
            rules.append(Rule(match("rectify"), sol.tool))
    return ScriptedModel(rules, model="scripted-oracle")


# -- synthetic batches (benchmark) ------------------------------------------------------------
def example_server_reply() -> Callable[[Mapping[str, Any]], str]:
    """The oracle's reply function for the shipped example tasks (CREATOR prompts): a reply
    factory for the fake server, e.g. ``python -m maker.llm.testing.fake_endpoint --reply-factory
    maker.bench.oracle:example_server_reply``, to try `maker make` on the wire without a model."""
    from maker.tasks import example_tasks_path, load_tasks

    return Oracle(example_solutions(load_tasks(example_tasks_path())[0])).server_reply


def synthetic_server_reply(count: int, seed: int = 0) -> Callable[[Mapping[str, Any]], str]:
    """The oracle's reply function for `synthetic_tasks(count, seed=seed)`: a reply factory for
    `FakeServerProcess` (``"maker.bench.oracle:synthetic_server_reply"``)."""
    return Oracle(synthetic_tasks(count, seed=seed)[1]).server_reply


def synthetic_tasks(count: int, *, seed: int = 0) -> tuple[list[Task], list[Solution]]:
    """`count` distinct tasks of the three shipped families, with their oracle solutions."""
    rng = random.Random(seed)
    tasks: list[Task] = []
    sols: list[Solution] = []
    for i in range(count):
        family = ("divisor_sum", "table_range", "boolean_expressions")[i % 3]
        if family == "divisor_sum":
            n = rng.randint(2, 400)
            text = f"Problem {i}: what is the sum of the positive divisors of {n}?"
            call = f"divisor_sum(n={n})"
            answer: Any = sum(d for d in range(1, n + 1) if n % d == 0)
            examples = (ExampleCase({"n": 12}, 28), ExampleCase({"n": 7}, 8))
        elif family == "table_range":
            values = [rng.randint(0, 99) for _ in range(rng.randint(3, 7))]
            rows = "\n".join(f"Row {j} | {v}" for j, v in enumerate(values))
            text = f"Problem {i}: table\n\nName | Count\n{rows}\n\nWhat is the range?"
            call = f"value_range(values={values})"
            answer = max(values) - min(values)
            examples = (ExampleCase({"values": [3, 9, 4]}, 6),)
        else:
            a, b = rng.choice(["True", "False"]), rng.choice(["True", "False"])
            expr = f"not ( {a} and {b} ) or {b}"
            text = f"Problem {i}: evaluate the Boolean expression.\n\n{expr}"
            call = f'eval_boolean(expression="{expr}")'
            answer = (not (a == "True" and b == "True")) or b == "True"
            examples = (ExampleCase({"expression": "True and not False"}, True),)
        tasks.append(
            Task(f"bench-{i:03d}", text, family, examples, answer, "train", {"synthetic": True})
        )
        sols.append(Solution(text, TOOLS[family][0], f"```python call\n{call}\n```"))
    return tasks, sols
