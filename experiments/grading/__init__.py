"""Graders for MATH (strict, plus math-verify), TabMWP and LATM's BIG-Bench tasks.

Every grader is a pure function returning a `Grade` (correct, normalized pred and gold,
reason). Model output is never evaluated as code: MATH answers are parsed by a grammar in a
worker process with a time limit (`SymbolicChecker`).
"""

from __future__ import annotations

from experiments.grading.bbh import grade_bbh
from experiments.grading.extract import last_boxed, strip_boxed
from experiments.grading.math import MathGrades, extract_answer, grade_math, grade_math_both
from experiments.grading.records import DATASETS, RecordError, Tally, grade_record
from experiments.grading.result import Grade
from experiments.grading.symbolic import SymbolicChecker, Verdict, default_checker
from experiments.grading.tabmwp import grade_tabmwp

__all__ = [
    "DATASETS",
    "Grade",
    "MathGrades",
    "RecordError",
    "SymbolicChecker",
    "Tally",
    "Verdict",
    "default_checker",
    "extract_answer",
    "grade_bbh",
    "grade_math",
    "grade_math_both",
    "grade_record",
    "grade_tabmwp",
    "last_boxed",
    "strip_boxed",
]
