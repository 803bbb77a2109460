"""MATH loaders: the MATH-500 JSONL layout and the Hendrycks per-problem JSON tree.

Tool making sees only making items, evaluation only test items. With a training split (the
tree's ``train/`` folder, or ``train_path``) MATH-500 / the tree's ``test/`` is the test set.
Without one, MATH-500 is cut in two by ``unique_id``, stratified by subject and level and
seeded; such a test set is labelled ``comparable=False``: its accuracy is on a subset of
MATH-500 and must not be set beside published MATH-500 figures.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from experiments.data.records import (
    DataError,
    Dataset,
    Item,
    Split,
    existing,
    read_json,
    read_jsonl,
    require,
)
from experiments.grading.extract import last_boxed

MATH500_FIELDS = ("problem", "solution", "answer", "level", "type", "unique_id")
TREE_FIELDS = ("problem", "level", "type", "solution")
NOT_COMPARABLE = (
    "MATH-500 split in two here (no MATH training split given): accuracy is on "
    "a subset of MATH-500, not comparable to published MATH-500 figures"
)


def _level(value: object) -> int | None:
    if isinstance(value, int):
        return value
    m = re.search(r"\d+", str(value))
    return int(m.group(0)) if m else None


def _item(unique_id: str, row: dict, answer: str, split: Split, source: str) -> Item:
    subject = str(row["type"])
    return Item(
        id=unique_id,
        dataset="math",
        question=str(row["problem"]),
        gold=answer,
        split=split,
        metadata={
            "subject": subject,
            "level": _level(row["level"]),
            "family": f"math:{subject}",
            "answer_check": "math",  # tool making checks answers with the MATH grader
            "source": source,
            "solution": str(row["solution"]),
        },
    )


def read_math500(path: str | Path, split: Split = "test") -> list[Item]:
    """Read a MATH-500 style JSONL file (problem, solution, answer, level, type, unique_id)."""
    p = existing(path)
    items: list[Item] = []
    seen: dict[str, int] = {}
    for number, row in read_jsonl(p):
        require(row, MATH500_FIELDS, f"{p}:{number}")
        uid = str(row["unique_id"])
        if uid in seen:
            raise DataError(
                f"{p}:{number}: duplicate unique_id {uid!r} (first on line {seen[uid]})"
            )
        seen[uid] = number
        items.append(_item(uid, row, str(row["answer"]), split, str(p)))
    if not items:
        raise DataError(f"{p}: no problems in the file")
    return items


def read_math_tree(root: str | Path, split_dir: str, split: Split) -> list[Item]:
    """Read ``<root>/<split_dir>/<subject>/<n>.json`` problems; the answer is the solution's
    last ``\\boxed{}``."""
    base = existing(root) / split_dir
    if not base.is_dir():
        raise DataError(f"{base}: no such folder (expected <root>/{split_dir}/<subject>/<n>.json)")
    items: list[Item] = []
    for file in sorted(base.glob("*/*.json")):
        row = read_json(file)
        if not isinstance(row, dict):
            raise DataError(f"{file}: expected a JSON object")
        require(row, TREE_FIELDS, str(file))
        answer = last_boxed(str(row["solution"]))
        if answer is None:
            raise DataError(f"{file}: the solution has no complete \\boxed{{}} answer")
        uid = f"{split_dir}/{file.parent.name}/{file.name}"
        items.append(_item(uid, row, answer, split, str(file)))
    if not items:
        raise DataError(f"{base}: no <subject>/<n>.json problems found")
    return items


def _read_any(path: Path, split: Split, tree_split: str) -> list[Item]:
    if path.is_dir():
        return read_math_tree(path, tree_split, split)
    return read_math500(path, split)


def stratified_split(
    items: Iterable[Item], making_fraction: float, seed: int
) -> tuple[list[Item], list[Item]]:
    """Cut items in two, disjoint by id, stratified by (subject, level), deterministic in seed.

    Each stratum is sorted by id, shuffled with a generator seeded by ``seed`` and the
    stratum, and its first ``round(n * making_fraction)`` items go to making.
    """
    if not 0 < making_fraction < 1:
        raise DataError(f"making fraction must be between 0 and 1, got {making_fraction}")
    strata: dict[tuple[str, object], list[Item]] = defaultdict(list)
    for item in items:
        strata[(item.metadata.get("subject"), item.metadata.get("level"))].append(item)
    making: list[Item] = []
    test: list[Item] = []
    for key in sorted(strata, key=str):
        group = sorted(strata[key], key=lambda it: it.id)
        random.Random(f"{seed}:{key[0]}:{key[1]}").shuffle(group)
        k = round(len(group) * making_fraction)
        making.extend(group[:k])
        test.extend(group[k:])
    return sorted(making, key=lambda it: it.id), sorted(test, key=lambda it: it.id)


def _with_split(items: list[Item], split: Split, **meta: object) -> tuple[Item, ...]:
    return tuple(replace(it, split=split, metadata={**it.metadata, **meta}) for it in items)


def load_math(
    path: str | Path,
    train_path: str | Path | None = None,
    *,
    making_fraction: float = 0.2,
    seed: int = 0,
) -> Dataset:
    """Load MATH for the experiments.

    Args:
        path: a MATH-500 style JSONL file, or a Hendrycks tree root (``<root>/test/...``,
            with ``<root>/train/...`` used for making when present).
        train_path: a training split (tree root or JSONL) for making, if not in ``path``.
        making_fraction, seed: used only without a training split, to cut ``path`` in two.

    Returns:
        A `Dataset`; ``comparable`` is False when ``path`` had to be split.
    """
    p = existing(path)
    test = _read_any(p, "test", "test")
    sources = [str(p)]
    train: list[Item] | None = None
    if train_path is not None:
        tp = existing(train_path)
        train = _read_any(tp, "train", "train")
        sources.append(str(tp))
    elif p.is_dir() and (p / "train").is_dir():
        train = read_math_tree(p, "train", "train")
    if train is not None:
        overlap = {it.id for it in train} & {it.id for it in test}
        if overlap:
            raise DataError(
                f"{sources[-1]}: {len(overlap)} training problems are also test "
                f"problems (e.g. {sorted(overlap)[0]})"
            )
        return Dataset("math", tuple(train), tuple(test), True, "", tuple(sources))
    making, rest = stratified_split(test, making_fraction, seed)
    split_meta = {
        "split_seed": seed,
        "making_fraction": making_fraction,
        "comparable_to_published": False,
    }
    return Dataset(
        "math",
        _with_split(making, "train", **split_meta),
        _with_split(rest, "test", **split_meta),
        False,
        f"{NOT_COMPARABLE} (seed {seed}, {len(making)} making / {len(rest)} test)",
        tuple(sources),
    )
