"""The regression gate: a new version replaces the latest only if it keeps what the latest did.

`regression_gate(sandbox, store)` returns a gate for `Store.publish(..., gate=...)`. The
candidate must

1. keep the signature callers rely on (every old parameter, same types; new parameters optional;
   same return type),
2. pass the previous version's tests (examples, unit tests, properties, held-out cases), and
3. give the recorded answer on the recorded successful uses of the tool (episodes with
   `success=True` that called `name@N` with arguments), replayed through the sandbox; at most
   `max_uses` distinct calls, the most recent first.

A failed gate is a value (`GateDecision(False, reason)`); the store keeps the old version and
stores the candidate with status `rejected` and the reason, which names the failing test or
call with the expected and actual values.
"""

from __future__ import annotations

from dataclasses import dataclass

import sandbox
from library.records import JSON, Episode, ToolRecord, ToolSpec, dumps
from library.store.base import Gate, GateDecision, Store
from library.suites import (
    SuiteError,
    failure_text,
    is_empty,
    mismatch_text,
    to_sandbox_suite,
)
from sandbox.values import values_equal

MAX_USES = 200  # distinct recorded calls replayed per gate, most recent first


def _params(spec: ToolSpec) -> str:
    return ", ".join(f"{p.name}: {p.annotation}" for p in spec.params)


def signature_problem(previous: ToolSpec, candidate: ToolSpec) -> str | None:
    """Why `candidate` cannot stand in for `previous` at existing call sites, or None."""
    old = {p.name: p for p in previous.params}
    new = {p.name: p for p in candidate.params}
    what = f"({_params(previous)}) -> ({_params(candidate)})"
    for name, p in old.items():
        if name not in new:
            return f"signature changed {what}: parameter {name!r} was removed"
        if new[name].schema != p.schema:
            return (
                f"signature changed {what}: parameter {name!r} changed type "
                f"{p.annotation} -> {new[name].annotation}"
            )
    for name, p in new.items():
        if name not in old and p.required:
            return f"signature changed {what}: new parameter {name!r} is required"
    if previous.returns != candidate.returns:
        return (
            f"signature changed: return type {previous.returns_annotation} -> "
            f"{candidate.returns_annotation}"
        )
    return None


def _with_alias(candidate: ToolRecord, previous: ToolRecord) -> str:
    """The candidate's source, with the previous entry name bound too (for its unit tests)."""
    if candidate.entry == previous.entry:
        return candidate.source
    return f"{candidate.source.rstrip()}\n\n{previous.entry} = {candidate.entry}\n"


def _describe(o: sandbox.TestOutcome) -> str:
    return f"{o.kind} test {o.name!r}: {failure_text(o)}"


def check_tests(sb: sandbox.Sandbox, previous: ToolRecord, candidate: ToolRecord) -> GateDecision:
    """Run the previous version's tests against the candidate."""
    suite = to_sandbox_suite(previous.tests)
    if isinstance(suite, SuiteError):
        return GateDecision(False, f"{previous.ref} tests cannot run: {suite.message}")
    if is_empty(suite):
        return GateDecision(True, f"{previous.ref} has no tests")
    report = sb.run_tests(_with_alias(candidate, previous), candidate.entry, suite)
    if report.passed:
        return GateDecision(True, f"passed {len(report.outcomes)} tests of {previous.ref}")
    failures = report.failures
    return GateDecision(
        False,
        f"{len(failures)} of {len(report.outcomes)} tests of {previous.ref} failed; "
        f"first: {_describe(failures[0])}",
    )


@dataclass(frozen=True)
class RecordedUse:
    """One distinct successful call of a tool and the value it returned."""

    tool: str  # name@N that was called
    arguments: dict[str, JSON]
    value: JSON
    episode_id: int | None


def recorded_uses(store: Store, name: str, *, limit: int = MAX_USES) -> list[RecordedUse]:
    """Distinct successful calls of any version of `name` with a recorded value, newest first."""
    seen: dict[str, RecordedUse] = {}
    episodes: list[Episode] = store.episodes(tool=name, success=True)
    for ep in reversed(episodes):
        if len(seen) >= limit:
            break
        res = ep.result
        if not ep.call.tool or not isinstance(res, dict) or res.get("ok") is not True:
            continue
        if "value" not in res:
            continue
        key = dumps(ep.call.arguments)
        if key not in seen:
            seen[key] = RecordedUse(ep.call.tool, dict(ep.call.arguments), res["value"], ep.id)
    return list(seen.values())


def _call_text(use: RecordedUse) -> str:
    args = ", ".join(f"{k}={v!r:.60}" for k, v in use.arguments.items())
    where = f" (episode {use.episode_id})" if use.episode_id is not None else ""
    return f"{use.tool}({args}){where}"


def check_uses(sb: sandbox.Sandbox, candidate: ToolRecord, uses: list[RecordedUse]) -> GateDecision:
    """Replay recorded successful calls through the candidate; every answer must match."""
    if not uses:
        return GateDecision(True, "no recorded uses")
    bad: list[str] = []
    for use in uses:
        r = sb.run(candidate.source, candidate.entry, kwargs=use.arguments)
        if not r.ok:
            bad.append(f"{_call_text(use)}: {mismatch_text(use.value, error=r.error)}")
        elif not values_equal(r.value, use.value):
            bad.append(f"{_call_text(use)}: {mismatch_text(use.value, r.value)}")
    if bad:
        return GateDecision(
            False, f"{len(bad)} of {len(uses)} recorded uses changed; first: replayed {bad[0]}"
        )
    return GateDecision(True, f"replayed {len(uses)} recorded uses")


def regression_gate(sb: sandbox.Sandbox, store: Store, *, max_uses: int = MAX_USES) -> Gate:
    """A gate for `publish`: signature, then the previous tests, then the recorded uses.

    >>> result = store.publish(new, gate=regression_gate(sb, store))  # doctest: +SKIP
    >>> result.outcome, result.reason  # doctest: +SKIP
    ('rejected', "gate failed against gcd@1: 1 of 3 tests of gcd@1 failed; first: ...")
    """

    def gate(previous: ToolRecord, candidate: ToolRecord) -> GateDecision:
        problem = signature_problem(previous.spec, candidate.spec)
        if problem is not None:
            return GateDecision(False, problem)
        tests = check_tests(sb, previous, candidate)
        if not tests.passed:
            return tests
        uses = check_uses(sb, candidate, recorded_uses(store, previous.name, limit=max_uses))
        if not uses.passed:
            return uses
        return GateDecision(True, f"{tests.reason}; {uses.reason}")

    return gate
