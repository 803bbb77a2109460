"""Tokenizing and the incrementally updated BM25 index."""

from __future__ import annotations

import random

from library.lexical import LexicalIndex, tokenize


def test_tokenize_splits_names_and_drops_noise() -> None:
    assert tokenize("solveQuadraticEquation") == ["solve", "quadratic", "equation"]
    assert tokenize("gcd_of_two_numbers 42 HTTPServer") == [
        "gcd",
        "two",
        "number",
        "http",
        "server",
    ]
    assert tokenize("What is the value?") == []


def test_search_add_replace_remove() -> None:
    idx = LexicalIndex(min_delta=2)
    idx.add("gcd", tokenize("greatest common divisor of two integers"))
    idx.add("lcm", tokenize("least common multiple of two integers"))
    idx.add("area", tokenize("area of a circle from its radius"))
    assert [k for k, _ in idx.search(tokenize("common divisor"), 3)] == ["gcd", "lcm"]
    assert idx.search(tokenize("weather forecast"), 3) == []
    idx.add("gcd", tokenize("sort a list"))  # replace the document
    assert [k for k, _ in idx.search(tokenize("divisor"), 3)] == []
    idx.remove("lcm")
    assert [k for k, _ in idx.search(tokenize("common multiple integers"), 3)] == []
    assert len(idx) == 2 and "lcm" not in idx


def test_incremental_matches_a_fresh_build_in_ranking() -> None:
    rng = random.Random(0)
    words = [f"w{i}" for i in range(60)]
    docs = {f"d{i}": [rng.choice(words) for _ in range(8)] for i in range(400)}
    inc = LexicalIndex(min_delta=16, delta_fraction=0.05)
    for i, (k, toks) in enumerate(docs.items()):
        inc.add(k, toks)
        if i % 37 == 0:
            inc.search(["w1"], 5)  # force segment builds along the way
    fresh = LexicalIndex()
    for k, toks in docs.items():
        fresh.add(k, toks)
    for q in (["w3", "w7"], ["w11"], ["w5", "w6", "w59"]):
        top_inc = {k for k, _ in inc.search(q, 20)}
        top_fresh = {k for k, _ in fresh.search(q, 20)}
        assert len(top_inc & top_fresh) >= 17  # statistics of the segments differ slightly
