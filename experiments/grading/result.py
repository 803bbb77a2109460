"""The record every grader returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Grade:
    """One verdict: correct or not, the normalized answers compared, and why.

    ``pred`` is None when no answer could be extracted from the prediction.
    """

    correct: bool
    pred: str | None
    gold: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "correct": self.correct,
            "pred": self.pred,
            "gold": self.gold,
            "reason": self.reason,
        }
