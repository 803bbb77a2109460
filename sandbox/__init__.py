"""Run hostile, model-written Python safely and fast.

>>> from sandbox import Sandbox
>>> with Sandbox() as sb:  # doctest: +SKIP
...     r = sb.run("def double(n: int) -> int:\n    return 2 * n\n", entry="double", kwargs={"n": 4})
...     r.ok, r.value
(True, 8)

See docs/sandbox.md for the threat model, what is and is not promised, and the limits.
"""

from sandbox._errors import SandboxError
from sandbox.host import Sandbox, source_hash
from sandbox.policy import ALL_PUBLIC, DEFAULT_POLICY, Limits, Policy
from sandbox.results import (
    CompileResult,
    ErrorInfo,
    ExampleCase,
    PropertySpec,
    RunResult,
    TestOutcome,
    TestReport,
    TestSuite,
)

__all__ = [
    "ALL_PUBLIC",
    "DEFAULT_POLICY",
    "CompileResult",
    "ErrorInfo",
    "ExampleCase",
    "Limits",
    "Policy",
    "PropertySpec",
    "RunResult",
    "Sandbox",
    "SandboxError",
    "TestOutcome",
    "TestReport",
    "TestSuite",
    "source_hash",
]
