"""Convert between the library's stored `TestSuite` record and the sandbox's `TestSuite`.

The library stores tests as plain JSON (examples `{"input": {...}, "expected": value}`, unit-test
sources, property specs as dicts); the sandbox runs `sandbox.TestSuite` values. Conversion is
pure and never runs anything.

>>> from library.records import TestSuite
>>> suite = to_sandbox_suite(TestSuite(examples=({"input": {"a": 1}, "expected": 2},)))
>>> suite.examples[0].args, suite.examples[0].expected
({'a': 1}, 2)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sandbox
from library.records import JSON, TestSuite, dumps

_PROPERTY_KEYS = frozenset({"name", "source", "strategies", "examples", "max_examples"})


@dataclass(frozen=True)
class SuiteError:
    """Why a stored suite cannot be run; `message` is one line naming the bad entry."""

    message: str


def _case(item: Any, where: str) -> sandbox.ExampleCase | SuiteError:
    if not isinstance(item, dict) or not isinstance(item.get("input"), dict):
        return SuiteError(f"{where} is not an object with an 'input' object: {item!r:.80}")
    if "expected" not in item:
        return SuiteError(f"{where} has no 'expected' value")
    compare = item.get("compare", "auto")
    if compare not in ("auto", "exact"):
        return SuiteError(f"{where} has compare={compare!r}; use 'auto' or 'exact'")
    name = item.get("name", "")
    return sandbox.ExampleCase(
        args=dict(item["input"]),
        expected=item["expected"],
        name=name if isinstance(name, str) else "",
        compare=compare,
    )


def _property(item: Any, where: str) -> sandbox.PropertySpec | SuiteError:
    if not isinstance(item, dict):
        return SuiteError(f"{where} is not an object: {item!r:.80}")
    if not isinstance(item.get("name"), str) or not isinstance(item.get("source"), str):
        return SuiteError(f"{where} needs string 'name' and 'source' fields")
    extra = set(item) - _PROPERTY_KEYS
    if extra:
        return SuiteError(f"{where} has unknown fields {sorted(extra)}")
    strategies = item.get("strategies") or {}
    examples = item.get("examples") or ()
    if not isinstance(strategies, dict) or not all(isinstance(e, dict) for e in examples):
        return SuiteError(f"{where}: 'strategies' must be an object and 'examples' objects")
    max_examples = item.get("max_examples", 100)
    if type(max_examples) is not int or max_examples < 1:
        return SuiteError(f"{where}: 'max_examples' must be a positive integer")
    return sandbox.PropertySpec(
        name=item["name"],
        source=item["source"],
        strategies=dict(strategies),
        examples=tuple(dict(e) for e in examples),
        max_examples=max_examples,
    )


def to_sandbox_suite(tests: TestSuite) -> sandbox.TestSuite | SuiteError:
    """The runnable `sandbox.TestSuite` for a stored suite, or why an entry is malformed.

    Unit-test sources are joined into one module (each defines its own `test_*` functions).
    """
    examples: list[sandbox.ExampleCase] = []
    held_out: list[sandbox.ExampleCase] = []
    for kind, items, out in (
        ("example", tests.examples, examples),
        ("held-out case", tests.held_out, held_out),
    ):
        for i, item in enumerate(items):
            case = _case(item, f"{kind} {i}")
            if isinstance(case, SuiteError):
                return case
            out.append(case)
    properties: list[sandbox.PropertySpec] = []
    for i, item in enumerate(tests.property_specs):
        prop = _property(item, f"property spec {i}")
        if isinstance(prop, SuiteError):
            return prop
        properties.append(prop)
    units = [u for u in tests.unit_tests if isinstance(u, str) and u.strip()]
    return sandbox.TestSuite(
        examples=tuple(examples),
        unit_tests="\n\n".join(u.rstrip() + "\n" for u in units),
        properties=tuple(properties),
        held_out=tuple(held_out),
    )


def _case_dict(case: sandbox.ExampleCase) -> dict[str, JSON]:
    d: dict[str, JSON] = {"input": dict(case.args), "expected": case.expected}
    if case.name:
        d["name"] = case.name
    if case.compare != "auto":
        d["compare"] = case.compare
    return d


def from_sandbox_suite(suite: sandbox.TestSuite) -> TestSuite:
    """The stored form of a `sandbox.TestSuite` (the inverse of `to_sandbox_suite`)."""
    return TestSuite(
        examples=tuple(_case_dict(c) for c in suite.examples),
        unit_tests=(suite.unit_tests,) if suite.unit_tests.strip() else (),
        property_specs=tuple(
            {
                "name": p.name,
                "source": p.source,
                "strategies": dict(p.strategies),
                "examples": [dict(e) for e in p.examples],
                "max_examples": p.max_examples,
            }
            for p in suite.properties
        ),
        held_out=tuple(_case_dict(c) for c in suite.held_out),
    )


def is_empty(suite: sandbox.TestSuite) -> bool:
    """True when the suite has no test of any kind."""
    return not (suite.examples or suite.unit_tests.strip() or suite.properties or suite.held_out)


# ---------------------------------------------------------------- failures as text


def mismatch_text(expected: Any, actual: Any = None, *, error: Any = None, width: int = 200) -> str:
    """``expected 6, got 12`` (or ``..., got error ZeroDivisionError: ...``), values clipped.

    >>> mismatch_text(6, 12), mismatch_text(2, error="ValueError: no")
    ('expected 6, got 12', 'expected 2, got error ValueError: no')
    """
    got = f"error {error}" if error is not None else f"{actual!r:.{width}}"
    return f"expected {expected!r:.{width}}, got {got}"


def failure_text(outcome: sandbox.TestOutcome, *, width: int = 200) -> str:
    """What went wrong in one failed test, in one line: the wrong answer against the expected
    one, or the error; then the minimal failing input Hypothesis found, if any. The one
    rendering of a test failure the library's messages use (the gate, `maker library add`)."""
    if outcome.error is not None and outcome.error.type == "WrongAnswer":
        detail = mismatch_text(outcome.expected, outcome.actual, width=width)
    else:
        detail = str(outcome.error) if outcome.error else "failed"
    if outcome.minimal_input is not None:
        detail += f" (minimal input {dumps(outcome.minimal_input)[:width]})"
    return detail
