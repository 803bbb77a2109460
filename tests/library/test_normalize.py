"""The rename-insensitive AST hash."""

from __future__ import annotations

from library.normalize import ast_hash

A = '''
import math

def hypot(x: float, y: float) -> float:
    """Length of the hypotenuse."""
    s = x * x + y * y  # squares
    return math.sqrt(s)
'''

B = """
import math as m
def length(a: float, b: float) -> float:
    total = a*a + b*b
    return m.sqrt(total)
"""


def test_rename_and_format_insensitive() -> None:
    assert ast_hash(A) == ast_hash(B)


def test_behaviour_changes_change_the_hash() -> None:
    assert ast_hash(A) != ast_hash(A.replace("math.sqrt(s)", "math.sqrt(s) + 1"))
    # swapping the parameter order changes which value goes where
    assert ast_hash("def f(a, b):\n return a - b\n") != ast_hash("def f(b, a):\n return a - b\n")
    # unbound names (builtins) are kept
    assert ast_hash("def f(a):\n return max(a)\n") != ast_hash("def f(a):\n return min(a)\n")


def test_unparsable_source_still_hashes() -> None:
    assert ast_hash("def (") == ast_hash("def (")
    assert ast_hash("def (") != ast_hash("def ((")


def test_hostile_nesting_falls_back_to_the_raw_text() -> None:
    deep = "x = " + "1+" * 100_000 + "1\n"
    assert ast_hash(deep) == ast_hash(deep) != ast_hash(deep + " ")
