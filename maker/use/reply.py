"""The user model's reply: one strict JSON decision, its schema, a tolerant parser and checks.

The model answers every problem with exactly one JSON object, one of::

    {"tool": "gcd", "arguments": {"a": 12, "b": 18}}
    {"tool": "program", "program": "def solve():\\n    return gcd(12, 18) * 2\\n"}
    {"tool": "none", "answer": "6"}

(the older ``{"kind": "call" | "program" | "answer", ...}`` form is read too).
`decision_schema(tools)` is the JSON schema of that object for the tools offered (each call's
arguments constrained to its tool's parameters), passed to endpoints that can constrain decoding
to it. `parse_decision` reads the text of any reply (code fences, prose around the object, the
form told by its shape) and returns a `Decision` or a `Problem` whose message tells the model
exactly what to fix. `check_decision` then checks a call's arguments against the tool's JSON schema (jsonschema) and
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
from maker.text.blocks import extract_blocks, first_json_object, json_value, normalize_newlines
from sandbox.parsing import parse_source, parses

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
    repairs: tuple[str, ...] = ()  # what the tolerant reader fixed in the reply (see tidy_program)

    def to_json(self) -> dict[str, Any]:
        extra = {"repairs": list(self.repairs)} if self.repairs else {}
        if self.kind == "call":
            return {"kind": "call", "tool": self.tool, "arguments": dict(self.arguments), **extra}
        if self.kind == "program":
            return {"kind": "program", "program": self.program, **extra}
        return {"kind": "answer", "answer": self.answer, **extra}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Decision:
        return cls(
            data["kind"],
            str(data.get("tool") or ""),
            dict(data.get("arguments") or {}),
            str(data.get("program") or ""),
            data.get("answer"),
            tuple(data.get("repairs") or ()),
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


NO_TOOL, PROGRAM = "none", "program"
"""The ``tool`` values of a direct answer and of a program (a tool of that name wins)."""


def _answer_schema(tool_first: bool) -> dict[str, Any]:
    head = {"tool": {"const": NO_TOOL}} if tool_first else {}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [*head, "answer"],
        "properties": {**head, "answer": {"type": ["string", "number", "boolean"]}},
    }


def decision_schema(
    tools: Mapping[str, Mapping[str, Any]] | Sequence[str] = (), *, answer: bool = True
) -> dict[str, Any]:
    """The JSON schema of a reply when `tools` are offered: a mapping of each tool's name to its
    input schema (each call's arguments are then constrained to its tool's parameters), or only
    names. The tool comes first in every form, ``"none"`` for a direct answer:

        {"tool": NAME, "arguments": {...}} | {"tool": "program", "program": CODE}
        | {"tool": "none", "answer": VALUE}

    Under constrained decoding the model's first choice is then a tool's name rather than
    whether to use one: a real 0.5B model offered a fitting tool answered directly (and wrongly)
    6 of 6 times with ``{"kind": "call" | "answer", ...}`` and called the tool 6 of 6 times with
    this form. A direct answer only, when none is offered; ``answer=False`` leaves the direct
    answer out when tools are offered (exploration: the tool must be tried)."""
    if not tools:
        return {"title": "Decision", **_answer_schema(True)}
    arguments = (
        {n: dict(tools[n]) for n in tools}
        if isinstance(tools, Mapping)
        else {n: {"type": "object"} for n in tools}
    )
    calls = [
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["tool", "arguments"],
            "properties": {"tool": {"const": name}, "arguments": schema},
        }
        for name, schema in arguments.items()
    ]
    program = {
        "type": "object",
        "additionalProperties": False,
        "required": ["tool", "program"],
        "properties": {
            "tool": {"const": PROGRAM},
            "program": {"type": "string", "maxLength": MAX_PROGRAM_CHARS},
        },
    }
    direct = [_answer_schema(True)] if answer else []
    return {"title": "Decision", "anyOf": [*calls, program, *direct]}


_FORMAT_HINT = (
    'Reply with exactly one JSON object: {"tool": NAME, "arguments": {...}}, '
    '{"tool": "program", "program": CODE} or {"tool": "none", "answer": VALUE}.'
)


def parse_decision(text: str) -> Decision | Problem:
    """Read a reply's decision, tolerating fences and prose; `Problem` when there is none."""
    text = normalize_newlines(text or "")
    if not text.strip():
        return Problem("well_formed", "empty", f"Your reply was empty. {_FORMAT_HINT}")
    data = first_json_object(text)
    if data is None:
        return Problem(
            "well_formed",
            "not_json",
            f"Your reply is not a JSON object (no parsable {{...}} found). "
            f"{_FORMAT_HINT} No text outside the object.",
        )
    kind = data.get("kind")
    if kind is None:  # the shape says which: {"tool", "arguments"} is a call, and so on
        tool = data.get("tool")
        kind = (
            "answer"
            if tool == NO_TOOL and "arguments" not in data
            else "program"
            if (tool == PROGRAM or tool is None) and "program" in data
            else "call"
            if "tool" in data
            else "answer"
            if "answer" in data
            else None
        )
    if kind not in KINDS:
        return Problem(
            "well_formed",
            "bad_kind",
            f"Unknown reply form (kind {json.dumps(kind)[:40]}). {_FORMAT_HINT}",
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
            args = json_value(args)
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
        program, repairs = tidy_program(program)
        return Decision("program", program=program, repairs=repairs)
    if "answer" not in data:
        return Problem(
            "well_formed",
            "no_answer",
            'A direct answer needs "answer": {"tool": "none", "answer": ...}.',
        )
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


_CLOSERS = ")]}"
_MAX_DROPPED = 3


def _fenced_code(program: str) -> str | None:
    """The code inside a Markdown fence that wraps the program string, if one does."""
    blocks = [b for b in extract_blocks(program) if not b.is_json]
    return blocks[0].text if len(blocks) == 1 and "```" in program else None


def tidy_program(program: str) -> tuple[str, tuple[str, ...]]:
    r"""A program that does not parse, mended where the damage is mechanical and unambiguous;
    returns the program and a note per repair (none when it parses as sent, or when no repair
    makes it parse: the syntax error then goes back to the model).

    The repairs, tried in order, each kept only if the result parses:
    a Markdown fence around the code inside the JSON string; newlines escaped twice (``\\n``
    in the JSON, so the code is one line with literal backslash-n); up to three unmatched
    closing brackets at the very end (under a JSON grammar small models close the object
    inside the string: ``...return sum(divisors)}``).

    >>> tidy_program("def solve():\n    return 1}")
    ('def solve():\n    return 1', ("dropped 1 unmatched closing bracket(s) '}' at the end",))
    >>> tidy_program("def solve():\n    return {1: 2}")
    ('def solve():\n    return {1: 2}', ())
    """
    if parses(program):
        return program, ()
    original = program
    notes: list[str] = []
    fenced = _fenced_code(program)
    if fenced is not None and fenced.strip():
        program = fenced
        notes.append("took the code out of its Markdown fence")
        if parses(program):
            return program, tuple(notes)
    if "\\n" in program and "\n" not in program:
        unescaped = program.replace("\\n", "\n").replace("\\t", "\t").replace('\\"', '"')
        if parses(unescaped):
            return unescaped, (*notes, "unescaped newlines sent as a literal backslash-n")
    text = program.rstrip()
    dropped = ""
    while text and text[-1] in _CLOSERS and len(dropped) < _MAX_DROPPED:
        dropped = text[-1] + dropped
        text = text[:-1].rstrip()
        if parses(text):
            return text, (
                *notes,
                f"dropped {len(dropped)} unmatched closing bracket(s) {dropped!r} at the end",
            )
    return original, ()


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
