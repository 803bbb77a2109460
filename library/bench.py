"""Synthetic libraries and the measurements behind `maker bench library` (pure functions).

`synthetic_tools(n)` makes `n` distinct, valid tools whose docstrings and source problems draw
on a shared vocabulary, so retrieval has realistic overlaps; `measure(directory, n)` publishes
them into a fresh SQLite library and times publish, open and search.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from library.records import NewTool, Provenance, Status, StoredSuite
from library.retrieval import Retriever
from library.store.sqlite import SqliteStore

_VERBS = (
    "compute count convert solve find sort merge split round scale rotate filter rank parse".split()
)
_NOUNS = (
    "matrix vector fraction polynomial prime divisor triangle circle angle interest loan salary "
    "median mean mode variance integer decimal percent ratio sequence series graph path tree "
    "string vowel word sentence date calendar clock speed distance volume area perimeter "
    "probability dice coin card permutation combination factorial logarithm exponent root"
).split()
_ADJ = "largest smallest total average exact approximate weighted shortest longest common".split()


def _phrase(rng: random.Random, n: int) -> list[str]:
    return [rng.choice(_ADJ) + " " + rng.choice(_NOUNS) for _ in range(n)]


def synthetic_tools(n: int, seed: int = 0) -> Iterator[tuple[NewTool, str]]:
    """`n` distinct tools, each with a query that should retrieve it."""
    rng = random.Random(seed)
    for i in range(n):
        verb, noun, other = rng.choice(_VERBS), rng.choice(_NOUNS), rng.choice(_NOUNS)
        name = f"{verb}_{noun}_{i}"
        words = _phrase(rng, 3)
        doc = f"{verb.capitalize()} the {words[0]} of a {noun} given its {other}."
        src = (
            f"def {name}(x: int, {other}: float = 1.0) -> float:\n"
            f'    """{doc}\n\n    Args:\n        x: the {noun} size.\n        {other}: the {other}.\n    """\n'
            f"    return x * {other} + {i}\n"
        )
        problem = f"A {words[1]} problem: {verb} the {noun} when the {words[2]} is known"
        tool = NewTool(
            name=name,
            source=src,
            tests=StoredSuite(examples=({"input": {"x": 1}, "expected": 1.0 + i},)),
            provenance=Provenance(
                task_ids=(f"task{i}",), strategy="synthetic", problems=(problem,)
            ),
        )
        yield tool, f"{verb} {words[0]} {noun} {other}"


Progress = Callable[[str, int, int], None]
"""`progress(phase, done, total)`: called now and then while a measurement runs."""


def measure(
    directory: str | Path,
    n: int,
    *,
    queries: int = 200,
    seed: int = 0,
    progress: Progress | None = None,
) -> dict[str, float]:
    """Publish `n` synthetic tools into a new library in `directory`, then time an open
    (list + index build) and `queries` searches. Returns seconds and milliseconds."""
    tools = list(synthetic_tools(n, seed))
    store = SqliteStore.open(directory)
    step = max(1, n // 20)
    t0 = time.perf_counter()
    for i, (tool, _) in enumerate(tools, 1):
        store.publish(tool)
        if progress is not None and (i % step == 0 or i == n):
            progress("publish", i, n)
    publish_s = time.perf_counter() - t0
    if progress is not None:
        progress("open", 0, 1)
    store.close()
    t0 = time.perf_counter()
    reader = SqliteStore.open(directory, read_only=True)
    records = reader.list(statuses=[Status.ACTIVE])
    t1 = time.perf_counter()
    retriever = Retriever()
    retriever.add_many(records)
    retriever.build()
    open_s = time.perf_counter() - t0
    if progress is not None:
        progress("search", 0, queries)
    rng = random.Random(seed + 1)
    lat, hits = [], 0
    for _ in range(queries):
        tool, query = rng.choice(tools)
        t = time.perf_counter()
        res = retriever.search(query, k=5)
        lat.append(time.perf_counter() - t)
        hits += tool.name in [h.name for h in res.hits]
    reader.close()
    lat.sort()
    return {
        "tools": float(n),
        "publish_per_s": n / publish_s,
        "open_s": open_s,
        "load_records_s": t1 - t0,
        "search_median_ms": statistics.median(lat) * 1000,
        "search_p99_ms": lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1000,
        "recall_at_5": hits / queries,
    }


def size_label(n: int) -> str:
    """`1k` for 1,000, `100k` for 100,000, `250` for 250: the suffix of the summary keys."""
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def run_benchmark(
    sizes: Sequence[int] = (1_000, 10_000, 100_000),
    *,
    queries: int = 200,
    workdir: str | Path | None = None,
    progress: Callable[[int, str, int, int], None] | None = None,
) -> tuple[list[dict[str, float]], dict[str, float]]:
    """`measure` one fresh library per size; returns the rows and the summary figures.

    Summary keys: `publish_per_s` (all publishes over their total time), and per size label
    `open_<label>_s`, `publish_per_s_<label>`, `search_median_ms_<label>`,
    `search_p99_ms_<label>`, `recall_at_5_<label>`.
    """
    rows: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="library-bench-", dir=workdir) as tmp:
        for n in sizes:
            report = None if progress is None else (lambda p, d, t, n=n: progress(n, p, d, t))
            rows.append(measure(Path(tmp) / f"lib{n}", n, queries=queries, progress=report))
    total_tools = sum(r["tools"] for r in rows)
    total_s = sum(r["tools"] / r["publish_per_s"] for r in rows)
    summary: dict[str, float] = {"publish_per_s": round(total_tools / total_s, 1)}
    for r in rows:
        label = size_label(int(r["tools"]))
        summary[f"open_{label}_s"] = round(r["open_s"], 3)
        summary[f"publish_per_s_{label}"] = round(r["publish_per_s"], 1)
        summary[f"search_median_ms_{label}"] = round(r["search_median_ms"], 3)
        summary[f"search_p99_ms_{label}"] = round(r["search_p99_ms"], 3)
        summary[f"recall_at_5_{label}"] = round(r["recall_at_5"], 3)
    return rows, summary
