"""Prompts of the baseline methods (direct, chain of thought, program of thought), in one place.

Each dataset states its answer format once (`ANSWER_FORMAT`); the methods add how to reason.
"""

from __future__ import annotations

from experiments.data import Item
from maker.llm import Message
from sandbox import DEFAULT_POLICY

ANSWER_FORMAT = {
    "math": "Put the final answer, in simplest exact form, inside \\boxed{}.",
    "tabmwp": "End with a line of the form `Answer: <answer>`.",
    "bbh": "End with a line of the form `Answer: <answer>`; for options give the label, like (A).",
}

DIRECT_SYSTEM = "You answer questions. Give only the final answer, with no explanation."
COT_SYSTEM = "You answer questions. Think step by step, then give the final answer."

POT_SYSTEM = (
    "You solve problems by writing a short Python program. The program defines a function "
    "`solution()` that takes no arguments and returns the final answer as a plain value "
    "(a number, a string or a list)."
)
POT_USER = """Problem:

{question}

{answer_hint} Allowed imports: {modules}.
Reply with one ```python block that defines `solution()`; do not answer without the program."""
"""The code instruction comes last: ending on the answer hint ('For options return the label,
like "(A)"'), the real 0.5B replied "(A)" with no program to 15 of 30 BIG-Bench items."""

POT_HINT = {
    "math": 'Return an exact answer: an integer, or a LaTeX string such as "\\\\frac{1}{3}" '
    'or "2\\\\sqrt{3}" when the answer is not an integer (sympy\'s latex() helps).',
    "tabmwp": "Return the number or the option text exactly as the answer should read.",
    "bbh": 'For options return the label, like "(A)"; otherwise the exact answer text.',
}


def question_text(item: Item) -> str:
    """The item's question, with its options listed when it has any and they are not shown."""
    text = item.question
    if item.choices and "Options:" not in text:
        text += "\nOptions: " + "; ".join(item.choices)
    return text


def direct_messages(item: Item) -> list[Message]:
    return [
        {"role": "system", "content": DIRECT_SYSTEM},
        {"role": "user", "content": f"{question_text(item)}\n\n{ANSWER_FORMAT[item.dataset]}"},
    ]


def cot_messages(item: Item) -> list[Message]:
    return [
        {"role": "system", "content": COT_SYSTEM},
        {
            "role": "user",
            "content": f"{question_text(item)}\n\nLet's think step by step. "
            f"{ANSWER_FORMAT[item.dataset]}",
        },
    ]


def pot_messages(item: Item) -> list[Message]:
    modules = ", ".join(sorted(m for m in DEFAULT_POLICY.modules if "." not in m))
    user = POT_USER.format(
        question=question_text(item), modules=modules, answer_hint=POT_HINT[item.dataset]
    )
    return [{"role": "system", "content": POT_SYSTEM}, {"role": "user", "content": user}]
