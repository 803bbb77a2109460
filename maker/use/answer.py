"""From a value to the task's answer, and grading it against the gold answer.

Answer formats (``task.metadata["answer_format"]``, else guessed from the task): ``choice``
(multiple choice with ``(A) ...`` option lines, as LATM's BIG-Bench tasks: a tool's output is
mapped to its option label), and ``value`` (the value itself). A task whose
``metadata["choices"]`` lists its options as bare texts (TabMWP's multiple-choice questions)
is answered with the option text a value names. On either kind of multiple choice, a value that
names no option answers nothing (`unnamed_options`; the solver then asks again). Grading is the
sandbox's value comparison (`values_equal`: numbers within a tolerance, lists and tuples
alike), then a normalized text comparison (case, spacing, a trailing period, ``"12"`` vs
``12``, a list of words vs the words joined by spaces). A task may name a further check in
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
from maker.text.grounding import in_text
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


def choice_texts(metadata: Mapping[str, Any] | None) -> list[str]:
    """A task's options as bare texts (``metadata["choices"]``, at least two strings), or []."""
    raw = (metadata or {}).get("choices")
    if isinstance(raw, list) and len(raw) >= 2 and all(isinstance(c, str) for c in raw):
        return list(raw)
    return []


def named_choice(value: Any, choices: list[str]) -> str | None:
    """The option of `choices` (bare texts) that `value` names: equal after `normalize`, or the
    one option holding it (or held by it) as whole words; None when it names none or several.
    "surplus of 200" names "surplus"; 13000 names neither "shortage" nor "surplus"."""
    text = normalize(value)
    exact = [c for c in choices if normalize(c) == text]
    if exact or not text:
        return exact[0] if exact else None
    inside = [c for c in choices if in_text(text, normalize(c)) or in_text(normalize(c), text)]
    return inside[0] if len(inside) == 1 else None


def _task_options(
    text: str, metadata: Mapping[str, Any] | None
) -> tuple[dict[str, str], list[str], list[str]]:
    """A task's labelled options (label -> text; empty for bare ones), its options as shown to
    a model, and as answers. Labelled options are the ``(A) ...`` lines of a multiple-choice
    task (`answer_format`), bare ones ``metadata["choices"]``; a task declared ``"value"`` has
    none."""
    if str((metadata or {}).get("answer_format") or "") == "value":
        return {}, [], []
    opts = options(text)
    if opts and answer_format(text, metadata) == "choice":
        return opts, [f"({k}) {t}" for k, t in opts.items()], [f"({k})" for k in opts]
    bare = choice_texts(metadata)
    return {}, bare, bare


def _named_option(
    value: Any, text: str, metadata: Mapping[str, Any] | None
) -> tuple[str | None, list[str], list[str]]:
    """The option `value` names (a label such as ``"(B)"``, or a bare option's text; None when
    it names none), and the task's options as shown and as answers (`_task_options`)."""
    opts, shown, golds = _task_options(text, metadata)
    if opts:
        return to_choice(value, opts), shown, golds
    return (named_choice(value, shown) if shown else None), shown, golds


def final_answer(value: Any, text: str, metadata: Mapping[str, Any] | None = None) -> Any:
    """The answer in the task's format: an option label for multiple choice, the option text
    for bare-text options (``metadata["choices"]``), else the value; the value unchanged when
    it names no option."""
    named, _, _ = _named_option(value, text, metadata)
    return named if named is not None else value


def unnamed_options(value: Any, text: str, metadata: Mapping[str, Any] | None = None) -> list[str]:
    """The options of a multiple-choice task when `value` names none of them, else [] (also
    when the task has no options, or when the task's answer check takes the value for one of
    them). A tool whose output is none of the options did not answer this question: asked
    "At a price of $155, is there a shortage or a surplus?", the real 0.5B called a
    table-statistics tool, whose median 13000 answers neither."""
    named, shown, golds = _named_option(value, text, metadata)
    # the task's own check may read an option in the value (TabMWP's grader: "2:35 PM")
    if not shown or named is not None or any(is_correct(value, g, metadata) for g in golds):
        return []
    return shown


def _schema_types(schema: Mapping[str, Any]) -> set[str]:
    """The JSON types a return schema allows (its ``type``, or its ``anyOf`` branches'); empty
    when it does not say (anything goes)."""
    kind = schema.get("type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list) and all(isinstance(k, str) for k in kind):
        return set(kind)
    branches = schema.get("anyOf")
    if isinstance(branches, list) and all(isinstance(b, Mapping) for b in branches):
        found = [_schema_types(b) for b in branches]
        return set().union(*found) if all(found) else set()
    return set()


def can_name_an_option(
    returns: Mapping[str, Any], text: str, metadata: Mapping[str, Any] | None = None
) -> bool:
    """Whether a tool whose return value has the JSON schema `returns` could answer a task with
    options: False only when it returns numbers (or booleans) and no option holds a digit (or
    reads true / false), so that its output could never name one (`unnamed_options`). True
    for a task without options. On TabMWP the real 0.5B, offered price and statistics tools for
    "Is there a shortage or a surplus?", spent two or three replies finding that out.

    >>> can_name_an_option({"type": "number"}, "Q", {"choices": ["shortage", "surplus"]})
    False
    >>> can_name_an_option({"type": "number"}, "Q", {"choices": ["12", "15"]})
    True
    """
    _, shown, _ = _task_options(text, metadata)
    types = _schema_types(returns)
    if not shown or not types or not types <= {"integer", "number", "boolean", "null"}:
        return True
    texts = [normalize(o) for o in shown]
    numeric = {"integer", "number"} & types and any(ch.isdigit() for t in texts for ch in t)
    boolean = "boolean" in types and any(t in ("true", "false") for t in texts)
    return bool(numeric or boolean)


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
