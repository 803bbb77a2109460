"""TabMWP grading: PromptPG's normalization and multiple choice judged by option text."""

from __future__ import annotations

import pytest

from experiments.grading import grade_tabmwp
from experiments.grading.tabmwp import normalize_tabmwp

FREE = [
    ("1,000", "1000", None, True),
    ("$56.40", "56.4", None, True),
    ("56.4", "$56.40", None, True),
    ("0.615", "8/13", None, True),  # fractions evaluated, 3 decimals
    ("0.62", "8/13", None, False),
    ("2/4", "1/2", None, True),
    ("84.0004", "84", None, True),
    ("84.01", "84", None, False),
    ("10%", "10", None, True),
    ("12 stickers", "12", "stickers", True),
    ("The answer is 84.", "84", None, True),
    ("Each box has 7, so the total is 35.", "35", None, True),
    ("7:25 P.M.", "7:25 P.M.", None, True),
    ("-3", "3", None, False),
    ("Bo", "bo", None, True),
    ("Ann", "Bo", None, False),
]


@pytest.mark.parametrize(("pred", "gold", "unit", "ok"), FREE)
def test_free_text(pred, gold, unit, ok):
    graded = grade_tabmwp(pred, gold, unit=unit)
    assert graded.correct is ok, graded


CHOICES = ["Rocky Port", "Bay Harbor", "Foggy Port"]
MC = [
    ("B", "Bay Harbor", True),
    ("(b)", "Bay Harbor", True),
    ("The answer is B", "Bay Harbor", True),
    ("(B) Bay Harbor", "Bay Harbor", True),
    ("bay harbor", "Bay Harbor", True),
    ("Harbor", "Bay Harbor", True),  # closest option by shared words
    ("Rocky Port", "Bay Harbor", False),
    ("Port", "Rocky Port", False),  # ties two options: not a choice
    ("Seaside", "Rocky Port", False),  # shares no word: not PromptPG's first option
    ("D", "Rocky Port", False),  # beyond the options: not a random pick
]


@pytest.mark.parametrize(("pred", "gold", "ok"), MC)
def test_multiple_choice_by_option_text(pred, gold, ok):
    graded = grade_tabmwp(pred, gold, choices=CHOICES)
    assert graded.correct is ok, graded
    if pred in ("Port", "Seaside", "D"):
        assert graded.pred is None and graded.reason


def test_normalization_table():
    assert normalize_tabmwp("$1,234.50") == "1234.5"
    assert normalize_tabmwp("-3/2") == "-1.5"
    assert normalize_tabmwp("3.000") == "3"
    assert normalize_tabmwp("5 cups", "cups") == "5"
    assert normalize_tabmwp("1/0") == "1/0"
