"""Running a `TestSuite` against a tool, every test inside the sandbox.

Each example, unit test and property is its own sandboxed call with its own deadline, so one
test that hangs or crashes its worker costs only its own outcome. Tests written by a model are
as hostile as the tool: they run under the same policy.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from sandbox.policy import Policy
from sandbox.results import ErrorInfo, ExampleCase, TestOutcome, TestReport, TestSuite
from sandbox.values import values_equal

if TYPE_CHECKING:
    from sandbox.host import Sandbox


def _error(reply: dict[str, Any]) -> ErrorInfo | None:
    err = reply.get("error")
    return ErrorInfo(**err) if err else None


def _example(sb: Sandbox, source: str, entry: str, case: ExampleCase, index: int, kind: str,
             policy: Policy) -> TestOutcome:
    name = case.name or f"{kind}[{index}]"
    result = sb.run(source, entry, kwargs=case.args, policy=policy)
    if not result.ok:
        return TestOutcome(name, kind, False, error=result.error, expected=case.expected,
                           elapsed_ms=result.elapsed_ms, limit=result.limit)  # type: ignore[arg-type]
    passed = values_equal(result.value, case.expected, approx=case.compare == "auto")
    error = None if passed else ErrorInfo(
        "WrongAnswer", f"expected {case.expected!r:.300}, got {result.value!r:.300}")
    return TestOutcome(name, kind, passed, error=error, actual=result.value,  # type: ignore[arg-type]
                       expected=case.expected, elapsed_ms=result.elapsed_ms)


def run_suite(sb: Sandbox, source: str, entry: str, suite: TestSuite, *,
              policy: Policy) -> TestReport:
    """Run every test of ``suite``; compile errors of the tool are one failed outcome."""
    started = time.perf_counter()
    outcomes: list[TestOutcome] = []
    compiled = sb.compile(source, policy=policy)
    if not compiled.ok:
        outcomes.append(TestOutcome("compile", "compile", False, error=compiled.errors[0]))
        return TestReport(tuple(outcomes), (time.perf_counter() - started) * 1000)
    if entry not in compiled.functions:
        outcomes.append(TestOutcome("compile", "compile", False, error=ErrorInfo(
            "NameError", f"the tool defines no top-level function named '{entry}'")))
        return TestReport(tuple(outcomes), (time.perf_counter() - started) * 1000)

    for i, case in enumerate(suite.examples):
        outcomes.append(_example(sb, source, entry, case, i, "example", policy))

    if suite.unit_tests.strip():
        reply = sb.call_raw({"op": "discover", "source": source, "tests": suite.unit_tests},
                            policy=policy)
        if not reply["ok"]:
            outcomes.append(TestOutcome("unit_tests", "unit", False, error=_error(reply),
                                        limit=reply.get("limit")))
        elif not reply["value"]:
            outcomes.append(TestOutcome("unit_tests", "unit", False, error=ErrorInfo(
                "NoTests", "the unit test source defines no test_* functions")))
        for name in reply["value"] or []:
            t0 = time.perf_counter()
            r = sb.call_raw({"op": "unit", "source": source, "tests": suite.unit_tests,
                             "name": name}, policy=policy)
            outcomes.append(TestOutcome(name, "unit", bool(r["ok"]), error=_error(r),
                                        elapsed_ms=(time.perf_counter() - t0) * 1000,
                                        limit=r.get("limit")))

    for prop in suite.properties:
        t0 = time.perf_counter()
        r = sb.call_raw({
            "op": "property", "source": source, "tests": prop.source, "name": prop.name,
            "strategies": prop.strategies, "examples": list(prop.examples),
            "max_examples": prop.max_examples,
        }, policy=policy, timeout=policy.limits.test_timeout_s)
        outcomes.append(TestOutcome(
            prop.name, "property", bool(r["ok"]), error=_error(r),
            minimal_input=r.get("minimal_input"), examples_run=int(r.get("examples_run", 0)),
            elapsed_ms=(time.perf_counter() - t0) * 1000, limit=r.get("limit"),
        ))

    for i, case in enumerate(suite.held_out):
        outcomes.append(_example(sb, source, entry, case, i, "held_out", policy))
    return TestReport(tuple(outcomes), (time.perf_counter() - started) * 1000)
