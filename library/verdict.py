"""`Verdict` and `Failure`: the outcome of validating a tool, as frozen JSON values.

One record for both sides of the seam: the maker's validation (`maker.check.validation`) returns
it, the library's `maker library add` (`library.authoring`) builds it from a sandbox test report,
and the library stores it with every tool version. ``Verdict.to_json()`` has the keys ``passed``,
``recoverable``, ``failures`` (a list of `Failure` objects), ``timings`` (milliseconds by phase),
``counts`` (checks run by kind), ``notes`` and ``wrong_tests`` (the model's own tests that the
known examples overruled; see `maker.check.wrongtests`).

>>> v = verdict_from([Failure("example", "example 0", "expected 6, got 12")], ran=True)
>>> v.passed, v.recoverable, Verdict.from_json(v.to_json()) == v
(False, True, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from sandbox import TestOutcome

FailureKind = Literal[
    "static",  # the draft's source failed the static checks (never ran)
    "compile",  # the sandbox refused to compile it
    "example",  # a worked example the maker saw
    "held_out",  # an example the maker never saw
    "unit",  # the maker's own unit test
    "property",  # a Hypothesis property the maker proposed
    "robustness",  # the automatic property: no crash, a JSON-plain value, on hinted inputs
    "constant_output",  # the same output for clearly different inputs
    "hardcoded_constant",  # the source problem's answer or constants written into the code
    "example_branch",  # a branch or lookup table keyed on specific example inputs
]


@dataclass(frozen=True)
class Failure:
    """One failed check. ``minimal_input`` is the (Hypothesis-shrunk, for properties) input that
    fails; ``terminal`` marks failures repair cannot fix (policy violations)."""

    kind: FailureKind
    name: str
    message: str
    minimal_input: dict[str, Any] | None = None
    expected: Any = None
    actual: Any = None
    line: int | None = None
    error_type: str | None = None
    limit: str | None = None
    terminal: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Failure:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)

    @classmethod
    def from_outcome(cls, outcome: TestOutcome) -> Failure:
        """The failure a failed sandbox test reports (its kind, name, error and inputs)."""
        error = outcome.error
        return cls(
            kind=outcome.kind,
            name=outcome.name,
            message=str(error) if error else "failed",
            minimal_input=outcome.minimal_input,
            expected=outcome.expected,
            actual=outcome.actual,
            line=error.line if error else None,
            error_type=error.type if error else None,
            limit=outcome.limit,
        )


@dataclass(frozen=True)
class Verdict:
    """Whether a draft passed validation, and if not, whether repair may help and why.

    ``counts`` says how many checks of each kind ran; ``timings`` are milliseconds by phase;
    ``notes`` say what was skipped and why.
    """

    passed: bool
    recoverable: bool = False
    failures: tuple[Failure, ...] = ()
    timings: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    wrong_tests: tuple[Failure, ...] = ()  # model tests overruled by the known examples

    @property
    def terminal(self) -> bool:
        return not self.passed and not self.recoverable

    def by_kind(self, kind: str) -> tuple[Failure, ...]:
        return tuple(f for f in self.failures if f.kind == kind)

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "recoverable": self.recoverable,
            "failures": [f.to_json() for f in self.failures],
            "timings": dict(self.timings),
            "counts": dict(self.counts),
            "notes": list(self.notes),
            "wrong_tests": [f.to_json() for f in self.wrong_tests],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Verdict:
        return cls(
            passed=bool(data["passed"]),
            recoverable=bool(data.get("recoverable", False)),
            failures=tuple(Failure.from_json(f) for f in data.get("failures", ())),
            timings={str(k): float(v) for k, v in dict(data.get("timings", {})).items()},
            counts={str(k): int(v) for k, v in dict(data.get("counts", {})).items()},
            notes=tuple(data.get("notes", ())),
            wrong_tests=tuple(Failure.from_json(f) for f in data.get("wrong_tests", ())),
        )


def verdict_from(
    failures: list[Failure] | tuple[Failure, ...],
    *,
    ran: bool,
    timings: dict[str, float] | None = None,
    counts: dict[str, int] | None = None,
    notes: tuple[str, ...] = (),
    wrong_tests: tuple[Failure, ...] = (),
) -> Verdict:
    """A verdict from its failures: passed when something ran and nothing failed; recoverable
    when it failed without a terminal failure."""
    failures = tuple(failures)
    passed = ran and not failures
    return Verdict(
        passed=passed,
        recoverable=not passed and not any(f.terminal for f in failures),
        failures=failures,
        timings=dict(timings or {}),
        counts=dict(counts or {}),
        notes=notes,
        wrong_tests=tuple(wrong_tests),
    )
