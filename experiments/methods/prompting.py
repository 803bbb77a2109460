"""Direct and chain-of-thought answering: one model call, the answer read from the reply."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from experiments.data import Item
from experiments.grading import last_boxed
from experiments.methods.base import Attempt, SolveContext
from experiments.methods.prompts import cot_messages, direct_messages

_ANSWER_LINE = re.compile(r"\banswer\s*(?:is\s*:?|:)\s*(.+)", re.IGNORECASE)


def final_answer(text: str, dataset: str) -> str | None:
    """The answer in a reply: MATH keeps the whole reply when it has a box (the grader takes
    the last one); otherwise the text after the last ``Answer:`` / ``the answer is``; failing
    that, the last non-empty line. None for an empty reply."""
    text = text.strip()
    if not text:
        return None
    if dataset == "math" and last_boxed(text) is not None:
        return text
    for line in reversed(text.splitlines()):
        found = list(_ANSWER_LINE.finditer(line))
        if found:
            answer = found[-1].group(1).strip().strip("*").strip()
            answer = answer.rstrip(".") if not answer.endswith("..") else answer
            if answer:
                return answer
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return lines[-1] if lines else None


@dataclass
class PromptMethod:
    """Answer with one model call: ``style`` "direct" (answer only) or "cot" (step by step).

    Args:
        name: the arm's label.
        style: "direct" or "cot".
        role: "user" (cheap) or "maker" (strong).
        temperature: sampling temperature; above 0 the method is sampled (one run per seed).
        max_tokens: the reply's token limit (None: the role's default).
    """

    name: str
    style: str = "cot"
    role: str = "user"
    temperature: float = 0.0
    max_tokens: int | None = None
    library_dir: str | None = None

    @property
    def sampled(self) -> bool:
        return self.temperature > 0

    def params(self, seed: int) -> dict[str, Any]:
        params: dict[str, Any] = {"temperature": self.temperature}
        if self.max_tokens is not None:
            params["max_tokens"] = self.max_tokens
        if self.sampled:
            params["seed"] = seed
        return params

    def solve(self, item: Item, ctx: SolveContext) -> Attempt:
        messages = direct_messages(item) if self.style == "direct" else cot_messages(item)
        reply = ctx.meter.ask(
            self.role, messages, phase="answer", sample=ctx.seed, **self.params(ctx.seed)
        )
        pred = final_answer(reply.text, item.dataset)
        return Attempt(
            pred=pred,
            output=reply.text,
            error=None if pred is not None else "no answer in the reply",
        )
