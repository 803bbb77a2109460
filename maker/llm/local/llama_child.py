"""``python -m maker.llm.local.llama_child --config_file F``: llama-cpp-python's server, with a
prompt cache whose size limit counts what the cache really holds.

llama-cpp-python's RAM prompt cache (``LlamaRAMCache``) evicts when the sum of its entries'
*llama.cpp state* sizes passes its capacity, but every entry also holds a copy of the model's
score buffer (``n_batch x n_vocab`` float32: 297 MiB for Qwen2.5 at ``n_batch`` 512) that the sum
leaves out. Measured with the 0.5B: after 8 prompts of ~1,500 tokens the cache counted 134 MiB
and held 2.4 GiB more (RSS 1.1 -> 3.3 GiB), so a "2 GiB" cache could grow to tens of GiB; an
experiment run that used both local models peaked at 24 GB RSS. `MeasuredRAMCache` counts
every array an entry holds, so the configured ``cache_size`` bounds the memory it takes.

The server creates its cache as ``llama_cpp.LlamaRAMCache(capacity_bytes=...)`` when it loads a
model; this module, run only as the server's child process, binds that name to
`MeasuredRAMCache` before handing over to ``llama_cpp.server``'s own ``main``.

It also makes JSON-schema constrained replies check the grammar lazily (`LazyGrammar`):
llama-cpp-python's sampler runs the grammar over all 152k candidate tokens at every step, which
measured 0.19 s per token with the 0.5B on 2 cores, half the time of a tool call (18 tokens: 4.5 s
constrained, 1.0 s free). Like llama.cpp's own samplers, the token is picked without the grammar
first and only checked against it; only when the grammar rejects it is the pick made again over
the candidates the grammar allows. Greedy picks are the same tokens either way (the best token,
if allowed, is the best allowed one), and sampled ones follow the same distribution.

No process of the engine other than this child imports it.
"""

from __future__ import annotations

import ctypes
import runpy
from collections.abc import Callable
from typing import Any

import llama_cpp
import numpy as np

SERVER_MODULE = "llama_cpp.server"


def entry_bytes(state: Any) -> int:
    """What one cached ``LlamaState`` takes: its llama.cpp state plus its numpy copies (scores,
    input ids)."""
    total = int(state.llama_state_size)
    for name in ("scores", "input_ids"):
        array = getattr(state, name, None)
        total += int(getattr(array, "nbytes", 0))
    return total


class MeasuredRAMCache(llama_cpp.LlamaRAMCache):
    """``LlamaRAMCache`` whose size (and so its eviction) counts every byte an entry holds."""

    @property
    def cache_size(self) -> int:
        return sum(entry_bytes(state) for state in self.cache_state.values())


_TOKEN_DATA = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)
assert _TOKEN_DATA.itemsize == ctypes.sizeof(llama_cpp.llama_token_data)


def pick(chain: Any, logits: np.ndarray, grammar: Any = None) -> int:
    """The token the sampler `chain` picks from `logits` (every token a candidate), after
    `grammar` (a llama.cpp sampler) has ruled out what it does not allow, if given. Nothing is
    accepted: see `LazyGrammar.sample`."""
    data = np.empty(len(logits), dtype=_TOKEN_DATA)
    data["id"] = np.arange(len(logits), dtype=np.intc)
    data["logit"] = logits
    data["p"] = 0.0
    cur = llama_cpp.llama_token_data_array(
        data=data.ctypes.data_as(llama_cpp.llama_token_data_p),
        size=len(logits),
        selected=-1,
        sorted=False,
    )
    if grammar is not None:
        llama_cpp.llama_sampler_apply(grammar, ctypes.byref(cur))
    llama_cpp.llama_sampler_apply(chain, ctypes.byref(cur))
    if not 0 <= cur.selected < cur.size:
        raise RuntimeError("the sampler selected no token")
    return int(data["id"][cur.selected])


def grammar_sampler(vocab: Any, grammar: Any) -> Any:
    """A llama.cpp sampler of its own for `grammar` (a ``llama_cpp.LlamaGrammar``) over
    `vocab`; the caller frees it with ``llama_sampler_free``."""
    rules = llama_cpp.llama_sampler_init_grammar(
        vocab, grammar._grammar.encode(), grammar._root.encode()
    )
    if not rules:
        raise ValueError("llama.cpp could not parse the reply's grammar")
    return rules


def allows(grammar: Any, token: int, logit: float) -> bool:
    """Whether the llama.cpp grammar sampler `grammar`, in its current state, allows `token`."""
    one = (llama_cpp.llama_token_data * 1)(llama_cpp.llama_token_data(token, logit, 0.0))
    cur = llama_cpp.llama_token_data_array(data=one, size=1, selected=-1, sorted=False)
    llama_cpp.llama_sampler_apply(grammar, ctypes.byref(cur))
    return bool(np.isfinite(one[0].logit))


class LazyGrammar:
    """Patches ``llama_cpp.Llama`` so that a grammar is checked on the picked token, not applied
    to every candidate (see the module docstring). `install` replaces ``_init_sampler`` (the
    chain is built without the grammar; the grammar becomes a sampler of its own, kept on the
    chain object and freed with it) and ``sample`` (pick, check, pick again over the allowed
    tokens if rejected, then accept the token in both)."""

    ATTR = "maker_grammar"

    @classmethod
    def install(cls, llama_class: Any = None) -> None:
        llama_class = llama_class or llama_cpp.Llama
        if getattr(llama_class, "_maker_lazy_grammar", False):
            return
        init: Callable[..., Any] = llama_class._init_sampler
        sample: Callable[..., Any] = llama_class.sample

        def _init_sampler(self: Any, *args: Any, grammar: Any = None, **kwargs: Any) -> Any:
            chain = init(self, *args, grammar=None, **kwargs)
            if grammar is not None:
                rules = grammar_sampler(self._model.vocab, grammar)
                chain._exit_stack.callback(llama_cpp.llama_sampler_free, rules)
                setattr(chain, cls.ATTR, rules)
            return chain

        def lazy_sample(self: Any, *args: Any, idx: int | None = None, **kwargs: Any) -> int:
            chain = self._sampler
            rules = getattr(chain, cls.ATTR, None) if chain is not None else None
            if rules is None:
                return int(sample(self, *args, idx=idx, **kwargs))
            ridx = idx - self.n_tokens if idx is not None else -1
            pointer = llama_cpp.llama_get_logits_ith(self._ctx.ctx, ridx)
            logits = np.ctypeslib.as_array(pointer, shape=(self._n_vocab,))
            token = pick(chain.sampler, logits)
            if not allows(rules, token, float(logits[token])):
                token = pick(chain.sampler, logits, rules)
            llama_cpp.llama_sampler_accept(rules, token)
            llama_cpp.llama_sampler_accept(chain.sampler, token)
            return token

        llama_class._init_sampler = _init_sampler
        llama_class.sample = lazy_sample
        llama_class._maker_lazy_grammar = True


def install_lean_states(llama_class: Any = None) -> None:
    """Make ``Llama.save_state`` / ``load_state`` skip the score buffer of a model without
    ``logits_all``: llama.cpp never writes it then (sampling reads the context's own logits),
    yet every prompt-cache save copied its n_batch x vocabulary floats, 311 MB for Qwen2.5.
    Measured in the server's setting with the 0.5B: a save took 0.09 s, or 2.8 s when the copy
    landed in fresh pages, on a tool call of 1 s; and the copies filled the cache's memory, so
    2 GiB held five prompts. Without them an entry is the llama.cpp state alone (6 MB for a
    500-token prompt of the 0.5B)."""
    llama_class = llama_class or llama_cpp.Llama
    if getattr(llama_class, "_maker_lean_states", False):
        return
    save: Callable[..., Any] = llama_class.save_state
    load: Callable[..., Any] = llama_class.load_state

    def lean(self: Any, call: Callable[..., Any], *args: Any) -> Any:
        if getattr(self, "_logits_all", True):
            return call(self, *args)
        full = self.scores
        self.scores = full[:0]  # no rows: nothing to copy, nothing to restore
        try:
            return call(self, *args)
        finally:
            self.scores = full

    def save_state(self: Any) -> Any:
        return lean(self, save)

    def load_state(self: Any, state: Any) -> None:
        if len(state.scores):
            return load(self, state)  # saved with its scores: restore them as they were
        return lean(self, load, state)

    llama_class.save_state = save_state
    llama_class.load_state = load_state
    llama_class._maker_lean_states = True


def main() -> None:
    """Run llama-cpp-python's server (its arguments from ``sys.argv``) with `MeasuredRAMCache`,
    `install_lean_states` and `LazyGrammar`."""
    llama_cpp.LlamaRAMCache = MeasuredRAMCache  # type: ignore[misc]
    install_lean_states()
    LazyGrammar.install()
    runpy.run_module(SERVER_MODULE, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
