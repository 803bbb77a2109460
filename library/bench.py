"""Synthetic libraries and the measurements behind `maker bench library` (pure functions).

`synthetic_tools(n)` makes `n` distinct, valid tools whose docstrings and source problems draw
on a shared vocabulary, so retrieval has realistic overlaps; `measure(directory, n)` publishes
them into a fresh SQLite library and times publish, open and search.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

from library.records import NewTool, Provenance, Status, TestSuite
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
            tests=TestSuite(examples=({"input": {"x": 1}, "expected": 1.0 + i},)),
            provenance=Provenance(
                task_ids=(f"task{i}",), strategy="synthetic", problems=(problem,)
            ),
        )
        yield tool, f"{verb} {words[0]} {noun} {other}"


def measure(
    directory: str | Path, n: int, *, queries: int = 200, seed: int = 0
) -> dict[str, float]:
    """Publish `n` synthetic tools into a new library in `directory`, then time an open
    (list + index build) and `queries` searches. Returns seconds and milliseconds."""
    tools = list(synthetic_tools(n, seed))
    store = SqliteStore.open(directory)
    t0 = time.perf_counter()
    for tool, _ in tools:
        store.publish(tool)
    publish_s = time.perf_counter() - t0
    store.close()
    t0 = time.perf_counter()
    reader = SqliteStore.open(directory, read_only=True)
    records = reader.list(statuses=[Status.ACTIVE])
    t1 = time.perf_counter()
    retriever = Retriever()
    retriever.add_many(records)
    retriever.build()
    open_s = time.perf_counter() - t0
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
