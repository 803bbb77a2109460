"""Prompts of the baseline methods (direct, chain of thought, program of thought), in one place.

Each dataset states its answer format once (`ANSWER_FORMAT`); the methods add how to reason.
"""

from __future__ import annotations

from experiments.data import Item, parse_options
from maker.llm import Message
from sandbox import DEFAULT_POLICY

ANSWER_FORMAT = {
    "math": "Put the final answer, in simplest exact form, inside \\boxed{}.",
    "tabmwp": "End with a line of the form `Answer: <answer>`.",
    "bbh": "End with a line of the form `Answer: <answer>`; for options give the label, like (A).",
}
FREE_ANSWER_FORMAT = {"bbh": "End with a line of the form `Answer: <answer>`."}
"""A BIG-Bench question without options is not told about option labels: told 'For options
return the label, like "(A)"', the real 0.5B returned "(A)" for 25 of 30 word-sorting items."""

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
FREE_POT_HINT = {"bbh": "Return the exact answer text."}


def has_options(item: Item) -> bool:
    """Whether the item is multiple choice: options given, or listed in its question."""
    return bool(item.choices or parse_options(item.question))


def _for_item(item: Item, hints: dict[str, str], free: dict[str, str]) -> str:
    """The dataset's hint, or its free-answer one for an item without options."""
    return (not has_options(item) and free.get(item.dataset)) or hints[item.dataset]


def answer_format(item: Item) -> str:
    """How a direct or chain-of-thought reply ends, for this item (`FREE_ANSWER_FORMAT`)."""
    return _for_item(item, ANSWER_FORMAT, FREE_ANSWER_FORMAT)


def pot_hint(item: Item) -> str:
    """What a program returns, for this item (`FREE_POT_HINT`)."""
    return _for_item(item, POT_HINT, FREE_POT_HINT)


def question_text(item: Item) -> str:
    """The item's question, with its options listed when it has any and they are not shown."""
    text = item.question
    if item.choices and "Options:" not in text:
        text += "\nOptions: " + "; ".join(item.choices)
    return text


def direct_messages(item: Item) -> list[Message]:
    return [
        {"role": "system", "content": DIRECT_SYSTEM},
        {"role": "user", "content": f"{question_text(item)}\n\n{answer_format(item)}"},
    ]


def cot_messages(item: Item) -> list[Message]:
    return [
        {"role": "system", "content": COT_SYSTEM},
        {
            "role": "user",
            "content": f"{question_text(item)}\n\nLet's think step by step. {answer_format(item)}",
        },
    ]


def pot_messages(item: Item) -> list[Message]:
    modules = ", ".join(sorted(m for m in DEFAULT_POLICY.modules if "." not in m))
    user = POT_USER.format(
        question=question_text(item), modules=modules, answer_hint=pot_hint(item)
    )
    return [{"role": "system", "content": POT_SYSTEM}, {"role": "user", "content": user}]
