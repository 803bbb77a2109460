"""What the explorer, the judge and the program-of-thought writer see (the words are here and in
``maker/prompts/explore_*.md``). Nothing here calls a model or runs code.

Tool output reaches a model only as a sandbox observation (quoted data, never instructions).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from library.records import ToolRecord
from maker.prompts import render
from maker.text.clip import clip
from maker.use.prompt import signature
from sandbox import RunResult

MAX_SHOWN_QUERY = 300


def tool_text(rec: ToolRecord) -> str:
    """The tool's signature and its whole docstring (the description a user would read)."""
    doc = (rec.spec.description or rec.spec.summary or "(no description)").strip()
    lines = [signature(rec)] + ["    " + line for line in doc.splitlines()]
    return "\n".join(lines)


def call_text(name: str, arguments: Mapping[str, Any]) -> str:
    """``gcd(a=12, b=18)``, the values as JSON."""
    args = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in arguments.items())
    return f"{name}({args})"


def examples_text(rec: ToolRecord, limit: int = 3) -> str:
    """Up to `limit` worked examples of the tool (arguments and the expected output), and the
    problems it was made for."""
    lines: list[str] = []
    for case in list(rec.tests.examples)[:limit]:
        args = case.get("input")
        if isinstance(args, dict):
            expected = json.dumps(case.get("expected"), ensure_ascii=False)
            lines.append(f"- {call_text(rec.name, args)} returns {clip(expected, 200)}")
    problems = list(rec.problems[:2])
    parts = []
    if lines:
        parts.append("Worked examples of the tool:\n" + "\n".join(lines))
    if problems:
        parts.append(
            "Problems it was made for:\n"
            + "\n".join(f"- {clip(p, MAX_SHOWN_QUERY)}" for p in problems)
        )
    return "\n\n".join(parts)


def explored_text(queries: Sequence[str], limit: int = 12) -> str:
    """The problems already written for this tool (the newest `limit`), which a new one must
    differ from."""
    if not queries:
        return "No problems have been written for this tool yet."
    shown = list(queries)[-limit:]
    body = "\n".join(f"- {clip(q, MAX_SHOWN_QUERY)}" for q in shown)
    return (
        "Problems already written for this tool (yours must be different: another situation, "
        f"other wording and other values):\n{body}"
    )


def imagine_messages(
    rec: ToolRecord, explored: Sequence[str], *, examples: int = 3, shown: int = 12
) -> list[dict[str, str]]:
    """The chat asking the explorer for one new problem (template ``explore_imagine``)."""
    return render(
        "explore_imagine",
        tool=tool_text(rec),
        examples=examples_text(rec, examples),
        explored=explored_text(explored, shown),
    )


def judge_messages(
    rec: ToolRecord, problem: str, call: str, result: RunResult
) -> list[dict[str, str]]:
    """The chat asking the judge whether the tool's real output answers the problem."""
    return render(
        "explore_judge", problem=problem, tool=tool_text(rec), call=call, observation=result
    )


def pot_messages(rec: ToolRecord, problem: str) -> list[dict[str, str]]:
    """The chat asking for an independent program (without the tool) that answers the problem;
    it only learns the type of the answer the tool returns."""
    answer_type = rec.spec.returns_annotation or "a plain value"
    return render("explore_pot", problem=problem, answer_type=answer_type)


def rejected(reason: str, fix: str) -> dict[str, str]:
    """The user turn after a reply that could not be used."""
    return {"role": "user", "content": f"That reply could not be used: {reason}. {fix}"}


# No copyable placeholder values in what a small model is asked to reply: shown
# {"query": "THE PROBLEM"} or {"query": "..."}, the real 0.5B replied exactly that.
IMAGINE_FIX = (
    'Reply again with one JSON object whose "query" is a new, realistic problem for this tool, '
    "about another situation and with other values than the problems listed, every value it "
    "needs stated in it."
)
JUDGE_FIX = (
    'Reply again with one JSON object with "verdict" ("yes" or "no"), "reason" (one sentence) '
    'and "answer" (the right answer to the problem).'
)
POT_FIX = "Reply again with one ```python block that defines `solve()`, or with NO_PROGRAM."


def trial_feedback(kind: str, name: str, observation: str = "", reason: str = "") -> str:
    """What the explorer is told after a trial that did not verify, before its next trial:
    the real result or error, and (when the judge refuted it) the judge's reason."""
    again = "Reply with one corrected JSON object."
    if kind == "run_failed":
        return (
            f"Your call failed:\n{observation}\nCheck the arguments against the signature and "
            f"the problem. {again}"
        )
    if kind == "refuted":
        why = f": {clip(reason, 300)}" if reason else "."
        return (
            f"Your call ran and returned:\n{observation}\nA reviewer judged that this does not "
            f"answer the problem{why} Try again. {again}"
        )
    if kind == "disagreed":
        return (
            f"Your call ran and returned:\n{observation}\nAn independent computation of the "
            "answer disagrees with this output. Check that the arguments carry exactly the "
            f"values of the problem. {again}"
        )
    if kind == "no_tool":
        return (
            f"This problem is meant to be answered with the tool {name}: reply with a call of "
            f'it, {{"tool": "{name}", "arguments": {{...}}}}, or a program '
            "that calls it."
        )
    return f"{reason} {again}".strip()
