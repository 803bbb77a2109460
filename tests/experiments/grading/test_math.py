"""The strict MATH grader and math-verify on tricky pairs, extraction, and time limits."""

from __future__ import annotations

import builtins
import re
import threading
import time

import pytest

from experiments.grading import SymbolicChecker, extract_answer, grade_math_both, last_boxed
from experiments.grading.checks import math_answer, value_text

# (prediction, gold, strict verdict, math-verify verdict)
PAIRS = [
    (r"\frac12", "0.5", True, True),
    ("1/2", r"\frac{1}{2}", True, True),
    ("0.5", "1/2", True, True),
    (r"\dfrac{\sqrt3}{2}", r"\frac{\sqrt{3}}{2}", True, True),
    (r"\frac{\sqrt{3}}{2}", "0.866", False, False),
    ("0.25", r"\tfrac14", True, True),
    (r"10\%", "10", True, True),  # MATH convention: 10% is 10
    ("0.1", r"10\%", False, True),  # ... not 0.1 (math-verify reads 10% as 0.1)
    ("1,000", "1000", True, True),
    (r"1,\!000", "1000", True, True),
    ("1,001", "1000", False, False),
    ("x=5", "5", True, True),
    (r"30^\circ", "30", True, True),
    (r"30^{\circ}", "30", True, True),
    (r"5\text{ cm}", "5", True, True),
    (r"5 \text{cm}^2", "5", True, True),
    ("5.0", "5", True, True),
    (r"\frac{10}{2}", "5", False, True),  # an integer gold needs an integer
    (r"\frac{2}{4}", r"\frac{1}{2}", False, True),  # unreduced fractions are wrong
    ("(1,2)", "(2,1)", False, False),  # tuple order matters
    ("(1,2]", "(1,2)", False, False),  # interval brackets matter
    (r"\left( 3, \frac{\pi}{2} \right)", r"(3,\frac{\pi}{2})", True, True),
    (r"\{1,2\}", r"\{2,1\}", False, True),  # PRM800K compares sets as text
    ("(x+1)^2", "x^2+2x+1", True, True),
    ("y=2x+3", "2x+3=y", True, True),
    (r"2\sqrt{3}", r"\sqrt{12}", True, True),
    (r"\text{Evelyn}", "Evelyn", True, True),
    (r"\text{(C)}", r"\text{(B)}", False, False),
    (r"3\frac12", r"\frac72", True, True),
    ("-5", "5", False, False),
    # numbers in a base (MATH-500 golds 4210_{5}, 52_8): Python's float reads "52_8" as 528
    ("4210_5", "4210_{5}", True, True),
    ("52_{8}", "52_8", True, True),
    ("528", "52_8", False, False),
    ("204_6", "204_5", False, True),  # the symbolic reader dropped the subscript: equal
    ("2516", "2516_8", False, True),  # the digits without their base: as written, no
]


@pytest.mark.parametrize(("pred", "gold", "strict", "mv"), PAIRS)
def test_tricky_pairs(checker, pred, gold, strict, mv):
    graded = grade_math_both(pred, gold, checker=checker)
    assert graded.strict.correct is strict, graded.strict.reason
    assert graded.math_verify is mv, graded.math_verify_reason
    assert graded.strict.reason


def test_the_last_box_is_the_answer():
    text = r"First \boxed{1}, then $\fbox{2}$ and at last \boxed{\frac{a}{b^{2}}}."
    assert last_boxed(text) == r"\frac{a}{b^{2}}"
    assert last_boxed(r"so \boxed 7$.") == "7"
    assert last_boxed(r"\boxed{1} and a cut-off \boxed{\frac{1}") is None
    assert extract_answer(r"\boxed{1} and a cut-off \boxed{\frac{1}") is None
    assert extract_answer("  42 ") == "42"


def test_a_full_solution_is_graded_by_its_last_box(checker):
    solution = r"Thus $x = 3$ and so $2x = \boxed{6}$. Check: \boxed{6} again."
    assert grade_math_both(solution, "6", checker=checker).strict.correct
    wrong = r"We try \boxed{6} first but the answer is \boxed{7}."
    assert not grade_math_both(wrong, "6", checker=checker).strict.correct


def test_an_unclosed_box_is_no_answer(checker):
    graded = grade_math_both(r"the answer is \boxed{6", "6", checker=checker)
    assert not graded.strict.correct and graded.strict.pred is None
    assert "not closed" in graded.strict.reason


def test_a_slow_comparison_is_incorrect_with_a_reason_and_the_worker_recovers():
    with SymbolicChecker(timeout_s=0.001) as slow:
        graded = grade_math_both(r"\frac{x^2-1}{x-1}", "x+1", checker=slow)
        assert not graded.strict.correct
        assert "timed out after 0.001 s" in graded.strict.reason
        assert slow.restarts >= 1
        slow.timeout_s = 10
        assert grade_math_both(r"\frac{x^2-1}{x-1}", "x+1", checker=slow).strict.correct


def test_a_huge_power_never_hangs():
    with SymbolicChecker(timeout_s=1) as quick:
        started = time.monotonic()
        graded = grade_math_both(r"2^{10^{20}}", r"\frac{1}{3}", checker=quick)
        assert time.monotonic() - started < 8
    assert not graded.strict.correct and graded.math_verify is None
    assert "timed out" in graded.math_verify_reason or "died" in graded.math_verify_reason


def test_grading_works_off_the_main_thread(checker):
    results: list[object] = []
    thread = threading.Thread(
        target=lambda: results.append(grade_math_both(r"\boxed{\frac12}", "0.5", checker=checker))
    )
    thread.start()
    thread.join(60)
    assert results and results[0].strict.correct and results[0].math_verify is True


ATTACKS = [
    "__import__('os').system('touch /tmp/pwned')",
    r"\text{__import__('os')}",
    "lambda: 1",
    r"\boxed{exec('1')}",
    "Integer(1)",
]


def test_model_output_is_never_evaluated(monkeypatch, tmp_path):
    """The worker's parsing reaches eval only for numeric literals and sympy's own names."""
    from experiments.grading import symbolic

    symbolic._op_equal("1", "2", 5)  # imports done before spying
    symbolic._op_math_verify("1", "2", 5)
    seen: list[str] = []
    real_eval = builtins.eval

    def spy(source, *args, **kwargs):
        seen.append(source if isinstance(source, str) else repr(source))
        return real_eval(source, *args, **kwargs)

    monkeypatch.setattr(builtins, "eval", spy)
    for attack in ATTACKS:
        for op in (symbolic._op_equal, symbolic._op_math_verify):
            try:
                op(attack, "x + 1", 5)
                op("x + 1", attack, 5)
            except Exception:  # a parse error is fine; an eval is not
                pass
    allowed = re.compile(r"(Integer \(\d+ \)|Float \('[\d.]+' \)|Symbol \('[A-Za-z]+' \)|E )")
    assert all(allowed.fullmatch(src) for src in seen), [
        s for s in seen if not allowed.fullmatch(s)
    ]


def test_attacks_are_just_wrong_answers(checker, tmp_path):
    for attack in ATTACKS:
        graded = grade_math_both(attack, "1", checker=checker)
        assert not graded.strict.correct and graded.math_verify is not True


def test_the_math_answer_check_grades_a_tools_value() -> None:
    # registered as the "math" answer check: tool making verifies values against LaTeX golds
    assert value_text(5.5) == "5.5" and value_text(6.0) == "6" and value_text((-1, 6)) == "(-1, 6)"
    assert math_answer(5.5, r"\frac{11}{2}", {}) and math_answer((-1, 6), "(-1,6)", {})
    assert math_answer(r"\frac{3}{2}", r"\dfrac32", {}) and math_answer("3/2", r"\frac{3}{2}", {})
    assert not math_answer(1.5000001, r"\frac{3}{2}", {}) and not math_answer([6, -1], "(-1,6)", {})
