"""Answer extraction from model output: the last ``\\boxed{}`` (or ``\\fbox{}``) of a text."""

from __future__ import annotations

import re
from typing import Any

_BOX = re.compile(r"\\(?:boxed|fbox)(?![A-Za-z])")


def last_boxed(text: str) -> str | None:
    """The content of the last ``\\boxed{...}``/``\\fbox{...}``/``\\boxed 5`` in ``text``.

    Braces nest (``\\boxed{\\frac{1}{2}}`` gives ``\\frac{1}{2}``); ``\\boxed 5`` (no braces)
    gives the token up to the next space or ``$``. None when there is no box or the last one
    is not closed (a truncated answer does not fall back to an earlier box).

    >>> last_boxed(r"first \\boxed{1}, then $x = \\boxed{\\frac{1}{2}}$.")
    '\\\\frac{1}{2}'
    >>> last_boxed(r"\\boxed{1}, then a cut-off \\boxed{\\frac{1}") is None
    True
    """
    matches = list(_BOX.finditer(text))
    if not matches:
        return None
    return _box_content(text, matches[-1].end())  # an unclosed last box is no answer


def _box_content(text: str, start: int) -> str | None:
    i = start
    while i < len(text) and text[i] == " ":
        i += 1
    if i >= len(text):
        return None
    if text[i] == "{":
        depth = 0
        for j in range(i, len(text)):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    return text[i + 1 : j].strip()
        return None
    if i == start:  # "\boxedx" is not a box
        return None
    token = re.match(r"[^\s$]+", text[i:])
    return token.group(0).rstrip(".,") if token else None


def strip_boxed(text: str) -> str:
    """``text``'s last boxed content if it has one, else ``text`` itself (stripped)."""
    boxed = last_boxed(text)
    return boxed if boxed is not None else text.strip()


def answer_text(value: Any, dataset: str = "") -> str | None:
    """A program's result as answer text: integral floats lose their ``.0``, lists are joined
    by spaces (BIG-Bench word lists; on MATH, lists and tuples are written ``(a, b)``, as its
    ordered pairs are), None stays None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        if value.is_integer():
            return str(int(value))
        return f"{value:.10g}"
    if isinstance(value, list | tuple):
        parts = [answer_text(v, dataset) or "" for v in value]
        return "(" + ", ".join(parts) + ")" if dataset == "math" else " ".join(parts).strip()
    return str(value).strip()
