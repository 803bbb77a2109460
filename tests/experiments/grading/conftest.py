"""One symbolic worker for the grading tests (it costs about a second to start)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from experiments.grading import SymbolicChecker


@pytest.fixture(scope="session")
def checker() -> Iterator[SymbolicChecker]:
    with SymbolicChecker(timeout_s=10) as c:
        yield c
