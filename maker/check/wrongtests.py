"""Known examples outrank the model's own tests.

A small model's unit test may assert a wrong value (``assert divisor_sum(12) == 27``) and sink a
tool that is right on every known example. Here a model-written test is *overruled* (recorded as
a wrong test, fed back, and not counted against the tool) when:

- it states a value for a known example's input that contradicts the example (found statically:
  ``assert tool(<literals>) == <literal>``, either way round), or
- it fails while the tool passes every known and held-out example (at least one ran), or
- it fails with a NameError for a name the tool's code never mentions (the test is broken).

Failures that are terminal, hit a limit, or are the sandbox refusing the test code (PolicyError,
SandboxViolation) are never overruled: hostile test code still counts against the reply. The automatic robustness property is the harness's own, not
the model's, and is never overruled either.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from library.verdict import Failure, Verdict
from maker.text.astutil import walk
from maker.text.drafts import ToolDraft
from sandbox import ExampleCase, TestOutcome
from sandbox.parsing import parse_source
from sandbox.values import values_equal

MODEL_TEST_KINDS = ("unit", "property")
_HARNESS_NAMES = ("source_problems",)
# Test code the sandbox refused (RestrictedPython, the audit hook) is never overruled.
_REFUSED = ("PolicyError", "SandboxViolation")  # checks the strategies add; not the model's tests


def _literal(node: ast.AST) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return False, None


def _stated(node: ast.AST, draft: ToolDraft) -> tuple[dict[str, Any], Any] | None:
    """(kwargs, value) when ``node`` is ``tool(<literals>) == <literal>`` (either order)."""
    if not (
        isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)
    ):
        return None
    sides = [node.left, node.comparators[0]]
    for call, other in (sides, sides[::-1]):
        if not (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id == draft.name
        ):
            continue
        names = [n for n, _ in draft.params]
        if len(call.args) > len(names) or any(k.arg is None for k in call.keywords):
            return None
        kwargs: dict[str, Any] = {}
        for name, arg in [
            *zip(names, call.args, strict=False),
            *((k.arg, k.value) for k in call.keywords),
        ]:
            ok, value = _literal(arg)
            if not ok:
                return None
            kwargs[str(name)] = value
        ok, value = _literal(other)
        return (kwargs, value) if ok else None
    return None


def contradictions(draft: ToolDraft, known: Sequence[ExampleCase]) -> dict[str, str]:
    """Unit tests (by name) that assert a value contradicting a known example, with why."""
    if not known or not draft.unit_tests.strip():
        return {}
    try:
        tree = parse_source(draft.unit_tests)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return {}
    found: dict[str, str] = {}
    for fn in tree.body:
        if not isinstance(fn, ast.FunctionDef) or not fn.name.startswith("test"):
            continue
        for node in ast.walk(fn):
            stated = _stated(node.test, draft) if isinstance(node, ast.Assert) else None
            if stated is None:
                continue
            kwargs, value = stated
            for case in known:
                if case.input == kwargs and not values_equal(value, case.expected):
                    found[fn.name] = (
                        f"it asserts {ast.unparse(node.test)[:120]}, but the "
                        f"known example for that input expects "
                        f"{case.expected!r:.80}"
                    )
                    break
            if fn.name in found:
                break
    return found


_NAME_ERROR = re.compile(r"name '([A-Za-z_][A-Za-z0-9_]*)' is not defined")


def _missing_name(failure: Failure, draft: ToolDraft) -> str | None:
    """The name a model test failed on with a NameError, when the tool's code never mentions it
    (so the test, not the tool, is broken): the real 1.5B copied the prompt's example property
    `prop_divides`, which calls `gcd`, into the tests of a range tool."""
    found = _NAME_ERROR.search(failure.message) if failure.error_type == "NameError" else None
    if not found:
        return None
    mentioned = _mentioned(draft.source)
    return None if mentioned is None or found[1] in mentioned else found[1]


@functools.lru_cache(maxsize=64)
def _mentioned(source: str) -> frozenset[str] | None:
    """Every name the tool's code reads, writes or defines (None: it does not parse); one parse
    per tool however many of its tests failed."""
    try:
        nodes = walk(parse_source(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    return frozenset(n.id for n in nodes if isinstance(n, ast.Name)) | frozenset(
        n.name for n in nodes if isinstance(n, ast.FunctionDef | ast.ClassDef)
    )


def overrule(
    failures: Sequence[Failure],
    outcomes: Sequence[TestOutcome],
    draft: ToolDraft,
    known: Sequence[ExampleCase],
    harness_names: Sequence[str] = (),
) -> tuple[list[Failure], list[Failure]]:
    """Split ``failures`` into (those that stand, the model's tests overruled as wrong)."""
    examples = [o for o in outcomes if o.kind in ("example", "held_out")]
    examples_pass = bool(examples) and all(o.passed for o in examples)
    contradicting = contradictions(draft, known)
    skip = set(_HARNESS_NAMES) | set(harness_names)
    kept: list[Failure] = []
    wrong: list[Failure] = []
    for failure in failures:
        model_test = (
            failure.kind in MODEL_TEST_KINDS
            and not failure.terminal
            and failure.name not in skip
            and failure.error_type not in _REFUSED
            and failure.limit is None
        )
        missing = _missing_name(failure, draft) if model_test else None
        if model_test and failure.name in contradicting:
            wrong.append(replace(failure, message=f"wrong test: {contradicting[failure.name]}"))
        elif missing:
            wrong.append(
                replace(
                    failure,
                    message=f"wrong test: it uses `{missing}`, which the tool never mentions "
                    "and nothing defines (drop it or define what it needs)",
                )
            )
        elif model_test and examples_pass:
            wrong.append(
                replace(
                    failure,
                    message=(
                        f"wrong test: it fails on a tool that passes all {len(examples)} known and "
                        f"held-out example(s): {failure.message}"
                    )[:1000],
                )
            )
        else:
            kept.append(failure)
    return kept, wrong


def without_wrong_tests(draft: ToolDraft, verdict: Verdict) -> ToolDraft:
    """``draft`` without the tests its verdict overruled (so they are not stored and re-run)."""
    names = {f.name for f in verdict.wrong_tests}
    if not names:
        return draft
    properties = tuple(p for p in draft.properties if p.name not in names)
    unit = "" if "unit_tests" in names else _drop_functions(draft.unit_tests, names)
    notes = (*draft.notes, f"dropped wrong test(s): {', '.join(sorted(names))}")
    return replace(draft, unit_tests=unit, properties=properties, notes=notes)


def _drop_functions(source: str, names: set[str]) -> str:
    try:
        tree = parse_source(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ""
    lines = source.split("\n")
    cut = [
        (min([n.lineno] + [d.lineno for d in n.decorator_list]), n.end_lineno or n.lineno)
        for n in tree.body
        if isinstance(n, ast.FunctionDef) and n.name in names
    ]
    keep = [line for i, line in enumerate(lines, 1) if not any(a <= i <= b for a, b in cut)]
    text = "\n".join(keep).strip()
    try:
        rest = parse_source(text)
    except SyntaxError:
        return ""
    if not any(isinstance(n, ast.FunctionDef) and n.name.startswith("test") for n in rest.body):
        return ""
    return text + "\n"


def wrong_tests_feedback(verdict: Verdict, limit: int = 4) -> str:
    """The overruled tests, for the model: which, and why each was judged wrong."""
    if not verdict.wrong_tests:
        return ""
    lines = [
        "Your own tests that were judged wrong (the known examples outrank them; fix or drop them):"
    ]
    for f in verdict.wrong_tests[:limit]:
        lines.append(f"- {f.name}: {' '.join(f.message.split())[:300]}")
    return "\n".join(lines)
