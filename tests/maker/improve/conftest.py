"""Fixtures for the improve loop: a library with a buggy tool and recorded uses of it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from library import Library, NewTool, StoredSuite
from library.records import Call, Episode
from maker.llm import ChatClient, RoleConfig, ScriptedModel

BUGGY = '''def abs_diff(a: int, b: int) -> int:
    """Absolute difference of two integers.

    Args:
        a: first integer.
        b: second integer.
    """
    return a - b
'''

FIXED = '''def abs_diff(a: int, b: int) -> int:
    """Absolute difference of two integers.

    Args:
        a: first integer.
        b: second integer.
    """
    return abs(a - b)
'''

# Fixes the failing uses (small a) but changes the recorded success abs_diff(10, 4) == 6.
BREAKS_SUCCESS = '''def abs_diff(a: int, b: int) -> int:
    """Absolute difference of two integers.

    Args:
        a: first integer.
        b: second integer.
    """
    if a < 8:
        return abs(a - b)
    return a + b
'''

STILL_WRONG = '''def abs_diff(a: int, b: int) -> int:
    """Absolute difference of two integers.

    Args:
        a: first integer.
        b: second integer.
    """
    return a - b - 0
'''

TESTS = StoredSuite(examples=({"input": {"a": 5, "b": 3}, "expected": 2},))


def tool_reply(source: str) -> str:
    return f"Here is the fix.\n\n```python tool\n{source}```\n"


def add_tool(lib: Library, name: str = "abs_diff", source: str = BUGGY) -> None:
    assert lib.publish(NewTool(name, source, tests=TESTS)).ok


def use(
    lib: Library,
    args: dict[str, Any],
    *,
    value: Any = None,
    ok: bool = True,
    error: dict[str, Any] | None = None,
    gold: str | None = None,
    success: bool | None = None,
    stages: dict[str, Any] | None = None,
    limit: str | None = None,
    tool: str = "abs_diff@1",
    query: str = "",
) -> Episode:
    """Record one use of a tool, as the solver records it."""
    result = {
        "ok": ok,
        "value": value if ok else None,
        "error": error,
        "stdout": "",
        "elapsed_ms": 1.0,
        "limit": limit,
        "calls": [tool] if ok else [],
    }
    result["stages"] = stages or {
        "well_formed": True,
        "tool_chosen": True,
        "args_valid": True,
        "executed": ok,
        "correct": success,
    }
    q = query or f"What is the absolute difference between {args.get('a')} and {args.get('b')}?"
    answer = None if not ok else str(value)
    return lib.record(Episode(q, (tool,), Call(tool, args), result, answer, success, expected=gold))


def wrong_uses(lib: Library) -> list[Episode]:
    """A recorded success and two answers that disagree with the gold answer."""
    return [
        use(lib, {"a": 10, "b": 4}, value=6, gold="6", success=True),
        use(lib, {"a": 3, "b": 5}, value=-2, gold="2", success=False),
        use(lib, {"a": 1, "b": 9}, value=-8, gold="8", success=False),
    ]


def maker_for(script: Sequence[str]) -> tuple[ChatClient, ScriptedModel]:
    model = ScriptedModel(script)
    return ChatClient(model, RoleConfig("maker", model="scripted-maker")), model
