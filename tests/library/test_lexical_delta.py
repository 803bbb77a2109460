"""The lexical index's delta grows one document at a time with the same results as built at once."""

from __future__ import annotations

import random

from library.lexical import LexicalIndex

WORDS = "prime divisor matrix vector sort word date clock area volume mean median".split()


def _docs(n: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    return [rng.sample(WORDS, rng.randint(1, 5)) for _ in range(n)]


def test_searching_between_adds_gives_what_one_build_gives() -> None:
    docs = _docs(900, 1)
    step, once = LexicalIndex(min_delta=10_000), LexicalIndex(min_delta=10_000)
    queries = [["prime", "divisor"], ["sort", "word", "date"], ["volume"]]
    for i, doc in enumerate(docs):
        key = i % 600  # keys come back: replaced documents are masked, not double counted
        for index in (step, once):
            index.add(key, doc)
            if i % 97 == 0:
                index.remove((i + 3) % 600)
        if i == 300:  # both build their base here; everything after goes to the delta
            step.search(queries[0], 5)
            once.search(queries[0], 5)
        elif i > 300 and i % 7 == 0:
            step.search(queries[i % 3], 5)  # extends the delta with the new documents only
    for q in queries:
        got, want = step.search(q, 10), once.search(q, 10)
        assert [k for k, _ in got] == [k for k, _ in want]
        assert [round(s, 9) for _, s in got] == [round(s, 9) for _, s in want]
    assert step._delta is not None and step._delta.n == once._delta.n == 599
