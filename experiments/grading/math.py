"""The strict MATH grader: last ``\\boxed{}``, PRM800K-style normalization, symbolic equality.

The rules follow openai/prm800k's ``grade_answer``:

1. equal after the Hendrycks normalization, or after PRM800K's normalization: correct;
2. otherwise split tuples/intervals; brackets must match and elements pair up in order;
3. per element: two fractions must be the same fraction (unreduced ``2/4`` is not ``1/2``);
   an integer must be matched by an integer; everything else is compared symbolically
   (``simplify(a - b) == 0``) in a worker process with a time limit, never by ``eval``.

A comparison that times out or cannot be parsed is graded incorrect, with the reason.
math-verify's verdict is computed alongside as a secondary metric (`grade_math_both`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from experiments.grading.extract import last_boxed, strip_boxed
from experiments.grading.math_normalize import (
    frac_parts,
    normalize_mathd,
    normalize_prm,
    should_compare_symbolically,
    split_tuple,
    str_is_int,
)
from experiments.grading.result import Grade
from experiments.grading.symbolic import SymbolicChecker, default_checker


def extract_answer(pred: str) -> str | None:
    """The answer in a model's output: its last ``\\boxed{}``; a text without any box is taken
    as the answer itself (a bare answer), but a text whose last box is unclosed has none."""
    if last_boxed(pred) is None and ("\\boxed" in pred or "\\fbox" in pred):
        return None
    answer = strip_boxed(pred)
    return answer or None


def _elements_equal(
    gold: str, pred: str, checker: SymbolicChecker, timeout_s: float | None
) -> tuple[bool, str]:
    g_frac, p_frac = frac_parts(gold), frac_parts(pred)
    if g_frac is not None and p_frac is not None:
        return g_frac == p_frac, (
            "same fraction"
            if g_frac == p_frac
            else f"fraction {pred} is not {gold} (no simplifying)"
        )
    if str_is_int(gold) != str_is_int(pred):
        return (
            False,
            f"{'integer' if str_is_int(gold) else 'non-integer'} gold {gold!r} "
            f"needs an exact match, got {pred!r}",
        )
    if "," in gold or "," in pred:
        return False, f"{pred!r} differs from {gold!r} (lists compare as text)"
    if "_" in gold or "_" in pred:
        # the symbolic reader drops a subscript: 204_6 came out equal to 204_5
        return (
            False,
            f"{pred!r} differs from {gold!r} (subscripts, such as a base, compare as text)",
        )
    if not should_compare_symbolically(f"({gold})-({pred})"):
        return (
            False,
            f"{pred!r} differs from {gold!r} (too many unknowns or huge powers "
            "for a symbolic check)",
        )
    verdict = checker.equal(gold, pred, timeout_s)
    if verdict.ok is None:
        return False, f"symbolic check failed: {verdict.detail}"
    return verdict.ok, (
        "symbolically equal"
        if verdict.ok
        else f"{pred!r} is not equal to {gold!r} (symbolic check)"
    )


def grade_math(
    pred: str, gold: str, *, checker: SymbolicChecker | None = None, timeout_s: float | None = None
) -> Grade:
    """Grade a MATH prediction strictly.

    Args:
        pred: the model's output (its last ``\\boxed{}`` is the answer) or a bare answer.
        gold: the gold answer (a boxed gold is unboxed too).
        checker: the symbolic worker (default: the process-wide one).
        timeout_s: time limit of the symbolic comparison (default: the checker's).

    >>> grade_math(r"... so the answer is $\\boxed{\\dfrac12}$.", "0.5").correct
    True
    """
    gold_answer = strip_boxed(gold)
    answer = extract_answer(pred)
    gold_norm = normalize_prm(gold_answer)
    if answer is None:
        return Grade(False, None, gold_norm, "no answer: the last \\boxed{} is not closed")
    if normalize_mathd(answer) == normalize_mathd(gold_answer):
        return Grade(True, normalize_prm(answer), gold_norm, "equal after MATH normalization")
    pred_norm = normalize_prm(answer)
    if pred_norm == gold_norm:
        return Grade(True, pred_norm, gold_norm, "equal after PRM800K normalization")
    if not pred_norm:
        return Grade(False, pred_norm, gold_norm, "empty answer")
    gold_elems, pred_elems = split_tuple(gold_norm), split_tuple(pred_norm)
    if len(gold_elems) > 1 and (gold_norm[0] != pred_norm[0] or gold_norm[-1] != pred_norm[-1]):
        return Grade(False, pred_norm, gold_norm, "brackets differ (tuple or interval)")
    if len(gold_elems) != len(pred_elems):
        return Grade(
            False, pred_norm, gold_norm, f"{len(pred_elems)} elements, gold has {len(gold_elems)}"
        )
    checker = checker or default_checker()
    reason = ""
    for g, p in zip(gold_elems, pred_elems, strict=True):
        ok, reason = _elements_equal(g, p, checker, timeout_s)
        if not ok:
            return Grade(False, pred_norm, gold_norm, reason)
    return Grade(True, pred_norm, gold_norm, reason)


@dataclass(frozen=True)
class MathGrades:
    """The strict verdict and math-verify's (None when math-verify could not decide)."""

    strict: Grade
    math_verify: bool | None
    math_verify_reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            **self.strict.to_json(),
            "math_verify": self.math_verify,
            "math_verify_reason": self.math_verify_reason,
        }


def grade_math_both(
    pred: str, gold: str, *, checker: SymbolicChecker | None = None, timeout_s: float | None = None
) -> MathGrades:
    """The strict grade and math-verify's verdict (secondary metric), both in the worker."""
    checker = checker or default_checker()
    strict = grade_math(pred, gold, checker=checker, timeout_s=timeout_s)
    verdict = checker.math_verify(gold, pred, timeout_s)
    return MathGrades(strict, verdict.ok, verdict.detail)
