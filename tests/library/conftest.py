"""Fixtures for the library tests: both store backends, and tool sources to publish."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from library.records import NewTool, Provenance, StoredSuite
from library.store import MemoryStore, SqliteStore, Store


def tool_source(name: str, expr: str = "a + b", doc: str = "Add two numbers.") -> str:
    """A small valid tool `name(a: int, b: int) -> int` returning `expr`."""
    return (
        f"def {name}(a: int, b: int) -> int:\n"
        f'    """{doc}\n\n    Args:\n        a: The first number.\n        b: The second number.\n    """\n'
        f"    return {expr}\n"
    )


def new_tool(
    name: str,
    expr: str = "a + b",
    doc: str = "Add two numbers.",
    task: str = "t1",
    problem: str = "",
) -> NewTool:
    return NewTool(
        name=name,
        source=tool_source(name, expr, doc),
        tests=StoredSuite(
            examples=({"input": {"a": 1, "b": 2}, "expected": eval(expr, {}, {"a": 1, "b": 2})},)
        ),
        provenance=Provenance(
            task_ids=(task,),
            strategy="LATM",
            maker_model="m",
            problems=(problem,) if problem else (),
        ),
    )


@pytest.fixture(params=["sqlite", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    s: Store = SqliteStore.open(tmp_path / "lib") if request.param == "sqlite" else MemoryStore()
    yield s
    s.close()
