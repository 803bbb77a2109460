"""One warm sandbox shared by the sandbox tests (starting a zygote costs about a second)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox import Sandbox


@pytest.fixture(scope="session")
def sb() -> Iterator[Sandbox]:
    with Sandbox(workers=2) as box:
        yield box


@pytest.fixture(scope="session")
def strict_sb() -> Iterator[Sandbox]:
    with Sandbox(workers=2, mode="strict") as box:
        yield box
