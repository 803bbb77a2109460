"""Fixtures for the use side: a small library of hand-written tools and a scripted user model."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from library import Library, MemoryStore, NewTool
from maker.llm import ChatClient, RoleConfig, Rule, ScriptedModel

GCD = '''def gcd(a: int, b: int) -> int:
    """Greatest common divisor of two integers.

    Args:
        a: first integer.
        b: second integer.
    """
    while b:
        a, b = b, a % b
    return abs(a)
'''

SORT_WORDS = '''def sort_words(words: list[str]) -> list[str]:
    """Sort words alphabetically (case-insensitive)."""
    if not words:
        raise ValueError("no words to sort")
    return sorted(words, key=str.lower)
'''


def new_library() -> Library:
    lib = Library(MemoryStore())
    for name, src in (("gcd", GCD), ("sort_words", SORT_WORDS)):
        assert lib.publish(NewTool(name, src)).ok
    return lib


@pytest.fixture
def lib() -> Library:
    return new_library()


def client_for(script: Sequence[str | Rule]) -> tuple[ChatClient, ScriptedModel]:
    model = ScriptedModel(script)
    return ChatClient(model, RoleConfig("user", model="scripted-user")), model
