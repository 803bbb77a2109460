"""Confidence intervals: Wilson for one proportion, a two-level bootstrap across seeds.

>>> lo, hi = wilson(8, 10)
>>> round(lo, 3), round(hi, 3)
(0.49, 0.943)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

Z95 = 1.959963984540054
BOOTSTRAP_REPS = 2000
BOOTSTRAP_SEED = 12345  # fixed: the same results give the same interval


def wilson(correct: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of ``correct`` successes in ``n`` trials ((0, 1) for n = 0)."""
    if n <= 0:
        return 0.0, 1.0
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def sign_test(wins: int, losses: int) -> float:
    """Exact two-sided sign test (McNemar's exact test) on the discordant pairs of a paired
    comparison: the chance of a split at least this uneven if either side were as likely to
    win (1.0 when there are no discordant pairs).

    >>> round(sign_test(8, 1), 4), sign_test(3, 3), sign_test(0, 0)
    (0.0391, 1.0, 1.0)
    """
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2**n
    return min(1.0, 2 * tail)


def bootstrap_seeds(
    outcomes: Mapping[int, Mapping[str, bool]],
    *,
    reps: int = BOOTSTRAP_REPS,
    seed: int = BOOTSTRAP_SEED,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Mean accuracy over seeds and its percentile bootstrap interval.

    ``outcomes`` maps seed -> item id -> correct. Each replicate resamples seeds, then items,
    with replacement (both sources of variation: sampling noise and which problems), and
    takes the mean accuracy; items missing for a seed are left out of that seed.
    """
    seeds = sorted(outcomes)
    items = sorted({i for per in outcomes.values() for i in per})
    if not seeds or not items:
        return 0.0, 0.0, 1.0
    grid = np.full((len(seeds), len(items)), np.nan)
    index = {item: j for j, item in enumerate(items)}
    for s, seed_ in enumerate(seeds):
        for item, ok in outcomes[seed_].items():
            grid[s, index[item]] = float(ok)
    mean = float(np.nanmean(grid))
    rng = np.random.default_rng(seed)
    stats = np.empty(reps)
    for r in range(reps):
        rows = grid[rng.integers(0, len(seeds), len(seeds))]
        sample = rows[:, rng.integers(0, len(items), len(items))]
        stats[r] = np.nanmean(sample) if not np.all(np.isnan(sample)) else mean
    tail = (1 - level) / 2 * 100
    lo, hi = np.percentile(stats, [tail, 100 - tail])
    return mean, float(lo), float(hi)


def break_even(
    making: float, use: float, accuracy: float, baseline_use: float, baseline_accuracy: float
) -> float | None:
    """Problems after which making tools pays for itself, in cost per solved problem.

    The arm costs ``making + N * use`` for ``N * accuracy`` solved problems; the baseline
    ``baseline_use / baseline_accuracy`` per solved problem. Returns the N where they are equal,
    0 when the arm is cheaper per solved problem from the start, None when never.
    """
    if accuracy <= 0:
        return None
    if baseline_accuracy <= 0:
        return 0.0  # the baseline solves nothing: any solved problem is cheaper
    gain = accuracy * baseline_use / baseline_accuracy - use
    if making <= 0:
        return 0.0 if gain >= 0 else None
    if gain <= 0:
        return None
    return making / gain


def cost_per_solved(making: float, use: float, accuracy: float, n: Sequence[int]) -> list[float]:
    """Amortized cost per solved problem after each number of problems in ``n`` (inf if none)."""
    return [(making + k * use) / (k * accuracy) if accuracy > 0 and k > 0 else math.inf for k in n]
