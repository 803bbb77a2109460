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


class FakeLlama:
    """The parts of ``llama_cpp.Llama`` that save_state / load_state touch."""

    def __init__(self, logits_all: bool) -> None:
        self._logits_all = logits_all
        self.scores = np.ones((4, 3), dtype=np.single)
        self.seen: list[int] = []

    def save_state(self):
        self.seen.append(len(self.scores))
        return llama_cpp.llama.LlamaState(
            input_ids=np.zeros(2, dtype=np.intc),
            scores=self.scores[:2].copy(),
            n_tokens=2,
            llama_state=b"",
            llama_state_size=0,
            seed=0,
        )

    def load_state(self, state) -> None:
        self.seen.append(len(self.scores))
        self.scores[: state.n_tokens, :] = state.scores


def test_a_saved_state_leaves_out_scores_nothing_wrote() -> None:
    # llama.cpp writes no scores without logits_all, yet each prompt-cache save copied 311 MB
    # of them for Qwen2.5 (2.8 s when it landed in fresh pages, on a 1 s tool call)
    from maker.llm.local.llama_child import install_lean_states

    class Lean(FakeLlama):
        pass

    install_lean_states(Lean)
    install_lean_states(Lean)  # once only
    lean = Lean(logits_all=False)
    state = lean.save_state()
    assert state.scores.shape == (0, 3) and lean.seen == [0]
    assert lean.scores.shape == (4, 3)  # the buffer itself is back
    assert entry_bytes(state) == 2 * np.dtype(np.intc).itemsize
    lean.load_state(state)
    assert lean.seen == [0, 0] and lean.scores.shape == (4, 3)
    # with logits_all (logprobs) the scores are real: saved and restored as before
    full = Lean(logits_all=True)
    kept = full.save_state()
    assert kept.scores.shape == (2, 3) and full.seen == [4]
    lean.load_state(kept)  # a state saved with scores restores them
    assert lean.seen[-1] == 4


def masking_sampler(allowed: set[int]):
    """A stand-in for a grammar: a llama.cpp sampler that rules out every token not allowed."""
    from llama_cpp._internals import CustomSampler

    def apply(cur_p) -> None:
        arr = cur_p.contents
        for i in range(arr.size):
            if arr.data[i].id not in allowed:
                arr.data[i].logit = float("-inf")

    return CustomSampler(apply)


def test_a_grammar_is_checked_on_the_pick_and_applied_only_when_it_refuses() -> None:
    from maker.llm.local.llama_child import allows, pick

    chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
    llama_cpp.llama_sampler_chain_add(chain, llama_cpp.llama_sampler_init_greedy())
    try:
        logits = np.array([0.5, 3.0, 1.0, 2.0], dtype=np.single)
        assert pick(chain, logits) == 1  # the best token
        grammar = masking_sampler({2, 3})
        rules = grammar.get_sampler()
        assert not allows(rules, 1, 3.0) and allows(rules, 3, 2.0)
        assert pick(chain, logits, rules) == 3  # the best token the grammar allows
        # where the best token is allowed it is the pick either way: no full pass needed
        assert pick(chain, logits) == pick(chain, logits, masking_sampler({1}).get_sampler())
    finally:
        llama_cpp.llama_sampler_free(chain)


def test_the_child_installs_its_patches_before_the_server_starts() -> None:
    # in a subprocess: the patches change llama_cpp.Llama for the whole process
    import subprocess
    import sys

    code = (
        "import llama_cpp\n"
        "from maker.llm.local import llama_child\n"
        "llama_child.runpy.run_module = lambda *a, **k: print('server', a[0])\n"
        "llama_child.main()\n"
        "print(llama_cpp.Llama._maker_lean_states, llama_cpp.Llama._maker_lazy_grammar,\n"
        "      llama_cpp.LlamaRAMCache is llama_child.MeasuredRAMCache)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["server llama_cpp.server", "True True True"]
