"""The user model's reply: one strict JSON decision, its schema, a tolerant parser and checks.

The model answers every problem with exactly one JSON object, one of::

    {"kind": "call", "tool": "gcd", "arguments": {"a": 12, "b": 18}}
    {"kind": "program", "program": "def solve():\\n    return gcd(12, 18) * 2\\n"}
    {"kind": "answer", "answer": "6"}

`decision_schema(tools)` is the JSON schema of that object for the tools offered (their names as
an enum), passed to endpoints that can constrain decoding to it. `parse_decision` reads the text
of any reply (code fences, prose around the object, a missing ``kind`` when the shape says it)
and returns a `Decision` or a `Problem` whose message tells the model exactly what to fix.
`check_decision` then checks a call's arguments against the tool's JSON schema (jsonschema) and
a program's syntax and names. Nothing here runs model code: programs are only parsed.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from library.calls import argument_problems
from library.records import ToolRecord
from maker.text.blocks import extract_blocks, normalize_newlines
from sandbox.parsing import parse_source

Kind = Literal["call", "program", "answer"]
KINDS: tuple[str, ...] = ("call", "program", "answer")
RESERVED_PREFIX = "maker_"
"""Names the instrumented program run uses; a program may not mention them."""
MAX_PROGRAM_CHARS = 4_000


@dataclass(frozen=True)
class Decision:
    """What the model chose: a tool call, a program, or a direct answer."""

    kind: Kind
    tool: str = ""
    arguments: dict[str, Any] = field(default_factory=dict)
    program: str = ""
    answer: Any = None

    def to_json(self) -> dict[str, Any]:
        if self.kind == "call":
            return {"kind": "call", "tool": self.tool, "arguments": dict(self.arguments)}
        if self.kind == "program":
            return {"kind": "program", "program": self.program}
        return {"kind": "answer", "answer": self.answer}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Decision:
        return cls(
            data["kind"],
            str(data.get("tool") or ""),
            dict(data.get("arguments") or {}),
            str(data.get("program") or ""),
            data.get("answer"),
        )


@dataclass(frozen=True)
class Problem:
    """Why a reply cannot be used: a stage (``well_formed``, ``tool_chosen``, ``args_valid``,
    ``executed``), a short code and the corrective message for the model."""

    stage: str
    code: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"stage": self.stage, "code": self.code, "message": self.message}


def decision_schema(tools: Sequence[str] = ()) -> dict[str, Any]:
    """The JSON schema of a reply when `tools` are offered (a direct answer only when none)."""
    answer = {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "answer"],
        "properties": {
            "kind": {"const": "answer"},
            "answer": {"type": ["string", "number", "boolean"]},
        },
    }
    if not tools:
        return {"title": "Decision", **answer}
    call = {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "tool", "arguments"],
        "properties": {
            "kind": {"const": "call"},
            "tool": {"enum": list(tools)},
            "arguments": {"type": "object"},
        },
    }
    program = {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "program"],
        "properties": {
            "kind": {"const": "program"},
            "program": {"type": "string", "maxLength": MAX_PROGRAM_CHARS},
        },
    }
    return {"title": "Decision", "anyOf": [call, program, answer]}


_FORMAT_HINT = (
    'Reply with exactly one JSON object: {"kind": "call", "tool": NAME, '
    '"arguments": {...}}, {"kind": "program", "program": CODE} or '
    '{"kind": "answer", "answer": VALUE}.'
)


def _json_candidates(text: str) -> list[str]:
    """Texts that may hold the reply's JSON object: fenced blocks first, then every balanced
    ``{...}`` span of the whole reply (prose around it is ignored)."""
    out = [b.text for b in extract_blocks(text) if b.is_json or b.lang in ("", "json")]
    out.append(text.strip())
    depth, start, in_str, esc = 0, -1, False, False
    for i, ch in enumerate(text):
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch == "{":
            if depth == 0:
                start = i
            depth += 1
        elif ch == "}" and depth:
            depth -= 1
            if depth == 0:
                out.append(text[start : i + 1])
    return out


def _loads(candidate: str) -> Any:
    try:
        return json.loads(candidate)
    except ValueError:
        return None


def parse_decision(text: str) -> Decision | Problem:
    """Read a reply's decision, tolerating fences and prose; `Problem` when there is none."""
    text = normalize_newlines(text or "")
    if not text.strip():
        return Problem("well_formed", "empty", f"Your reply was empty. {_FORMAT_HINT}")
    data = None
    for candidate in _json_candidates(text):
        value = _loads(candidate)
        if isinstance(value, dict):
            data = value
            break
    if data is None:
        return Problem(
            "well_formed",
            "not_json",
            f"Your reply is not a JSON object (no parsable {{...}} found). "
            f"{_FORMAT_HINT} No text outside the object.",
        )
    kind = data.get("kind")
    if kind is None:  # the shape says which: {"tool", "arguments"} is a call, and so on
        kind = (
            "call"
            if "tool" in data
            else "program"
            if "program" in data
            else "answer"
            if "answer" in data
            else None
        )
    if kind not in KINDS:
        return Problem(
            "well_formed",
            "bad_kind",
            f'"kind" must be one of "call", "program", "answer"; got '
            f"{json.dumps(kind)[:40]}. {_FORMAT_HINT}",
        )
    if kind == "call":
        tool, args = data.get("tool"), data.get("arguments", {})
        if not isinstance(tool, str) or not tool:
            return Problem(
                "well_formed",
                "no_tool",
                'A call needs "tool": the name of one of the tools listed.',
            )
        if isinstance(args, str):  # some models send the arguments as a JSON string
            args = _loads(args)
        if not isinstance(args, dict):
            return Problem(
                "well_formed",
                "args_not_object",
                '"arguments" must be a JSON object of keyword arguments, e.g. '
                '{"a": 12, "b": 18}, not a list or a string.',
            )
        return Decision("call", tool=tool, arguments=args)
    if kind == "program":
        program = data.get("program")
        if not isinstance(program, str) or not program.strip():
            return Problem(
                "well_formed",
                "no_program",
                'A program needs "program": Python source as one JSON string.',
            )
        return Decision("program", program=program)
    if "answer" not in data:
        return Problem("well_formed", "no_answer", 'A direct answer needs "answer".')
    return Decision("answer", answer=data["answer"])


def check_call(decision: Decision, offered: Mapping[str, ToolRecord]) -> Problem | None:
    """The tool exists among those offered and the arguments fit its input schema."""
    rec = offered.get(decision.tool.partition("@")[0])
    if rec is None:
        names = ", ".join(offered) or "(none)"
        return Problem(
            "tool_chosen",
            "unknown_tool",
            f"There is no tool named {decision.tool!r}. The tools are: {names}. "
            "Call one of them by its exact name, or answer directly.",
        )
    problems = argument_problems(rec.spec, decision.arguments)  # library.calls
    if not problems:
        return None
    params = ", ".join(f"{p.name}: {p.annotation or 'Any'}" for p in rec.spec.params)
    return Problem(
        "args_valid",
        "bad_arguments",
        f"The arguments do not fit {rec.name}({params}): {'; '.join(problems)}. "
        "Pass keyword arguments by name with values of those types.",
    )


def program_tools(tree: ast.AST, names: Sequence[str]) -> list[str]:
    """The offered tool names a parsed program refers to (in `names` order)."""
    used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return [n for n in names if n in used]


def check_program(program: str, names: Sequence[str]) -> Problem | None:
    """The program parses, is short, defines ``solve()`` or assigns ``answer`` at top level,
    and does not touch the run's reserved names."""
    if len(program) > MAX_PROGRAM_CHARS:
        return Problem(
            "well_formed",
            "program_too_long",
            f"The program is {len(program)} characters; keep it under "
            f"{MAX_PROGRAM_CHARS}: call the tools, do not rewrite them.",
        )
    try:
        tree = parse_source(program)
    except SyntaxError as exc:
        return Problem(
            "well_formed",
            "syntax_error",
            f"The program does not parse: {exc.msg} at line {exc.lineno}. Send valid "
            "Python in the JSON string (newlines as \\n).",
        )
    reserved = sorted(
        {
            n.id
            for n in ast.walk(tree)
            if isinstance(n, ast.Name) and n.id.startswith(RESERVED_PREFIX)
        }
    )
    if reserved:
        return Problem(
            "well_formed",
            "reserved_name",
            f"Names starting with {RESERVED_PREFIX!r} are reserved: {reserved[0]}.",
        )
    defines_solve = any(isinstance(n, ast.FunctionDef) and n.name == "solve" for n in tree.body)
    assigns = any(
        isinstance(t, ast.Name) and t.id == "answer"
        for n in tree.body
        if isinstance(n, ast.Assign)
        for t in n.targets
    )
    if not (defines_solve or assigns):
        return Problem(
            "well_formed",
            "no_result",
            "The program must define `def solve():` that returns the answer (or "
            "assign the answer to a top-level variable `answer`).",
        )
    shadowed = [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name in names]
    if shadowed:
        return Problem(
            "tool_chosen",
            "shadows_tool",
            f"The program redefines the tool {shadowed[0]!r}; call the tool instead.",
        )
    return None
