"""Confidence intervals and break-even arithmetic against published / hand-computed values."""

from __future__ import annotations

import math

import pytest

from experiments.report import bootstrap_seeds, break_even, cost_per_solved, num, pct, wilson


@pytest.mark.parametrize(
    ("k", "n", "lo", "hi"),
    [  # Wilson score intervals at 95% (Newcombe 1998; Brown, Cai & DasGupta 2001)
        (8, 10, 0.4902, 0.9433),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (81, 263, 0.2553, 0.3662),
        (15, 148, 0.0624, 0.1605),
    ],
)
def test_wilson_matches_published_intervals(k, n, lo, hi):
    got = wilson(k, n)
    assert got == pytest.approx((lo, hi), abs=1e-4)


def test_wilson_of_nothing_is_the_whole_range():
    assert wilson(0, 0) == (0.0, 1.0)


def test_bootstrap_over_seeds_is_deterministic_and_brackets_the_mean():
    outcomes = {
        0: {f"q{i}": i % 2 == 0 for i in range(20)},
        1: {f"q{i}": i % 3 == 0 for i in range(20)},
        2: {f"q{i}": i % 4 == 0 for i in range(20)},
    }
    mean, lo, hi = bootstrap_seeds(outcomes)
    assert mean == pytest.approx((10 + 7 + 5) / 60)
    assert lo < mean < hi and 0 <= lo and hi <= 1
    assert bootstrap_seeds(outcomes) == (mean, lo, hi)
    # seeds that agree leave only the item variation; all-correct has no width at all
    same = {s: {f"q{i}": True for i in range(10)} for s in range(3)}
    assert bootstrap_seeds(same) == (1.0, 1.0, 1.0)


def test_seed_disagreement_widens_the_interval():
    items = [f"q{i}" for i in range(30)]
    agree = {s: {q: i < 15 for i, q in enumerate(items)} for s in range(3)}
    differ = {
        0: {q: True for q in items},
        1: {q: False for q in items},
        2: {q: i < 15 for i, q in enumerate(items)},
    }
    _, lo_a, hi_a = bootstrap_seeds(agree)
    _, lo_d, hi_d = bootstrap_seeds(differ)
    assert hi_d - lo_d > hi_a - lo_a


def test_break_even():
    # tools: 1000 to make, 2 per problem, 80% solved; baseline: 10 per problem, 50% solved
    n = break_even(1000, 2, 0.8, 10, 0.5)
    assert n == pytest.approx(1000 / (0.8 * 20 - 2))
    at = cost_per_solved(1000, 2, 0.8, [math.ceil(n), math.floor(n)])
    assert at[0] <= 20 <= at[1]
    assert break_even(1000, 30, 0.8, 10, 0.5) is None  # dearer per solved forever
    assert break_even(0, 5, 0.8, 10, 0.5) == 0.0
    assert break_even(1000, 2, 0.0, 10, 0.5) is None
    assert break_even(1000, 2, 0.5, 10, 0.0) == 0.0
    assert cost_per_solved(10, 1, 0.0, [5]) == [math.inf]


def test_formatters():
    assert (pct(0.42857), pct(None), pct(1.0)) == ("42.9", "-", "100.0")
    assert (num(257.14), num(0.00018), num(22.0), num(None), num(math.inf)) == (
        "257",
        "0.00018",
        "22",
        "-",
        "inf",
    )
