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
`MeasuredRAMCache` before handing over to ``llama_cpp.server``'s own ``main``. Nothing else in
llama-cpp-python changes, and no process of the engine other than this child imports it.
"""

from __future__ import annotations

import runpy
from typing import Any

import llama_cpp

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


def main() -> None:
    """Run llama-cpp-python's server (its arguments from ``sys.argv``) with `MeasuredRAMCache`."""
    llama_cpp.LlamaRAMCache = MeasuredRAMCache  # type: ignore[misc]
    runpy.run_module(SERVER_MODULE, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
