"""TabMWP loaders: PromptPG's ``problems_*.json`` (a dict id -> problem) and JSONL files.

Making uses the official ``dev1k`` split, evaluation the ``test1k`` split.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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

FIELDS = ("question", "table", "answer", "ques_type", "ans_type")
MAKING_NAMES = ("problems_dev1k.json", "tabmwp_dev1000.jsonl", "problems_dev1k.jsonl")
TEST_NAMES = ("problems_test1k.json", "tabmwp_test1000.jsonl", "problems_test1k.jsonl")


def question_text(row: dict[str, Any]) -> str:
    """The problem as a model reads it: table title, table, question (and unit), as PromptPG."""
    table = str(row["table"])
    title = row.get("table_title")
    question = str(row["question"])
    if row.get("unit") and row.get("ans_type") in ("integer_number", "decimal_number"):
        question += f" (Unit: {row['unit']})"
    head = f"Table: {title}\n{table}" if title else f"Table:\n{table}"
    return f"{head}\n\nQuestion: {question}"


def _item(pid: str, row: dict[str, Any], split: Split, where: str) -> Item:
    require(row, FIELDS, where)
    choices = row.get("choices")
    if choices is not None and not (isinstance(choices, list) and choices):
        raise DataError(f"{where}: choices must be a non-empty list or null")
    return Item(
        id=pid,
        dataset="tabmwp",
        question=question_text(row),
        gold=str(row["answer"]),
        split=split,
        choices=tuple(str(c) for c in choices) if choices else None,
        metadata={
            "ques_type": row["ques_type"],
            "ans_type": row["ans_type"],
            "unit": row.get("unit"),
            "grade": row.get("grade"),
            "table_for_pd": row.get("table_for_pd"),
            "family": f"tabmwp:{row['ans_type']}",
            "answer_check": "tabmwp",  # tool making checks answers with the TabMWP grader
            "source_split": row.get("split"),
        },
    )


def read_tabmwp(path: str | Path, split: Split) -> list[Item]:
    """Read one TabMWP file: PromptPG's JSON dict (id -> problem) or JSONL rows with ``id``."""
    p = existing(path)
    items: list[Item] = []
    if p.suffix == ".json":
        data = read_json(p)
        if not isinstance(data, dict):
            raise DataError(f"{p}: expected a JSON object mapping problem id to problem")
        for pid, row in data.items():
            if not isinstance(row, dict):
                raise DataError(f"{p}: problem {pid!r} is not a JSON object")
            items.append(_item(str(pid), row, split, f"{p}: problem {pid}"))
    else:
        seen: set[str] = set()
        for number, row in read_jsonl(p):
            require(row, ("id",), f"{p}:{number}")
            pid = str(row["id"])
            if pid in seen:
                raise DataError(f"{p}:{number}: duplicate id {pid!r}")
            seen.add(pid)
            items.append(_item(pid, row, split, f"{p}:{number}"))
    if not items:
        raise DataError(f"{p}: no problems in the file")
    return items


def _find(root: Path, names: tuple[str, ...]) -> Path | None:
    return next((root / n for n in names if (root / n).is_file()), None)


def load_tabmwp(path: str | Path, making_path: str | Path | None = None) -> Dataset:
    """Load TabMWP: ``path`` is the test1k file, or a folder holding the dev1k and test1k files
    under PromptPG's or this project's names; ``making_path`` the dev1k file if elsewhere.

    Without a dev1k file the dataset has no making items (evaluation only).
    """
    p = existing(path)
    if p.is_dir():
        test_file = _find(p, TEST_NAMES)
        if test_file is None:
            raise DataError(f"{p}: no TabMWP test file (looked for {', '.join(TEST_NAMES)})")
        making_file = Path(making_path) if making_path is not None else _find(p, MAKING_NAMES)
    else:
        test_file = p
        making_file = Path(making_path) if making_path is not None else None
    test = read_tabmwp(test_file, "test")
    making = read_tabmwp(making_file, "train") if making_file is not None else []
    overlap = {it.id for it in making} & {it.id for it in test}
    if overlap:
        raise DataError(
            f"{making_file}: {len(overlap)} problems are also in {test_file} "
            f"(e.g. id {sorted(overlap)[0]})"
        )
    sources = tuple(str(f) for f in (making_file, test_file) if f is not None)
    return Dataset(
        "tabmwp",
        tuple(making),
        tuple(test),
        True,
        "" if making else "no dev1k file: evaluation only",
        sources,
    )
