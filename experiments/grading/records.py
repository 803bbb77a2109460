"""Grading JSON records (one line of a predictions file) with the dataset's grader."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from experiments.errors import ExperimentError
from experiments.grading.bbh import grade_bbh
from experiments.grading.math import grade_math_both
from experiments.grading.symbolic import SymbolicChecker
from experiments.grading.tabmwp import grade_tabmwp

DATASETS = ("math", "tabmwp", "bbh")


class RecordError(ExperimentError, ValueError):
    """A record that cannot be graded (missing or ill-typed field); says which and why."""


def _scalar(obj: Mapping[str, Any], key: str, *, required: bool) -> str | None:
    if key not in obj:
        if required:
            raise RecordError(f"missing field {key!r}")
        return None
    value = obj[key]
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise RecordError(f"{key} must be a string or a number, got {type(value).__name__}")
    return str(value)


def _choices(obj: Mapping[str, Any]) -> list[str] | None:
    value = obj.get("choices")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(c, str | int | float) for c in value):
        raise RecordError("choices must be a list of strings")
    return [str(c) for c in value]


@dataclass
class Tally:
    """Running counts for the summary line."""

    dataset: str
    count: int = 0
    correct: int = 0
    malformed: int = 0
    math_verify_correct: int = 0
    math_verify_undecided: int = 0
    disagreements: list[int] = field(default_factory=list)

    def add(self, line: int, graded: Mapping[str, Any]) -> None:
        self.count += 1
        self.correct += bool(graded["correct"])
        if self.dataset == "math":
            mv = graded["math_verify"]
            self.math_verify_correct += mv is True
            self.math_verify_undecided += mv is None
            if mv is not None and mv != graded["correct"]:
                self.disagreements.append(line)

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "summary": True,
            "dataset": self.dataset,
            "count": self.count,
            "correct": self.correct,
            "accuracy": round(self.correct / self.count, 4) if self.count else None,
            "malformed": self.malformed,
        }
        if self.dataset == "math":
            out.update(
                {
                    "math_verify_correct": self.math_verify_correct,
                    "math_verify_accuracy": (
                        round(self.math_verify_correct / self.count, 4) if self.count else None
                    ),
                    "math_verify_undecided": self.math_verify_undecided,
                    "disagreements": len(self.disagreements),
                    "disagreement_lines": self.disagreements[:50],
                }
            )
        return out


def grade_record(
    dataset: str,
    obj: Any,
    *,
    checker: SymbolicChecker | None = None,
    timeout_s: float | None = None,
) -> dict[str, Any]:
    """Grade one record ``{"gold": ..., "pred": ..., "choices"?: [...]}`` of ``dataset``.

    TabMWP records may carry ``unit``, BIG-Bench records ``task``. Raises `RecordError` for a
    record that cannot be graded; a ``null`` pred is graded (incorrect: no prediction).
    """
    if dataset not in DATASETS:
        raise RecordError(f"unknown dataset {dataset!r} (known: {', '.join(DATASETS)})")
    if not isinstance(obj, dict):
        raise RecordError(f"expected a JSON object, got {type(obj).__name__}")
    gold = _scalar(obj, "gold", required=True)
    if gold is None:
        raise RecordError("gold must not be null")
    if "pred" not in obj:
        raise RecordError("missing field 'pred'")
    choices = _choices(obj)
    raw_pred = obj["pred"]
    out: dict[str, Any] = {"id": obj["id"]} if "id" in obj else {}
    if dataset == "bbh":
        if isinstance(raw_pred, dict):
            raise RecordError("pred must be a string, number or list")
        task = _scalar(obj, "task", required=False)
        if raw_pred is None:
            return {**out, "correct": False, "pred": None, "gold": gold, "reason": "no prediction"}
        return {**out, **grade_bbh(raw_pred, gold, choices, task).to_json()}
    pred = _scalar(obj, "pred", required=True)
    if dataset == "tabmwp":
        unit = _scalar(obj, "unit", required=False)
        if pred is None:
            return {**out, "correct": False, "pred": None, "gold": gold, "reason": "no prediction"}
        return {**out, **grade_tabmwp(pred, gold, choices, unit).to_json()}
    if pred is None:
        return {
            **out,
            "correct": False,
            "pred": None,
            "gold": gold,
            "reason": "no prediction",
            "math_verify": False,
            "math_verify_reason": "no prediction",
        }
    return {**out, **grade_math_both(pred, gold, checker=checker, timeout_s=timeout_s).to_json()}
