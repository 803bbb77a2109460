"""The server child's prompt cache counts every byte an entry holds (needs llama-cpp-python;
skipped without it)."""

from __future__ import annotations

import inspect

import pytest

llama_cpp = pytest.importorskip("llama_cpp")
np = pytest.importorskip("numpy")

from maker.llm.local.llama_child import MeasuredRAMCache, entry_bytes  # noqa: E402
from maker.llm.local.server import ServerSettings, llama_launch  # noqa: E402

MIB = 2**20


def state(n: int, scores_mib: int = 8, state_mib: int = 1):
    """A cached prompt state shaped like llama-cpp-python's: a small llama.cpp state and a
    large score copy."""
    return llama_cpp.llama.LlamaState(
        input_ids=np.full(16, n, dtype=np.intc),
        scores=np.zeros((scores_mib * MIB // 4,), dtype=np.single),
        n_tokens=16,
        llama_state=b"",
        llama_state_size=state_mib * MIB,
        seed=0,
    )


def fill(cache, count: int) -> None:
    for n in range(count):
        cache[(n, n + 1, n + 2)] = state(n)


def test_an_entry_counts_its_score_copy() -> None:
    assert entry_bytes(state(0)) == 9 * MIB + 16 * np.dtype(np.intc).itemsize


def test_the_measured_cache_stays_within_its_capacity() -> None:
    capacity = 20 * MIB  # two 9 MiB entries fit, a third does not
    measured = MeasuredRAMCache(capacity_bytes=capacity)
    fill(measured, 5)
    assert len(measured.cache_state) == 2
    assert measured.cache_size <= capacity
    assert (4, 5, 6) in measured.cache_state  # the newest is kept, the oldest evicted
    # llama-cpp-python's own cache counts 1 MiB per entry and keeps all five (45 MiB held).
    plain = llama_cpp.LlamaRAMCache(capacity_bytes=capacity)
    fill(plain, 5)
    assert len(plain.cache_state) == 5


def test_the_server_still_builds_its_cache_from_the_name_the_child_rebinds() -> None:
    server_model = pytest.importorskip("llama_cpp.server.model")
    source = inspect.getsource(server_model.LlamaProxy.load_llama_from_model_settings)
    assert "llama_cpp.LlamaRAMCache(" in source


def test_the_server_child_is_launched_through_this_module(tmp_path) -> None:
    cmd = llama_launch(tmp_path / "server.json", 8123)
    assert cmd[0] == "maker.llm.local.llama_child"
    assert ServerSettings().cache_bytes == 2 * 2**30
