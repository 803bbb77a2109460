"""From a value to the task's answer, and grading it against the gold answer.

Answer formats (``task.metadata["answer_format"]``, else guessed from the task): ``choice``
(multiple choice with ``(A) ...`` option lines, as LATM's BIG-Bench tasks: a tool's output is
mapped to its option label), and ``value`` (the value itself). Grading is the sandbox's value
comparison (`values_equal`: numbers within a tolerance, lists and tuples alike), then a
normalized text comparison (case, spacing, a trailing period, ``"12"`` vs ``12``, a list of words
vs the words joined by spaces). A task may name a further check in
``metadata["answer_check"]``: an installed entry point of the group ``maker.answer_checks``, a
function ``(answer, gold, metadata) -> bool`` tried when the two above say no. The engine never imports it
by name; ``experiments`` registers ``math`` (MATH's strict grader, so a tool returning ``0.5``
answers a gold ``\\frac{1}{2}``) and ``tabmwp``, and a user registers their own the same way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from maker.tasks import Task
from maker.tasks.checks import CHECK_KEY, UnknownCheckError, answer_check
from sandbox.values import values_equal

_OPTION = re.compile(r"^\s*\(([A-Z])\)\s*(.+?)\s*$", re.MULTILINE)
_LABEL = re.compile(r"^(?:\(([A-Za-z])\)|([A-Z]))$")  # "(b)", "(B)" or "B"
_WS = re.compile(r"\s+")


def options(text: str) -> dict[str, str]:
    """The ``(A) text`` option lines of a problem, label -> text (empty when none)."""
    return {m[1]: m[2] for m in _OPTION.finditer(text)}


def answer_format(text: str, metadata: Mapping[str, Any] | None = None) -> str:
    """``choice`` or ``value`` (see the module docstring)."""
    fmt = str((metadata or {}).get("answer_format") or "")
    if fmt in ("choice", "value"):
        return fmt
    return "choice" if len(options(text)) >= 2 else "value"


def normalize(value: Any) -> str:
    """A comparable text of a value: lower-case, single spaces, no trailing period."""
    if isinstance(value, bool):
        text = str(value)
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        text = " ".join(value)
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = _WS.sub(" ", text.strip().casefold()).rstrip(".").strip()
    try:
        number = float(text.replace(",", ""))
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else repr(number)


def to_choice(value: Any, opts: Mapping[str, str]) -> str | None:
    """The option label `value` names: a label itself, an option's text, or the one option
    whose text contains it (or that it contains); None when it names none or several."""
    text = normalize(value)
    label = _LABEL.match(value.strip()) if isinstance(value, str) else None
    letter = (label[1] or label[2]).upper() if label else ""
    if letter in opts:
        return f"({letter})"
    by_text = {normalize(t): k for k, t in opts.items()}
    if text in by_text:
        return f"({by_text[text]})"
    if not text:
        return None
    inside = [k for k, t in opts.items() if text in normalize(t) or normalize(t) in text]
    return f"({inside[0]})" if len(inside) == 1 else None


def final_answer(value: Any, text: str, metadata: Mapping[str, Any] | None = None) -> Any:
    """The answer in the task's format: an option label for multiple choice (the value
    unchanged when it names no option), else the value."""
    if answer_format(text, metadata) == "choice":
        label = to_choice(value, options(text))
        return label if label is not None else value
    return value


def answer_text(value: Any) -> str:
    """How an answer is stored in an episode."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def is_correct(answer: Any, gold: Any, metadata: Mapping[str, Any] | None = None) -> bool:
    """Whether `answer` matches the gold answer (see the module docstring): equal values, equal
    normalized text, or the task's own check (``metadata["answer_check"]``) says so."""
    if values_equal(answer, gold) or normalize(answer) == normalize(gold):
        return True
    name = (metadata or {}).get(CHECK_KEY)
    if not name:
        return False
    try:
        return bool(answer_check(str(name))(answer, gold, metadata or {}))
    except UnknownCheckError:
        raise
    except Exception:  # a check that fails on odd input: not shown to be correct
        return False


def answers_right(value: Any, task: Task) -> bool:
    """Whether a tool's value answers `task` under its answer checking:
    options mapped to their labels, normalized text and numbers, the task's own check."""
    return is_correct(final_answer(value, task.text, task.metadata), task.answer, task.metadata)
