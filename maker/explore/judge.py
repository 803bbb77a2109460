"""The judge of a trial, independent of the explorer: the strong model's verdict on the tool's
real output, and an independent program-of-thought answer computed in the sandbox.

`judge_output` asks the strong model whether the output answers the problem and what the answer
should be (``{"verdict": "yes"|"no", "reason": ..., "answer": ...}``, read tolerantly; a reply
without a verdict is turned down and asked again, a bounded number of times).
`program_of_thought` asks it for a ``solve()`` that computes the answer *without* the tool and
runs it only in the sandbox; `agrees` compares that answer with the tool's output. A trial is
verified when the program agrees, or, when no program answer could be had, the judge says yes;
a judge's "no" that the agreeing program contradicts is overruled (see `maker.explore.trial`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any, Literal

from library.records import ToolRecord
from maker.explore.imagine import json_object
from maker.explore.prompts import (
    JUDGE_FIX,
    POT_FIX,
    judge_messages,
    pot_messages,
    rejected,
)
from maker.llm import ChatClient
from maker.text.blocks import extract_blocks, normalize_newlines
from maker.use.answer import answer_text, is_correct
from sandbox import RunResult, Sandbox
from sandbox.parsing import parse_source

JUDGE_SCHEMA: dict[str, Any] = {
    "title": "Verdict",
    "type": "object",
    "additionalProperties": False,
    "required": ["verdict", "reason", "answer"],
    "properties": {
        "verdict": {"enum": ["yes", "no"]},
        "reason": {"type": "string"},
        "answer": {"type": "string"},
    },
}
POT_ENTRY = "solve"
NO_PROGRAM = "NO_PROGRAM"
MAX_PROGRAM_CHARS = 8_000
_YES = {"yes", "true", "correct", "y"}
_NO = {"no", "false", "incorrect", "wrong", "n"}


@dataclass(frozen=True)
class Judgement:
    """The judge's verdict on one trial: ``verdict`` None when no usable reply came."""

    verdict: bool | None
    reason: str = ""
    answer: str | None = None
    rejections: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "reason": self.reason,
            "answer": self.answer,
            "rejections": list(self.rejections),
        }


def parse_judgement(text: str) -> Judgement | str:
    """The verdict in a judge's reply, or the reason it cannot be used."""
    data = json_object(text)
    if data is None:
        return "it is not a JSON object (no parsable {...} found)"
    raw = next((data[k] for k in ("verdict", "answers", "correct") if k in data), None)
    if isinstance(raw, bool):
        verdict = raw
    elif isinstance(raw, str) and raw.strip().casefold().rstrip(".") in _YES | _NO:
        verdict = raw.strip().casefold().rstrip(".") in _YES
    else:
        return f'"verdict" must be "yes" or "no", got {str(raw)[:40]!r}'
    reason = data.get("reason")
    answer = data.get("answer")
    return Judgement(
        verdict,
        " ".join(str(reason).split())[:500] if reason is not None else "",
        None if answer is None or answer == "" else answer_text(answer)[:500],
    )


def judge_output(
    client: ChatClient,
    rec: ToolRecord,
    problem: str,
    call: str,
    result: RunResult,
    *,
    attempts: int = 2,
    retry_temperature: float = 0.7,
) -> Judgement:
    """Ask the strong model whether `result` (the real output of `call`) answers `problem`."""
    messages = judge_messages(rec, problem, call, result)
    reasons: list[str] = []
    for sample in range(max(1, attempts)):
        response = client.complete(
            messages,
            phase="explore_judge",
            sample=sample,
            schema=JUDGE_SCHEMA,
            **client.config.sampling.for_sample(sample, retry_temperature),
        )
        parsed = parse_judgement(response.text)
        if isinstance(parsed, Judgement):
            return Judgement(parsed.verdict, parsed.reason, parsed.answer, tuple(reasons))
        reasons.append(parsed)
        messages = [
            *messages,
            {"role": "assistant", "content": response.text},
            rejected(parsed, JUDGE_FIX),
        ]
    return Judgement(None, "no usable verdict", None, tuple(reasons))


PotStatus = Literal["ok", "none", "failed"]


@dataclass(frozen=True)
class PotAnswer:
    """An independent program's answer: ``ok`` (it ran; `value`), ``none`` (the model said no
    program can compute it) or ``failed`` (no usable program, or it kept failing)."""

    status: PotStatus
    value: Any = None
    program: str = ""
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "value": self.value,
            "program": self.program[:MAX_PROGRAM_CHARS],
            "reason": self.reason,
        }


def parse_program(text: str) -> str | tuple[str]:
    """The program in a reply: the first Python block (or the whole reply) that parses and
    defines ``solve()`` without required parameters; ``(NO_PROGRAM,)`` when the model says no
    program can do it; else ``(reason,)``. Only parsed, never run here."""
    text = normalize_newlines(text or "")
    blocks = [b.text for b in extract_blocks(text) if b.is_python]
    if not blocks and NO_PROGRAM in text:
        return (NO_PROGRAM,)
    last = "there is no ```python block"
    for source in blocks or [text]:
        if len(source) > MAX_PROGRAM_CHARS:
            last = f"the program is longer than {MAX_PROGRAM_CHARS} characters"
            continue
        try:
            tree = parse_source(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as exc:
            last = f"the program does not parse ({type(exc).__name__}: {exc})"
            continue
        fn = next(
            (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == POT_ENTRY),
            None,
        )
        if fn is None:
            last = "the program defines no `solve()`"
            continue
        if len(fn.args.args) > len(fn.args.defaults) or fn.args.kwonlyargs:
            last = "`solve()` must take no arguments"
            continue
        return source
    return (last,)


def program_of_thought(
    client: ChatClient,
    sandbox: Sandbox,
    rec: ToolRecord,
    problem: str,
    *,
    attempts: int = 2,
    timeout: float | None = None,
    retry_temperature: float = 0.7,
) -> PotAnswer:
    """Ask the strong model for a program that answers `problem` without the tool and run it
    in the sandbox (only there); a reply that cannot be used or a program that fails is shown
    back once more while `attempts` last."""
    messages = pot_messages(rec, problem)
    reason = ""
    program = ""
    for sample in range(max(1, attempts)):
        response = client.complete(
            messages,
            phase="explore_pot",
            sample=sample,
            **client.config.sampling.for_sample(sample, retry_temperature),
        )
        parsed = parse_program(response.text)
        if isinstance(parsed, tuple):
            if parsed[0] == NO_PROGRAM:
                return PotAnswer("none", reason="the model says no program computes it")
            reason = parsed[0]
            fix = rejected(reason, POT_FIX)
        else:
            program = parsed
            run = sandbox.run(program, POT_ENTRY, timeout=timeout)
            if run.ok:
                return PotAnswer("ok", run.value, program)
            reason = f"the program failed: {run.error}"
            fix = {
                "role": "user",
                "content": f"The program failed:\n{run.as_observation()}\n{POT_FIX}",
            }
        messages = [*messages, {"role": "assistant", "content": response.text}, fix]
    return PotAnswer("failed", program=program, reason=reason)


def agrees(output: Any, pot: Any) -> bool:
    """Whether the tool's output and the independent answer are the same answer (the value
    comparison of the sandbox, then normalized text: case, spacing, ``"12"`` vs ``12``)."""
    return is_correct(output, pot)
