"""BIG-Bench (LATM's tasks) grading: exact match after LATM's normalization.

As LATM's tool-user evaluation (ctlllll/LLM-ToolMaker ``tooluser.ipynb``): an answer that
names an option (``A``, ``(A)``, or the number 1 for the first option) becomes its label
``(A)``; an answer that is an option's text becomes that option's label; then the answer
must equal the target exactly. Dyck-language targets are compared with all whitespace
removed (LATM strips the spaces from the inputs and targets of that task); elsewhere runs
of whitespace count as one space (``word_sorting``).

One deliberate difference, stricter than LATM: an answer maps to an option only when it is
the option's whole text, not when it merely occurs inside one (LATM took the first option
containing it, so ``rightmost`` would have chosen option A).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from experiments.grading.result import Grade

LABELS = "ABCDEFGHIJ"
_LABEL = re.compile(r"^\(?([A-J])\)?\.?$")
_OPTION_LINE = re.compile(r"^\(([A-J])\)\s*(.*)$")
_DYCK = re.compile(r"^[\s()\[\]{}<>]+$")


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return str(value).strip()


def option_label(pred: Any, choices: Sequence[str] | None) -> str | None:
    """The ``(X)`` label a prediction names, by letter, 1-based number or option text."""
    if isinstance(pred, int) and not isinstance(pred, bool) and 1 <= pred <= len(LABELS):
        return f"({LABELS[pred - 1]})"
    text = _text(pred)
    m = _LABEL.match(text)
    if m:
        return f"({m.group(1)})"
    for index, choice in enumerate(choices or ()):
        line = _OPTION_LINE.match(choice.strip())
        label, body = (line.group(1), line.group(2)) if line else (LABELS[index], choice)
        if text.lower() in (body.strip().lower(), choice.strip().lower()):
            return f"({label})"
    return None


def grade_bbh(
    pred: Any, gold: str, choices: Sequence[str] | None = None, task: str | None = None
) -> Grade:
    """Grade a BIG-Bench prediction against LATM's target.

    Args:
        pred: the answer (a string; numbers and lists of words are read as LATM's ``str``).
        gold: the target (``(A)`` for multiple choice).
        choices: the options, as ``(A) text`` lines or bare texts, for mapping option text.
        task: the task name; ``dyck_languages`` (or a target of brackets only) ignores spaces.

    >>> grade_bbh("B", "(B)").correct, grade_bbh("] ]", "]]", task="dyck_languages").correct
    (True, True)
    """
    gold_text = gold.strip()
    if _LABEL.match(gold_text) and gold_text.startswith("("):
        label = option_label(pred, choices)
        if label is None:
            return Grade(False, _text(pred), gold_text, "names no option")
        ok = label == gold_text
        return Grade(
            ok, label, gold_text, "same option" if ok else f"option {label}, not {gold_text}"
        )
    text = _text(pred)
    if task == "dyck_languages" or (_DYCK.match(gold_text) and task is None):
        p, g = re.sub(r"\s+", "", text), re.sub(r"\s+", "", gold_text)
        how = "brackets equal, spaces ignored"
    else:
        p, g = " ".join(text.split()), " ".join(gold_text.split())
        how = "exact match"
    ok = p == g
    return Grade(ok, p, g, how if ok else f"{p!r} is not {g!r}")
