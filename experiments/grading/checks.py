"""Answer checks the engine's tool making uses on benchmark tasks (``maker.answer_checks``).

A maker task names one in ``metadata["answer_check"]`` (the experiments' MATH and TabMWP items
do); `maker.use.answer.is_correct` calls it, through its entry point, when plain value and text
comparison say no. So a CRAFT solution or a LATM tool returning ``5.5`` answers a MATH gold
``\\frac{11}{2}``, and ``(-1, 6)`` answers ``(-1,6)``, under the same strict grader the
experiments score with.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from experiments.grading.extract import answer_text
from experiments.grading.math import grade_math
from experiments.grading.tabmwp import grade_tabmwp


def value_text(value: Any) -> str:
    """A tool's value as an answer text, as MATH writes it (`answer_text`): numbers as written
    (no ``.0``), tuples and lists as ``(a, b)``, text as is."""
    return answer_text(value, "math") or str(value)


def math_answer(answer: Any, gold: Any, metadata: Mapping[str, Any]) -> bool:
    """MATH's strict grader on a tool's value (``metadata`` is unused)."""
    return grade_math(value_text(answer), str(gold)).correct


def tabmwp_answer(answer: Any, gold: Any, metadata: Mapping[str, Any]) -> bool:
    """TabMWP's grader on a tool's value, with the item's options and unit."""
    choices = metadata.get("choices")
    unit = metadata.get("unit")
    return grade_tabmwp(
        value_text(answer),
        str(gold),
        choices=[str(c) for c in choices] if choices else None,
        unit=str(unit) if unit else None,
    ).correct
