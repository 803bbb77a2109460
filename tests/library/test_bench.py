"""The synthetic benchmark runs end to end at a small size."""

from __future__ import annotations

from pathlib import Path

from library.bench import measure, synthetic_tools
from library.spec import derive_spec


def test_synthetic_tools_are_valid_and_distinct() -> None:
    tools = [t for t, _ in synthetic_tools(30)]
    assert len({t.name for t in tools}) == 30
    assert all(not hasattr(derive_spec(t.source, t.name), "code") for t in tools)


def test_measure_small_library(tmp_path: Path) -> None:
    m = measure(tmp_path / "lib", 60, queries=20)
    assert m["tools"] == 60 and m["publish_per_s"] > 0 and m["search_median_ms"] > 0
    assert m["recall_at_5"] >= 0.8
