"""Running a decision in the sandbox, with every library tool call logged by the code that ran.

A call of one tool runs that tool's stored source with its arguments. A program runs in one
sandbox module holding the sources of the offered tools it names, each rebound to a wrapper
that appends ``name@version`` to a call log before calling the real function, then the
program, then an entry that returns ``{"value": ..., "calls": [...]}``. Tool use is read from
that log (what actually ran), never from what the model said. Tool sources are loaded only when
the program names them, so tools that are not used cannot clash.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from library.records import ToolRecord
from maker.use.reply import Decision, program_tools
from sandbox import ErrorInfo, RunResult, Sandbox
from sandbox.parsing import parse_source

ENTRY = "maker_entry"


@dataclass(frozen=True)
class Execution:
    """What one run did: the sandbox result, the value, and the tools the code really called."""

    result: RunResult
    calls: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.result.ok

    @property
    def value(self) -> Any:
        return self.result.value

    def to_json(self) -> dict[str, Any]:
        data = self.result.to_json()
        data["calls"] = list(self.calls)
        return data


def _wrapper(rec: ToolRecord, index: int) -> str:
    real = f"maker_tool_{index}"
    return (
        f"{real} = {rec.entry}\n"
        f"def {rec.name}(*args, **kwargs):\n"
        f"    maker_call_log.append({rec.ref!r})\n"
        f"    return {real}(*args, **kwargs)\n"
    )


def program_source(program: str, tools: Sequence[ToolRecord]) -> tuple[str, int]:
    """The instrumented module for `program` with `tools` bound by name, and the line of the
    module where the program starts (to report errors at the program's own line numbers)."""
    parts = ["maker_call_log = []\n"]
    for i, rec in enumerate(tools):
        parts.append(rec.source.rstrip() + "\n")
        parts.append(_wrapper(rec, i))
    start = sum(p.count("\n") for p in parts) + len(parts) + 1  # parts are joined by "\n"
    parts.append(program.rstrip() + "\n")
    tree = parse_source(program)
    defines_solve = any(isinstance(n, ast.FunctionDef) and n.name == "solve" for n in tree.body)
    result = "solve()" if defines_solve else "answer"
    parts.append(
        f"def {ENTRY}():\n"
        f"    value = {result}\n"
        f"    return {{'value': value, 'calls': list(maker_call_log)}}\n"
    )
    return "\n".join(parts), start


def execute(
    sandbox: Sandbox,
    decision: Decision,
    offered: Mapping[str, ToolRecord],
    *,
    timeout: float | None = None,
) -> Execution:
    """Run a checked call or program (see the module docstring); never raises for the code's
    own failures (they come back in `Execution.result`)."""
    if decision.kind == "call":
        rec = offered[decision.tool.partition("@")[0]]
        result = sandbox.run(
            rec.source, rec.entry, kwargs=dict(decision.arguments), timeout=timeout
        )
        return Execution(result, (rec.ref,))  # the code that ran is the tool itself
    if decision.kind != "program":
        raise ValueError(f"nothing to run for a {decision.kind!r} decision")
    names = list(offered)
    used = [offered[n] for n in program_tools(parse_source(decision.program), names)]
    source, start = program_source(decision.program, used)
    result = sandbox.run(source, ENTRY, timeout=timeout)
    if not result.ok:
        err = result.error
        if err is not None and err.line is not None:
            n_lines = decision.program.rstrip().count("\n") + 1
            line = err.line - start + 1
            where = line if 1 <= line <= n_lines else None
            message = err.message if where else f"{err.message} (inside a tool)"
            result = RunResult(
                False,
                None,
                ErrorInfo(err.type, message, where),
                result.stdout,
                result.elapsed_ms,
                result.limit,
            )
        return Execution(result)
    value = result.value
    if not (isinstance(value, dict) and set(value) == {"value", "calls"}):
        bad = RunResult(
            False,
            error=ErrorInfo("RunError", "the program run returned no result"),
            stdout=result.stdout,
            elapsed_ms=result.elapsed_ms,
        )
        return Execution(bad)
    calls = tuple(dict.fromkeys(str(c) for c in value["calls"]))
    inner = RunResult(True, value["value"], None, result.stdout, result.elapsed_ms, result.limit)
    return Execution(inner, calls)
