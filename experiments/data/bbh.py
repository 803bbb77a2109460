"""LATM's BIG-Bench tasks: JSONL rows ``task, idx, latm_split, input, target`` per task file.

Rows 0-4 are LATM's training rows, 5-9 its validation rows (both for tool making only),
10-249 the test rows. ``dyck_languages`` rows carry LATM's space-stripped ``latm_input`` /
``latm_target``, which are what LATM's tools see and what its evaluation compares.
"""

from __future__ import annotations

import re
from pathlib import Path

from experiments.data.records import (
    DataError,
    Dataset,
    Item,
    Split,
    existing,
    read_jsonl,
    require,
)

FIELDS = ("task", "idx", "input", "target")
_SPLIT_NAMES = {"val": "validation", "dev": "validation"}
_OPTION = re.compile(r"^\(([A-Z])\)\s*(.*)$")


def latm_split(idx: int) -> Split:
    """LATM's split of a task's rows: 0-4 train, 5-9 validation, the rest test."""
    return "train" if idx < 5 else "validation" if idx < 10 else "test"


def parse_options(text: str) -> tuple[str, ...] | None:
    """The ``(A) ...`` lines after ``Options:`` in a question, or None if it has none."""
    if "Options:" not in text:
        return None
    lines = text.split("Options:", 1)[1].strip().splitlines()
    options = tuple(line.strip() for line in lines if _OPTION.match(line.strip()))
    return options or None


def read_bbh(path: str | Path) -> list[Item]:
    """Read one LATM BIG-Bench task file (JSONL)."""
    p = existing(path)
    items: list[Item] = []
    seen: set[tuple[str, int]] = set()
    for number, row in read_jsonl(p):
        where = f"{p}:{number}"
        require(row, FIELDS, where)
        idx = row["idx"]
        if not isinstance(idx, int) or idx < 0:
            raise DataError(f"{where}: idx must be a non-negative integer, got {idx!r}")
        split = latm_split(idx)
        declared = row.get("latm_split", split)
        if _SPLIT_NAMES.get(declared, declared) != split:
            raise DataError(
                f"{where}: latm_split {row['latm_split']!r} does not match idx {idx} "
                f"(LATM: 0-4 train, 5-9 validation, 10+ test)"
            )
        task = str(row["task"])
        if (task, idx) in seen:
            raise DataError(f"{where}: duplicate row {task} idx {idx}")
        seen.add((task, idx))
        question = str(row.get("latm_input") or row["input"])
        gold = str(row["latm_target"] if row.get("latm_target") is not None else row["target"])
        items.append(
            Item(
                id=f"{task}:{idx}",
                dataset="bbh",
                question=question,
                gold=gold,
                split=split,
                choices=parse_options(question),
                metadata={
                    "task": task,
                    "idx": idx,
                    "family": f"bbh:{task}",
                    "input": row["input"],
                    "target": row["target"],
                },
            )
        )
    if not items:
        raise DataError(f"{p}: no rows in the file")
    return items


def load_bbh(path: str | Path, tasks: tuple[str, ...] | None = None) -> Dataset:
    """Load LATM's BIG-Bench tasks from a folder of ``<task>.jsonl`` files (or one file).

    ``tasks`` picks task names (default: every file). Making gets rows 0-9, test rows 10+.
    """
    p = existing(path)
    if p.is_dir():
        files = sorted(p.glob("*.jsonl"))
        if tasks is not None:
            missing = [t for t in tasks if not (p / f"{t}.jsonl").is_file()]
            if missing:
                raise DataError(f"{p}: no task file {missing[0]}.jsonl")
            files = [p / f"{t}.jsonl" for t in tasks]
        if not files:
            raise DataError(f"{p}: no <task>.jsonl files")
    else:
        files = [p]
    items = [it for f in files for it in read_bbh(f)]
    return Dataset(
        "bbh",
        tuple(it for it in items if it.split != "test"),
        tuple(it for it in items if it.split == "test"),
        True,
        "",
        tuple(str(f) for f in files),
    )
