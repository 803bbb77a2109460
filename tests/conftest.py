"""Shared test configuration: `live` tests run only when a real endpoint is configured."""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("MAKER_LIVE_BASE_URL"):
        return
    skip = pytest.mark.skip(reason="live: set MAKER_LIVE_BASE_URL to run against a real endpoint")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)
