"""One rendering of a failed test for the library's messages (the gate, `maker library add`)."""

from __future__ import annotations

from library.suites import failure_text, mismatch_text
from sandbox import ErrorInfo, TestOutcome


def test_a_wrong_answer_an_error_and_a_minimal_input() -> None:
    wrong = TestOutcome(
        "example[0]", "example", False, ErrorInfo("WrongAnswer", "x"), actual=12, expected=6
    )
    assert failure_text(wrong) == "expected 6, got 12"
    raised = TestOutcome(
        "prop_x",
        "property",
        False,
        ErrorInfo("ZeroDivisionError", "by 0", 3),
        minimal_input={"a": 31, "b": 0},
    )
    assert failure_text(raised) == (
        'ZeroDivisionError: by 0 (line 3) (minimal input {"a":31,"b":0})'
    )
    assert failure_text(TestOutcome("t", "unit", False)) == "failed"
    long = TestOutcome(
        "e", "example", False, ErrorInfo("WrongAnswer", ""), actual="y" * 500, expected=1
    )
    assert len(failure_text(long, width=50)) < 80


def test_a_mismatch_with_a_value_or_an_error() -> None:
    assert mismatch_text([1, 2], (1, 2)) == "expected [1, 2], got (1, 2)"
    assert mismatch_text(2, error=ErrorInfo("ValueError", "no")) == (
        "expected 2, got error ValueError: no"
    )
