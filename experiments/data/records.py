"""Benchmark items: one frozen record per problem, dataset splits, and conversion to maker tasks."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from experiments.errors import ExperimentError
from maker.tasks import Task

Split = Literal["train", "validation", "test"]
TASK_HIDDEN = frozenset({"solution"})  # worked solutions stay out of the maker's tasks


class DataError(ExperimentError, ValueError):
    """A dataset path or file the loaders cannot use; the message names the file (and line)."""


@dataclass(frozen=True)
class Item:
    """One benchmark problem, whatever its source layout.

    ``split`` says who may see it: ``train``/``validation`` items are for tool making only,
    ``test`` items for evaluation only. ``choices`` is ``None`` for free-answer items.
    """

    id: str
    dataset: str
    question: str
    gold: str
    split: Split
    choices: tuple[str, ...] | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "dataset": self.dataset,
            "question": self.question,
            "gold": self.gold,
            "split": self.split,
            "choices": list(self.choices) if self.choices is not None else None,
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Item:
        choices = data.get("choices")
        return cls(
            id=data["id"],
            dataset=data["dataset"],
            question=data["question"],
            gold=data["gold"],
            split=data["split"],
            choices=tuple(choices) if choices is not None else None,
            metadata=dict(data.get("metadata") or {}),
        )

    def to_task(self) -> Task:
        """This item in the maker's task format (docs/tasks.md), for `maker make`.

        The task id is ``<dataset>:<id>``, its type the task family LATM/CRAFT group by
        (``metadata["family"]``), its answer the gold answer. Only ``train`` tasks let the
        gold answer steer the maker; ``test`` items should never reach tool making at all.
        Reference solutions (``metadata["solution"]``) are left out.
        """
        text = self.question
        if self.choices and "Options:" not in text:
            text += "\nOptions: " + "; ".join(self.choices)
        meta = {"dataset": self.dataset, "item_id": self.id}
        meta.update((k, v) for k, v in self.metadata.items() if k not in TASK_HIDDEN)
        if self.choices is not None:
            meta["choices"] = list(self.choices)
        return Task.from_json(
            {
                "id": f"{self.dataset}:{self.id}",
                "text": text,
                "type": str(self.metadata.get("family") or self.dataset),
                "answer": self.gold,
                "split": self.split,
                "metadata": meta,
            }
        )


@dataclass(frozen=True)
class Dataset:
    """A loaded benchmark: the items tool making may see, and the items evaluation uses.

    ``comparable`` is False when the split is our own (e.g. MATH-500 cut in two), so its
    figures must not be set beside published ones; ``note`` says why.
    """

    name: str
    making: tuple[Item, ...]
    test: tuple[Item, ...]
    comparable: bool = True
    note: str = ""
    sources: tuple[str, ...] = ()

    def tasks(self) -> list[Task]:
        """The making items as maker tasks (what `maker make` may consume)."""
        return [item.to_task() for item in self.making]

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "making": len(self.making),
            "test": len(self.test),
            "comparable": self.comparable,
            "note": self.note,
            "sources": list(self.sources),
        }


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) from a JSONL file; a bad line raises `DataError` naming it."""
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with handle:
        for number, raw in enumerate(handle, 1):
            text = raw.strip()
            if not text:
                continue
            try:
                obj = json.loads(text)
            except ValueError as exc:
                msg = getattr(exc, "msg", str(exc))
                raise DataError(f"{path}:{number}: not valid JSON ({msg})") from None
            if not isinstance(obj, dict):
                raise DataError(
                    f"{path}:{number}: expected a JSON object, got {type(obj).__name__}"
                )
            yield number, obj


def read_json(path: Path) -> Any:
    """Read one JSON document; a bad file raises `DataError` naming it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise DataError(f"{path}: not UTF-8 text") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        where = f"{path}:{line}" if line else str(path)
        raise DataError(f"{where}: not valid JSON ({getattr(exc, 'msg', exc)})") from None


def require(obj: Mapping[str, Any], keys: tuple[str, ...], where: str) -> None:
    """Raise `DataError` at ``where`` if a required field is missing or not a string/number."""
    for key in keys:
        if key not in obj or obj[key] is None:
            raise DataError(f"{where}: missing field {key!r}")


def existing(path: str | Path) -> Path:
    """The path as a `Path`, or a `DataError` saying it does not exist."""
    p = Path(path)
    if not p.exists():
        raise DataError(f"{p}: no such file or directory")
    return p
