"""Model and problem text shortened for a prompt line."""

from __future__ import annotations

from typing import Any


def clip(text: Any, limit: int) -> str:
    """`text` on one line (runs of whitespace made one space), cut to `limit` characters with
    "..." at the end when longer.

    >>> clip("a  b\\n c", 10), clip("abcdefghijk", 8)
    ('a b c', 'abcde...')
    """
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def same_text(a: str, b: str) -> bool:
    """Whether two texts are the same but for whitespace (line breaks, runs of spaces)."""
    return " ".join(a.split()) == " ".join(b.split())
