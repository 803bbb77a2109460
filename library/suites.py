"""The one converter between the library's `StoredSuite` record and the sandbox's `TestSuite`.

The library keeps a tool's tests as JSON (examples and held-out cases in `sandbox.ExampleCase`'s
JSON form `{"input": {...}, "expected": value}`, one unit-test source per entry, property specs
in `sandbox.PropertySpec`'s JSON form); the sandbox runs `sandbox.TestSuite` values. Conversion
is pure and never runs anything.

>>> from library.records import StoredSuite
>>> suite = to_sandbox_suite(StoredSuite(examples=({"input": {"a": 1}, "expected": 2},)))
>>> suite.examples[0].input, suite.examples[0].expected
({'a': 1}, 2)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sandbox
from library.records import StoredSuite, dumps


@dataclass(frozen=True)
class SuiteError:
    """Why a stored suite cannot be run; `message` is one line naming the bad entry."""

    message: str


def _case(item: Any, where: str) -> sandbox.ExampleCase | SuiteError:
    try:
        return sandbox.ExampleCase.from_json(item)
    except ValueError as exc:
        return SuiteError(f"{where} {exc}")


def _property(item: Any, where: str) -> sandbox.PropertySpec | SuiteError:
    try:
        return sandbox.PropertySpec.from_json(item)
    except ValueError as exc:
        return SuiteError(f"{where} {exc}")


def to_sandbox_suite(tests: StoredSuite) -> sandbox.TestSuite | SuiteError:
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


def from_sandbox_suite(
    suite: sandbox.TestSuite,
    *,
    examples: Sequence[Mapping[str, Any]] | None = None,
    held_out: Sequence[Mapping[str, Any]] | None = None,
) -> StoredSuite:
    """The stored form of a `sandbox.TestSuite` (the inverse of `to_sandbox_suite`).

    `examples` / `held_out`, when given, are stored instead of the suite's own cases: the
    JSON form of the same cases with annotations (a usage example's ``question``) kept.
    """
    return StoredSuite(
        examples=tuple(dict(e) for e in examples)
        if examples is not None
        else tuple(c.to_json() for c in suite.examples),
        unit_tests=(suite.unit_tests,) if suite.unit_tests.strip() else (),
        property_specs=tuple(p.to_json() for p in suite.properties),
        held_out=tuple(dict(e) for e in held_out)
        if held_out is not None
        else tuple(c.to_json() for c in suite.held_out),
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
