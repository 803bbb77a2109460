"""Checks that catch tools that only look general, on the source (AST) and on sample inputs.

- `hardcoded_constants`: the code holds the source problem's answer, or distinctive numbers from
  the problem text or the example inputs, that its signature and docstring do not mention.
- `example_branches`: a comparison (``if x == 12``, ``x in (12, 18)``, ``case 12:``) or a lookup
  table keyed on specific example inputs.
- `sample_inputs` and `constant_output`: run the tool on clearly different inputs (built from
  the type hints, deterministically) and flag one output for all of them when the examples'
  answers differ or when that one output is an example's answer.

All of it reads the source with `ast` (and `ast.literal_eval` on literal nodes only); running
the tool is the sandbox's job.
"""

from __future__ import annotations

import ast
import functools
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from library.samples import ORDINARY, Unsupported, hint_schema, sample_rows
from library.verdict import Failure
from maker.text.astutil import walk
from sandbox import ExampleCase
from sandbox.parsing import parse_source

# Numbers a general tool may well contain: small ones, and units everybody knows.
WELL_KNOWN_NUMBERS = frozenset(
    {
        12,
        16,
        20,
        24,
        26,
        30,
        31,
        32,
        36,
        52,
        60,
        64,
        90,
        100,
        128,
        180,
        255,
        256,
        360,
        365,
        366,
        1000,
        1024,
        3600,
        10**6,
        10**9,
        10**9 + 7,
        998244353,
        86400,
        0.5,
        0.25,
        0.75,
        0.1,
        0.01,
        0.001,
        1e-6,
        1e-9,
        1e-12,
        3.14,
        3.14159,
        2.718,
        9.8,
        9.81,
        1.5,
        2.5,
    }
)
_TRIVIAL_KEYS = frozenset(
    {
        ("n", -1.0),
        ("n", 0.0),
        ("n", 1.0),
        ("n", 2.0),
        ("s", ""),
        ("b", True),
        ("b", False),
        ("z", None),
    }
)
_NUMBER_IN_TEXT = re.compile(
    r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\w])|(?<![\w.])-?\d+"
    r"(?:\.\d+)?(?![\w])"
)
_EQUALITY_OPS = (ast.Eq, ast.NotEq, ast.Is, ast.IsNot, ast.In, ast.NotIn)


def _key(value: Any) -> tuple[str, Any] | None:
    """A comparable key: numbers compare numerically, bools and strings by value."""
    if value is None:
        return ("z", None)
    if isinstance(value, bool):
        return ("b", value)
    if isinstance(value, int | float | Fraction):
        number = float(value)
        return ("n", number) if math.isfinite(number) else None
    if isinstance(value, str):
        return ("s", value.strip())
    return None


def distinctive(value: Any) -> bool:
    """A number or string unlikely to appear in a general tool by chance."""
    key = _key(value)
    if key is None or key in _TRIVIAL_KEYS or key[0] in ("b", "z"):
        return False
    if key[0] == "s":
        return len(key[1]) >= 3
    number = key[1]
    if number in WELL_KNOWN_NUMBERS:
        return False
    return abs(number) > 10 or not number.is_integer()


def _leaves(value: Any, out: list[Any], budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        return
    if isinstance(value, Mapping):
        for v in value.values():
            _leaves(v, out, budget)
    elif isinstance(value, list | tuple):
        for v in value:
            _leaves(v, out, budget)
    else:
        out.append(value)


def leaves(value: Any, limit: int = 1_000) -> list[Any]:
    """The scalar values inside a JSON value (bounded)."""
    out: list[Any] = []
    _leaves(value, out, [limit])
    return out


def numbers_in_text(text: str) -> list[int | float]:
    """Numbers written in prose ("1,200", "3.5", "-7")."""
    found: list[int | float] = []
    for match in _NUMBER_IN_TEXT.finditer(text or ""):
        raw = match.group().replace(",", "")
        try:
            found.append(float(raw) if "." in raw else int(raw))
        except ValueError:
            continue
    return found


def _docstring_nodes(nodes: Sequence[ast.AST]) -> set[int]:
    ids: set[int] = set()
    for node in nodes:
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _literals(nodes: Sequence[ast.AST]) -> list[tuple[Any, int]]:
    """Numeric and string literals of the code (docstrings excluded), with their lines."""
    skip = _docstring_nodes(nodes)
    found: list[tuple[Any, int]] = []
    negated: set[int] = set()
    for node in nodes:
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, int | float)
            and not isinstance(node.operand.value, bool)
        ):
            found.append((-node.operand.value, node.lineno))
            negated.add(id(node.operand))
    for node in nodes:
        if isinstance(node, ast.Constant) and id(node) not in skip and id(node) not in negated:
            if isinstance(node.value, int | float | str) and not isinstance(node.value, bool):
                found.append((node.value, node.lineno))
    return found


def _mentioned(value: Any, signature: str, docstring: str) -> bool:
    """Whether the signature or docstring names the value (a documented default or constant)."""
    key = _key(value)
    if key is None:
        return False
    if key[0] == "s":
        return key[1] in docstring or key[1] in signature
    return any(_key(n) == key for n in numbers_in_text(signature + "\n" + docstring))


@functools.lru_cache(maxsize=256)
def _nodes(source: str) -> tuple[ast.AST, ...] | None:
    """Every node of the tree of ``source`` (`ast.walk` order; None if unparsable), shared by
    the checks: read them, never change them (memoized, as validation asks for them several
    times per draft)."""
    try:
        return tuple(walk(parse_source(source)))
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return None


def hardcoded_constants(
    source: str,
    *,
    signature: str = "",
    docstring: str = "",
    task_text: str = "",
    examples: Sequence[ExampleCase] = (),
) -> list[Failure]:
    """Literals in the code that are an example's answer, or distinctive constants of the
    problem text or example inputs, unless the signature or docstring mentions them."""
    nodes = _nodes(source)
    if nodes is None:
        return []
    answers = {}
    for i, case in enumerate(examples):
        for leaf in leaves(case.expected):
            if distinctive(leaf):
                answers.setdefault(_key(leaf), case.name or f"example[{i}]")
    givens: dict[Any, str] = {}
    for number in numbers_in_text(task_text):
        if distinctive(number):
            givens.setdefault(_key(number), "the problem text")
    for i, case in enumerate(examples):
        for leaf in leaves(case.input):
            if distinctive(leaf):
                givens.setdefault(_key(leaf), f"the input of {case.name or f'example[{i}]'}")
    failures: list[Failure] = []
    seen: set[Any] = set()
    for value, line in _literals(nodes):
        key = _key(value)
        if key is None or key in seen or _mentioned(value, signature, docstring):
            continue
        if key in answers:
            seen.add(key)
            failures.append(
                Failure(
                    "hardcoded_constant",
                    "answer_literal",
                    f"the code contains {value!r:.60} (line {line}), the expected answer of "
                    f"{answers[key]}; compute the answer instead of writing it in",
                    line=line,
                    actual=value,
                )
            )
        elif key in givens:
            seen.add(key)
            failures.append(
                Failure(
                    "hardcoded_constant",
                    "problem_constant",
                    f"the code contains {value!r:.60} (line {line}) from {givens[key]}; take it as "
                    "a parameter instead",
                    line=line,
                    actual=value,
                )
            )
    return failures


def example_branches(
    source: str,
    *,
    signature: str = "",
    docstring: str = "",
    examples: Sequence[ExampleCase] = (),
) -> list[Failure]:
    """Comparisons, ``case`` patterns and dict lookup tables keyed on specific example inputs."""
    nodes = _nodes(source)
    if nodes is None or not examples:
        return []
    inputs: set[Any] = set()
    whole: list[Any] = []
    for case in examples:
        for value in case.input.values():
            whole.append(value)
            for leaf in leaves(value):
                key = _key(leaf)
                if (
                    key is not None
                    and key not in _TRIVIAL_KEYS
                    and not _mentioned(leaf, signature, docstring)
                ):
                    inputs.add(key)
    answers = {_key(leaf) for case in examples for leaf in leaves(case.expected)} - {None}

    def hits(node: ast.AST) -> list[Any]:
        try:
            value = ast.literal_eval(node)  # literal nodes only; never runs code
        except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
            return []
        if isinstance(value, list | tuple) and any(_plain_equal(value, w) for w in whole):
            return [value]  # the whole of an example's list input
        if isinstance(value, list | tuple | set | frozenset):
            return [v for v in value if _key(v) in inputs]
        return [value] if _key(value) in inputs else []

    failures: list[Failure] = []
    compared: dict[int, list[Any]] = {}
    for node in nodes:
        found: list[Any] = []
        if isinstance(node, ast.Compare) and any(isinstance(o, _EQUALITY_OPS) for o in node.ops):
            for side in [node.left, *node.comparators]:
                found.extend(hits(side))
        elif isinstance(node, ast.MatchValue):
            found.extend(hits(node.value))
        elif isinstance(node, ast.Dict) and node.keys:
            keys = [k for k in node.keys if k is not None]
            key_hits = [v for k in keys for v in hits(k)]
            value_hits = []
            for v in node.values:
                try:
                    value_hits.append(_key(ast.literal_eval(v)) in answers)
                except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
                    value_hits.append(False)
            if key_hits and any(value_hits):
                failures.append(
                    Failure(
                        "example_branch",
                        "lookup_table",
                        f"line {node.lineno} maps example inputs ({_show(key_hits)}) to answers in "
                        "a lookup table; compute the answer for any input",
                        line=node.lineno,
                    )
                )
            continue
        if found:
            compared.setdefault(node.lineno, []).extend(found)
    for line, found in sorted(compared.items()):
        failures.append(
            Failure(
                "example_branch",
                "input_comparison",
                f"line {line} compares with the example input(s) {_show(found)}; a general tool "
                "does not special-case the examples",
                line=line,
            )
        )
    return failures


def ignored_inputs(source: str, entry: str) -> Failure | None:
    """A Failure when the function ``entry`` reads none of its parameters: each one is never
    read, or is overwritten by a statement of the function's own body (so run whatever the
    input) before anything reads it. Such a tool cannot be computing its answer from its input;
    the real 1.5B, given a task that says "a random Boolean expression", wrote a tool that built
    a random expression of its own over its parameter. A function with no parameters, or one
    that reads any of them, passes.

    >>> ignored_inputs("def f(s: str) -> int:\\n    s = 'x'\\n    return len(s)\\n", "f").message[:70]
    'the tool never uses its input: line 2 overwrites `s` before anything r'
    >>> ignored_inputs("def f(s: str) -> str:\\n    s = s.strip()\\n    return s\\n", "f") is None
    True
    """
    nodes = _nodes(source)
    if nodes is None:
        return None
    fn = next(
        (n for n in nodes if isinstance(n, ast.FunctionDef) and n.name == entry),
        None,
    )
    if fn is None:
        return None
    a = fn.args
    params = [x.arg for x in a.posonlyargs + a.args + a.kwonlyargs]
    params += [x.arg for x in (a.vararg, a.kwarg) if x is not None]
    if not params:
        return None
    overwritten: dict[str, int] = {}
    for name in params:
        for stmt in fn.body:
            reads = any(
                isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
                for n in walk(stmt)
            )
            if reads:
                return None  # read before (or while) being overwritten: the input is used
            targets: list[ast.AST] = []
            if isinstance(stmt, ast.Assign):
                targets = list(stmt.targets)
            elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
                targets = [stmt.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                overwritten[name] = stmt.lineno
                break
    if overwritten:
        name, line = min(overwritten.items(), key=lambda kv: kv[1])
        how = f"line {line} overwrites `{name}` before anything reads it"
    else:
        line = fn.lineno
        how = "no line reads its parameter(s) " + ", ".join(f"`{p}`" for p in params)
    return Failure(
        "constant_output",
        "ignored_input",
        f"the tool never uses its input: {how}; compute the result from the argument(s) it is "
        "called with",
        line=line,
    )


def _plain_equal(a: Any, b: Any) -> bool:
    try:
        return json.dumps(a, sort_keys=True, default=str) == json.dumps(
            b, sort_keys=True, default=str
        )
    except (TypeError, ValueError, RecursionError):
        return False


def _show(values: Iterable[Any]) -> str:
    return ", ".join(repr(v)[:40] for v in list(values)[:4])


# -- sample inputs from type hints (deterministic, plain JSON values) -------------------------
def _plain(schema: Any) -> bool:
    """A schema whose values cross to the tool as they are (no Fraction/Decimal/sympy text
    formats, no untyped ``Any``)."""
    if not isinstance(schema, dict) or not schema or "format" in schema:
        return False
    nested = [schema.get("items"), schema.get("additionalProperties")]
    nested += list(schema.get("prefixItems", ())) + list(schema.get("anyOf", ()))
    return all(_plain(s) for s in nested if s is not None and s is not True)


def sample_inputs(params: Sequence[tuple[str, str]], count: int = 6) -> list[dict[str, Any]]:
    """Up to ``count`` distinct keyword-argument dicts for parameters with the given hint texts,
    drawn by the library's one generator from types (`library.samples`, ordinary values), the
    same every time for the same hints; ``[]`` when a hint has no plain values (Fraction, ``Any``, unknown)."""
    try:
        schemas = [hint_schema(text) for _, text in params]
    except Unsupported:
        return []
    if not all(_plain(s) for s in schemas):
        return []
    rows = sample_rows(schemas, count, "generality:" + json.dumps(list(params)), ORDINARY)
    if isinstance(rows, str):
        return []
    return [dict(zip([name for name, _ in params], row, strict=True)) for row in rows]


def constant_output(
    runs: Sequence[tuple[dict[str, Any], Any]],
    examples: Sequence[ExampleCase],
    *,
    min_inputs: int = 3,
) -> Failure | None:
    """Flag one output for ``min_inputs`` or more distinct inputs (``runs``: input, output pairs
    of calls that returned) when the examples' answers differ or the output is an answer."""
    inputs = {json.dumps(i, sort_keys=True, default=str) for i, _ in runs}
    outputs = {json.dumps(o, sort_keys=True, default=str) for _, o in runs}
    if len(inputs) < min_inputs or len(outputs) != 1:
        return None
    value = runs[0][1]
    answers = {json.dumps(c.expected, sort_keys=True, default=str) for c in examples}
    if len(answers) >= 2 or (answers and next(iter(outputs)) in answers):
        why = (
            "though the examples' answers differ"
            if len(answers) >= 2
            else "and that value is the example's answer"
        )
        return Failure(
            "constant_output",
            "constant_output",
            f"the tool returned {json.dumps(value, default=str)[:80]} for all {len(inputs)} "
            f"different inputs tried, {why}",
            actual=value,
            minimal_input=dict(runs[0][0]),
        )
    return None
