"""Running a `TestSuite` against a tool, every test inside the sandbox.

Each example, unit test and property is its own sandboxed call with its own deadline, so one
test that hangs or crashes its worker costs only its own outcome. Tests written by a model are
as hostile as the tool: they run under the same policy.

Property runs are derandomized (fixed seed from the property runner, no example database), so
the outcome of a property's *generated* examples is a function of the tool source, the property
(name, source, strategies, max_examples), the policy and the worker mode. A `PropertyMemo`
passed to `run_suite` reuses that outcome for identical runs (pass or fail alike). With a memo,
a property's explicit examples run as their own sandbox call (``phases="explicit"``, every
time, they are cheap) and its generated examples as another (memoized, without the explicit
examples, so properties that differ only in their explicit examples share it): the outcome is
the explicit failure if one fails, else the generated phase's, with ``examples_run`` the sum,
as in one combined run. The one difference: the two phases run in fresh module globals each,
so a tool that keeps state across calls in module globals does not carry it from the explicit
examples into the generated ones. Outcomes that depend on the machine (timeout, memory, CPU,
crash) are never memoized. Threads asking for a run that another thread is doing wait for its
reply instead of repeating it. Without a memo (the default) each property is one combined call.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from sandbox.hashing import source_hash
from sandbox.policy import Policy
from sandbox.results import (
    ErrorInfo,
    ExampleCase,
    PropertySpec,
    TestOutcome,
    TestReport,
    TestSuite,
)
from sandbox.values import type_note, values_equal

if TYPE_CHECKING:
    from sandbox.host import Sandbox


# Limits whose outcome is decided by the code and the policy, not by the machine's load.
_DETERMINISTIC_LIMITS = (None, "policy", "recursion", "result_size", "output")


class PropertyMemo:
    """A bounded, thread-safe LRU of generated-phase property replies (see the module doc)."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._data: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self._running: dict[str, threading.Event] = {}
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(source: str, prop: PropertySpec, policy: Policy, strict: bool) -> str:
        blob = json.dumps(
            [
                source,
                prop.name,
                prop.source,
                prop.strategies,
                prop.max_examples,
                policy.key(),
                strict,
            ],
            sort_keys=True,
            default=repr,
        )
        return source_hash(blob)

    def get(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            return self._hit(key)

    def _hit(self, key: str) -> dict[str, Any] | None:
        reply = self._data.get(key)
        if reply is None:
            return None
        self._data.move_to_end(key)
        self.hits += 1
        return dict(reply)

    def claim(self, key: str, wait_s: float) -> tuple[dict[str, Any] | None, bool]:
        """(the memoized reply, False), or (None, True): the caller runs it and must call
        `finish`. While another thread runs the same key, wait for its reply (up to
        ``wait_s``) instead of running it twice; if that reply is not memoizable, run it."""
        with self._lock:
            reply = self._hit(key)
            if reply is not None:
                return reply, False
            running = self._running.get(key)
            if running is None:
                self._running[key] = threading.Event()
                self.misses += 1
                return None, True
        running.wait(wait_s)
        with self._lock:
            reply = self._hit(key)
        if reply is None:
            self.misses += 1
        return reply, False

    def finish(self, key: str, reply: dict[str, Any] | None) -> None:
        """Record the reply of a claimed key (None: it raised) and wake its waiters."""
        if reply is not None:
            self.put(key, reply)
        with self._lock:
            running = self._running.pop(key, None)
        if running is not None:
            running.set()

    def put(self, key: str, reply: dict[str, Any]) -> None:
        if reply.get("limit") not in _DETERMINISTIC_LIMITS:
            return
        with self._lock:
            self._data[key] = dict(reply)
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


def _error(reply: dict[str, Any]) -> ErrorInfo | None:
    err = reply.get("error")
    return ErrorInfo(**err) if err else None


def _example(
    sb: Sandbox, source: str, entry: str, case: ExampleCase, index: int, kind: str, policy: Policy
) -> TestOutcome:
    name = case.name or f"{kind}[{index}]"
    result = sb.run(source, entry, kwargs=case.input, policy=policy)
    if not result.ok:
        return TestOutcome(
            name,
            kind,
            False,
            error=result.error,
            expected=case.expected,
            elapsed_ms=result.elapsed_ms,
            limit=result.limit,
        )  # type: ignore[arg-type]
    passed = values_equal(result.value, case.expected, approx=case.compare == "auto")
    error = (
        None
        if passed
        else ErrorInfo(
            "WrongAnswer",
            f"expected {case.expected!r:.300}, got {result.value!r:.300}"
            + type_note(result.value, case.expected),
        )
    )
    return TestOutcome(
        name,
        kind,
        passed,
        error=error,
        actual=result.value,  # type: ignore[arg-type]
        expected=case.expected,
        elapsed_ms=result.elapsed_ms,
    )


def _run_property(
    sb: Sandbox, source: str, prop: PropertySpec, policy: Policy, memo: PropertyMemo | None
) -> dict[str, Any]:
    request = {
        "op": "property",
        "source": source,
        "tests": prop.source,
        "name": prop.name,
        "strategies": prop.strategies,
        "examples": list(prop.examples),
        "max_examples": prop.max_examples,
    }
    timeout = policy.limits.test_timeout_s
    if memo is None:
        return sb.call_raw(request, policy=policy, timeout=timeout)
    explicit_run = 0
    if prop.examples:
        first = sb.call_raw(dict(request, phases="explicit"), policy=policy, timeout=timeout)
        if not first["ok"]:
            return first
        explicit_run = int(first.get("examples_run", 0))
    key = memo.key(source, prop, policy, sb.mode == "strict")
    reply, owner = memo.claim(key, timeout + 5)
    if reply is None:
        generated: dict[str, Any] | None = None
        try:
            generated = sb.call_raw(dict(request, examples=[]), policy=policy, timeout=timeout)
        finally:
            if owner:
                memo.finish(key, generated)
        reply = generated
    reply["examples_run"] = explicit_run + int(reply.get("examples_run", 0))
    return reply


def run_suite(
    sb: Sandbox,
    source: str,
    entry: str,
    suite: TestSuite,
    *,
    policy: Policy,
    memo: PropertyMemo | None = None,
) -> TestReport:
    """Run every test of ``suite``; compile errors of the tool are one failed outcome.

    With ``memo``, identical generated-phase property runs are reused (see the module doc)."""
    started = time.perf_counter()
    outcomes: list[TestOutcome] = []
    compiled = sb.compile(source, policy=policy)
    if not compiled.ok:
        outcomes.append(TestOutcome("compile", "compile", False, error=compiled.errors[0]))
        return TestReport(tuple(outcomes), (time.perf_counter() - started) * 1000)
    if entry not in compiled.functions:
        outcomes.append(
            TestOutcome(
                "compile",
                "compile",
                False,
                error=ErrorInfo(
                    "NameError", f"the tool defines no top-level function named '{entry}'"
                ),
            )
        )
        return TestReport(tuple(outcomes), (time.perf_counter() - started) * 1000)

    for i, case in enumerate(suite.examples):
        outcomes.append(_example(sb, source, entry, case, i, "example", policy))

    if suite.unit_tests.strip():
        reply = sb.call_raw(
            {"op": "discover", "source": source, "tests": suite.unit_tests}, policy=policy
        )
        if not reply["ok"]:
            outcomes.append(
                TestOutcome(
                    "unit_tests", "unit", False, error=_error(reply), limit=reply.get("limit")
                )
            )
        elif not reply["value"]:
            outcomes.append(
                TestOutcome(
                    "unit_tests",
                    "unit",
                    False,
                    error=ErrorInfo("NoTests", "the unit test source defines no test_* functions"),
                )
            )
        for name in reply["value"] or []:
            t0 = time.perf_counter()
            r = sb.call_raw(
                {"op": "unit", "source": source, "tests": suite.unit_tests, "name": name},
                policy=policy,
            )
            outcomes.append(
                TestOutcome(
                    name,
                    "unit",
                    bool(r["ok"]),
                    error=_error(r),
                    elapsed_ms=(time.perf_counter() - t0) * 1000,
                    limit=r.get("limit"),
                )
            )

    for prop in suite.properties:
        t0 = time.perf_counter()
        r = _run_property(sb, source, prop, policy, memo)
        outcomes.append(
            TestOutcome(
                prop.name,
                "property",
                bool(r["ok"]),
                error=_error(r),
                minimal_input=r.get("minimal_input"),
                examples_run=int(r.get("examples_run", 0)),
                elapsed_ms=(time.perf_counter() - t0) * 1000,
                limit=r.get("limit"),
            )
        )

    for i, case in enumerate(suite.held_out):
        outcomes.append(_example(sb, source, entry, case, i, "held_out", policy))
    return TestReport(tuple(outcomes), (time.perf_counter() - started) * 1000)
