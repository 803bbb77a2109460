"""`maker bench local`: the local models, through the server and in-process, then the main job.

Part 1, per local model (`maker.llm.local.LOCAL_MODELS`): the same chat request, streamed, once
through the shared llama.cpp server and once through llama-cpp-python in this process (the
server idle meanwhile), temperature 0:

- ``gen_tps``: generated tokens per second after the first token (stream chunks are tokens);
- ``prompt_tps``: prompt tokens over the time to the first token (``ttft_s``);
- ``server_vs_inprocess``: the server's ``gen_tps`` over in-process ``gen_tps`` (target >= 0.9);
- the prefix cache: a second request sharing the first one's (long) system prompt, with another
  question; ``prefix_speedup`` = first ``ttft_s`` / second ``ttft_s``.

Every measured prompt starts with a fresh nonce, so no measurement is served by a prefix that an
earlier one left in the cache (except the second prefix-cache request, on purpose).

Part 2, the main job on the shipped example tasks per strategy (CREATOR, LATM, CRAFT) with the
local maker model: accepted / total units, model calls, tokens and wall seconds per accepted
tool, each in a fresh library with an empty response cache; then every accepted tool is
re-tested from the library (its stored tests in the sandbox).

Figures are measurements of this machine, not asserted anywhere; the last line printed is one
JSON object with all of them.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

SYSTEM = (
    "You are a careful Python programmer. Answer briefly. " * 4
    + "Reference notes: "
    + " ".join(f"note {i}: keep functions pure and typed." for i in range(40))
)
"""A long system prompt (several hundred tokens), as the maker's prompts are."""

QUESTION = "List the numbers from 1 to 60, separated by commas, and nothing else."
OTHER_QUESTION = "List the even numbers from 2 to 120, separated by commas, and nothing else."
STRATEGIES: tuple[str, ...] = ("creator", "latm", "craft")


@dataclass(frozen=True)
class StreamTiming:
    """One streamed completion: time to first token, tokens after it, and the total."""

    ttft_s: float
    gen_tokens: int
    gen_s: float
    prompt_tokens: int

    @property
    def gen_tps(self) -> float:
        return self.gen_tokens / self.gen_s if self.gen_s > 0 else 0.0

    @property
    def prompt_tps(self) -> float:
        return self.prompt_tokens / self.ttft_s if self.ttft_s > 0 else 0.0


def time_stream(
    chunks: Iterable[Any],
    text_of: Callable[[Any], str],
    prompt_tokens: int,
    started: float,
    clock: Callable[[], float] = time.perf_counter,
) -> StreamTiming:
    """Time a stream of completion chunks that began at ``started``: chunks that carry text
    count as one token each (llama.cpp streams token by token)."""
    first = last = None
    tokens = 0
    for chunk in chunks:
        if not text_of(chunk):
            continue
        now = clock()
        if first is None:
            first = now
        last = now
        tokens += 1
    if first is None or last is None:
        return StreamTiming(ttft_s=0.0, gen_tokens=0, gen_s=0.0, prompt_tokens=prompt_tokens)
    return StreamTiming(
        ttft_s=first - started,
        gen_tokens=max(tokens - 1, 0),
        gen_s=last - first,
        prompt_tokens=prompt_tokens,
    )


def _messages(question: str, nonce: str | None = None) -> list[dict[str, str]]:
    system = f"[{nonce}] {SYSTEM}" if nonce else SYSTEM
    return [{"role": "system", "content": system}, {"role": "user", "content": question}]


def _delta_text(chunk: Any) -> str:
    choices = chunk["choices"] if isinstance(chunk, dict) else chunk.choices
    if not choices:
        return ""
    delta = choices[0]["delta"] if isinstance(choices[0], dict) else choices[0].delta
    content = delta.get("content") if isinstance(delta, dict) else delta.content
    return content or ""


def server_stream(
    base_url: str, alias: str, messages: Sequence[dict[str, str]], max_tokens: int
) -> StreamTiming:
    """One streamed chat request to the server; prompt tokens from a 1-token twin request."""
    import openai

    client = openai.OpenAI(base_url=base_url, api_key="local", max_retries=0, timeout=600)
    started = time.perf_counter()
    stream = client.chat.completions.create(
        model=alias,
        messages=list(messages),
        max_tokens=max_tokens,
        temperature=0,
        seed=0,
        stream=True,
    )
    timing = time_stream(stream, _delta_text, 0, started)
    usage = client.chat.completions.create(
        model=alias, messages=list(messages), max_tokens=1, temperature=0, seed=0
    ).usage
    return StreamTiming(
        timing.ttft_s, timing.gen_tokens, timing.gen_s, usage.prompt_tokens if usage else 0
    )


def inprocess_stream(llm: Any, messages: Sequence[dict[str, str]], max_tokens: int) -> StreamTiming:
    """The same request through a `llama_cpp.Llama` in this process."""
    started = time.perf_counter()
    stream = llm.create_chat_completion(
        messages=list(messages), max_tokens=max_tokens, temperature=0, seed=0, stream=True
    )
    timing = time_stream(stream, _delta_text, 0, started)
    prompt = llm.create_chat_completion(
        messages=list(messages), max_tokens=1, temperature=0, seed=0
    )["usage"]["prompt_tokens"]
    return StreamTiming(timing.ttft_s, timing.gen_tokens, timing.gen_s, prompt)


def measure_model(
    base_url: str, alias: str, path: Path, *, max_tokens: int, n_ctx: int, n_threads: int
) -> dict[str, Any]:
    """Server against in-process on one model, and the server's prefix cache."""
    from llama_cpp import Llama

    server = server_stream(base_url, alias, _messages(QUESTION, uuid.uuid4().hex), max_tokens)
    shared = uuid.uuid4().hex
    cold = server_stream(base_url, alias, _messages(QUESTION, shared), 8)
    warm = server_stream(base_url, alias, _messages(OTHER_QUESTION, shared), 8)
    llm = Llama(model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False)
    try:
        inproc = inprocess_stream(llm, _messages(QUESTION, uuid.uuid4().hex), max_tokens)
    finally:
        llm.close()
    return {
        "model": alias,
        "server": asdict(server)
        | {"gen_tps": round(server.gen_tps, 2), "prompt_tps": round(server.prompt_tps, 1)},
        "inprocess": asdict(inproc)
        | {"gen_tps": round(inproc.gen_tps, 2), "prompt_tps": round(inproc.prompt_tps, 1)},
        "server_vs_inprocess": round(server.gen_tps / inproc.gen_tps, 3) if inproc.gen_tps else 0.0,
        "prompt_server_vs_inprocess": (
            round(server.prompt_tps / inproc.prompt_tps, 3) if inproc.prompt_tps else 0.0
        ),
        "ttft_s": round(server.ttft_s, 3),
        "prefix_cold_ttft_s": round(cold.ttft_s, 3),
        "prefix_warm_ttft_s": round(warm.ttft_s, 3),
        "prefix_speedup": round(cold.ttft_s / warm.ttft_s, 2) if warm.ttft_s else 0.0,
    }


def retest_tools(library_dir: Path, refs: Sequence[str], sandbox: Any) -> dict[str, bool]:
    """Each accepted tool, read back from the library, against its own stored tests."""
    from library import Library
    from library.suites import SuiteError, to_sandbox_suite

    results: dict[str, bool] = {}
    with Library.open(library_dir, read_only=True) as library:
        for ref in refs:
            rec = library.resolve(ref)
            suite = to_sandbox_suite(rec.tests)
            results[ref] = (
                not isinstance(suite, SuiteError)
                and sandbox.run_tests(rec.source, rec.entry, suite).passed
            )
    return results


def measure_job(
    strategy: str, client_for: Callable[[Path], Any], root: Path, sandbox: Any
) -> dict[str, Any]:
    """The main job on the example tasks with one strategy; every accepted tool re-tested."""
    from maker.jobs import run_job
    from maker.tasks import example_tasks_path, load_tasks

    tasks, _ = load_tasks(example_tasks_path())
    client, ledger = client_for(root / f"cache-{strategy}")
    lib = root / f"lib-{strategy}"
    t0 = time.perf_counter()
    report = run_job(
        tasks,
        strategy,
        library_dir=lib,
        job_dir=root / f"job-{strategy}",
        client=client,
        sandbox=sandbox,
        progress=False,
    )
    wall = time.perf_counter() - t0
    refs = [t["ref"] for t in report.tools]
    retests = retest_tools(lib, refs, sandbox)
    total = ledger.total()
    per_tool = max(report.accepted, 1)
    return {
        "strategy": strategy,
        "accepted": report.accepted,
        "units": report.units,
        "tools": len(refs),
        "calls": total.calls,
        "prompt_tokens": total.prompt_tokens,
        "completion_tokens": total.completion_tokens,
        "wall_s": round(wall, 1),
        "calls_per_tool": round(total.calls / per_tool, 2),
        "tokens_per_tool": round((total.prompt_tokens + total.completion_tokens) / per_tool),
        "wall_s_per_tool": round(wall / per_tool, 1),
        "retests_green": sum(retests.values()),
        "retests": len(retests),
        "reasons": dict(report.rejection_reasons),
    }


def run_bench(
    *,
    strategies: Sequence[str] = STRATEGIES,
    max_tokens: int = 64,
    skip_models: bool = False,
    console: Console | None = None,
    workdir: str | Path | None = None,
) -> dict[str, Any]:
    """Run the benchmark on the local models; print tables and, last, one JSON line."""
    from maker.llm import CostLedger, ResponseCache, load_config, make_client
    from maker.llm.local import LOCAL_MODELS, ensure_model, shared_server
    from sandbox import Sandbox

    console = console or Console()
    server = shared_server()
    base_url = server.ensure_started()
    settings = server.settings
    figures: dict[str, Any] = {"models": [], "jobs": []}
    if not skip_models:
        for model in LOCAL_MODELS:
            path = ensure_model(model).path
            figures["models"].append(
                measure_model(
                    base_url,
                    model.alias,
                    path,
                    max_tokens=max_tokens,
                    n_ctx=settings.n_ctx,
                    n_threads=settings.n_threads,
                )
            )
        _print_models(console, figures["models"])
    with tempfile.TemporaryDirectory(prefix="maker-bench-local-") as tmp, Sandbox(workers=2) as sb:
        root = Path(workdir or tmp)
        config = load_config(env={}, overrides={"maker.provider": "local"})

        def client_for(cache_dir: Path) -> tuple[Any, CostLedger]:
            ledger = CostLedger()
            return make_client(
                config, "maker", ledger=ledger, cache=ResponseCache(cache_dir)
            ), ledger

        for strategy in strategies:
            figures["jobs"].append(measure_job(strategy, client_for, root, sb))
            _print_jobs(console, figures["jobs"])
    console.print(json.dumps(figures), soft_wrap=True, markup=False, highlight=False)
    return figures


def _print_models(console: Console, rows: Sequence[dict[str, Any]]) -> None:
    table = Table(title="local models: server against llama-cpp-python in-process (same prompt)")
    for col in (
        "model",
        "gen tok/s server",
        "gen tok/s in-process",
        "server_vs_inprocess",
        "prompt tok/s server",
        "prompt tok/s in-process",
        "ttft s",
        "prefix cache ttft cold -> warm",
    ):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["model"],
            f"{r['server']['gen_tps']:.1f}",
            f"{r['inprocess']['gen_tps']:.1f}",
            f"{r['server_vs_inprocess']:.2f}",
            f"{r['server']['prompt_tps']:.0f}",
            f"{r['inprocess']['prompt_tps']:.0f}",
            f"{r['ttft_s']:.2f}",
            f"{r['prefix_cold_ttft_s']:.2f} -> {r['prefix_warm_ttft_s']:.2f} "
            f"(x{r['prefix_speedup']:.1f})",
        )
    console.print(table)


def _print_jobs(console: Console, rows: Sequence[dict[str, Any]]) -> None:
    table = Table(title="the main job on the example tasks with the local maker model")
    for col in (
        "strategy",
        "accepted",
        "calls",
        "tokens/tool",
        "wall s",
        "wall s/tool",
        "re-tests green",
    ):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["strategy"],
            f"{r['accepted']}/{r['units']}",
            str(r["calls"]),
            str(r["tokens_per_tool"]),
            f"{r['wall_s']:.0f}",
            f"{r['wall_s_per_tool']:.0f}",
            f"{r['retests_green']}/{r['retests']}",
        )
    console.print(table)
