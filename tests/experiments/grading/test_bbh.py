"""BIG-Bench grading: LATM's option mapping, dyck spacing, exact match."""

from __future__ import annotations

import pytest

from experiments.grading import grade_bbh

OPTIONS = [
    "(A) The owl is the leftmost",
    "(B) The hawk is the leftmost",
    "(C) The crow is the leftmost",
]
CASES = [
    ("B", "(B)", OPTIONS, None, True),
    ("(B)", "(B)", OPTIONS, None, True),
    (2, "(B)", OPTIONS, None, True),  # LATM maps 2 to (B)
    ("The hawk is the leftmost", "(B)", OPTIONS, None, True),
    ("(B) The hawk is the leftmost", "(B)", OPTIONS, None, True),
    ("hawk", "(B)", OPTIONS, None, False),  # no substring matching
    ("C", "(B)", OPTIONS, None, False),
    (
        "The hawk is the leftmost",
        "(B)",
        ["The owl is the leftmost", "The hawk is the leftmost"],
        None,
        True,
    ),
    ("] )", "])", None, "dyck_languages", True),
    (") ]", "])", None, "dyck_languages", False),
    ("> ] )", ">])", None, None, True),  # brackets only: a dyck target
    ("apple  pear", "apple pear", None, "word_sorting", True),
    (["apple", "pear"], "apple pear", None, "word_sorting", True),
    ("pear apple", "apple pear", None, "word_sorting", False),
    ("Apple pear", "apple pear", None, "word_sorting", False),
    (14687, "14687", None, "chinese_remainder_theorem", True),
    ("14687.0", "14687", None, "chinese_remainder_theorem", False),
]


@pytest.mark.parametrize(("pred", "gold", "choices", "task", "ok"), CASES)
def test_latm_normalization(pred, gold, choices, task, ok):
    graded = grade_bbh(pred, gold, choices, task)
    assert graded.correct is ok, graded
