"""Tasks: the input of a batch job, one JSON object per line (JSONL).

The format is the pydantic model `TaskModel`; its JSON schema ships as package data
(``maker/schemas/task.schema.json``, see docs/tasks.md). `load_tasks` reads a file and returns
the tasks it could read *and* one `TaskError` per bad line (line number, field, message): a
malformed line never stops the rest of the batch.

>>> tasks, errors = load_tasks(example_tasks_path())
>>> len(tasks) >= 6, errors
(True, [])
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from maker.tasks.checks import CHECK_KEY, UnknownCheckError, answer_check
from sandbox import ExampleCase

Split = Literal["train", "validation", "test"]
SCHEMA_ID = "https://github.com/tool-maker/schemas/task.schema.json"
MAX_LINE_BYTES = 1_000_000


class ExampleModel(BaseModel):
    """One worked example: the tool's keyword arguments and the value it must return."""

    model_config = ConfigDict(extra="forbid")

    input: dict[str, Any] = Field(description="Keyword arguments of the tool call.")
    expected: Any = Field(description="The value the tool must return for `input`.")


class TaskModel(BaseModel):
    """One task of a batch job (one line of a tasks JSONL file)."""

    model_config = ConfigDict(extra="forbid", title="Task")

    id: str = Field(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9_.:\-/]+$",
        description="Unique id within the file (letters, digits, _ . : - /).",
    )
    text: str = Field(min_length=1, description="The problem statement, as a model reads it.")
    type: str = Field(
        default="general",
        min_length=1,
        max_length=100,
        description="Task family; LATM and CRAFT group tasks by it.",
    )
    examples: list[ExampleModel] = Field(
        default_factory=list,
        description="Worked examples (tool kwargs -> expected value); the maker never sees "
        "them: they are held out for validation.",
    )
    answer: Any = Field(
        default=None, description="Gold answer of the problem itself, if known (optional)."
    )
    split: Split = Field(
        default="train",
        description="train: gold answers may steer repair; validation/test: "
        "never shown to the maker.",
    )
    metadata: dict[str, Any] = Field(
        default_factory=dict,
        description="Free-form data carried along (source, level). `answer_check` names an "
        "installed answer check (entry point group maker.answer_checks) that grades answers "
        "to this task beside plain value and text comparison (e.g. `math`).",
    )

    @field_validator("metadata")
    @classmethod
    def _known_check(cls, value: dict[str, Any]) -> dict[str, Any]:
        name = value.get(CHECK_KEY)
        if name is not None:
            if not isinstance(name, str) or not name:
                raise ValueError(f"{CHECK_KEY} must be the name of an answer check")
            try:
                answer_check(name)
            except UnknownCheckError as exc:
                raise ValueError(str(exc)) from None
        return value

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value


@dataclass(frozen=True)
class Task:
    """One task, as the rest of the engine sees it (frozen, JSON round-trip)."""

    id: str
    text: str
    type: str = "general"
    examples: tuple[ExampleCase, ...] = ()  # worked examples, in the engine's one record
    answer: Any = None
    split: Split = "train"
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def has_gold(self) -> bool:
        """Whether the gold answer may be used to steer the maker (train split only)."""
        return self.answer is not None and self.split == "train"

    def arg_names(self) -> tuple[str, ...]:
        """Keyword names the examples call the tool with (in first-seen order)."""
        names: dict[str, None] = {}
        for ex in self.examples:
            names.update(dict.fromkeys(ex.input))
        return tuple(names)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "type": self.type,
            "examples": [e.to_json() for e in self.examples],
            "answer": self.answer,
            "split": self.split,
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Task:
        """Build a task from a dict; raises pydantic `ValidationError` when it is malformed."""
        m = TaskModel.model_validate(dict(data))
        return cls(
            id=m.id,
            text=m.text,
            type=m.type,
            examples=tuple(ExampleCase(dict(e.input), e.expected) for e in m.examples),
            answer=m.answer,
            split=m.split,
            metadata=dict(m.metadata),
        )


@dataclass(frozen=True)
class TaskError:
    """A line of a tasks file that could not be read: where, which field, and why."""

    line: int
    field: str
    message: str
    path: str = ""

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.path else f"line {self.line}"
        return f"{where}: {self.field}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": self.message, "path": self.path}


def _field_of(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(line)"


def parse_line(text: str, line: int, path: str = "") -> Task | list[TaskError]:
    """Parse one JSONL line into a `Task`, or the errors that say what is wrong with it."""
    if len(text.encode("utf-8", "replace")) > MAX_LINE_BYTES:
        return [TaskError(line, "(line)", f"longer than {MAX_LINE_BYTES} bytes", path)]
    try:
        data = json.loads(text)
    except ValueError as exc:
        msg = getattr(exc, "msg", str(exc))
        col = getattr(exc, "colno", None)
        return [
            TaskError(
                line,
                "(json)",
                f"not valid JSON: {msg}" + (f" at column {col}" if col else ""),
                path,
            )
        ]
    if not isinstance(data, dict):
        return [
            TaskError(line, "(json)", f"expected a JSON object, got {type(data).__name__}", path)
        ]
    try:
        return Task.from_json(data)
    except ValidationError as exc:
        return [TaskError(line, _field_of(e["loc"]), e["msg"], path) for e in exc.errors()]


def parse_lines(lines: Iterable[str], path: str = "") -> tuple[list[Task], list[TaskError]]:
    """Parse JSONL text lines (blank lines and lines starting with ``#`` are skipped)."""
    tasks: list[Task] = []
    errors: list[TaskError] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(lines, 1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        parsed = parse_line(text, number, path)
        if isinstance(parsed, list):
            errors.extend(parsed)
        elif parsed.id in seen:
            errors.append(
                TaskError(
                    number,
                    "id",
                    f"duplicate id {parsed.id!r} (first on line {seen[parsed.id]})",
                    path,
                )
            )
        else:
            seen[parsed.id] = number
            tasks.append(parsed)
    return tasks, errors


def load_tasks(path: str | Path) -> tuple[list[Task], list[TaskError]]:
    """Read a tasks JSONL file: the valid tasks, and one error per problem with a bad line.

    Raises `OSError` only when the file itself cannot be read.
    """
    p = Path(path)
    with p.open(encoding="utf-8", errors="replace") as f:
        return parse_lines(f, str(p))


def dump_tasks(tasks: Iterable[Task], path: str | Path) -> Path:
    """Write tasks as JSONL (one object per line)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with p.open("w", encoding="utf-8") as f:
        for t in tasks:
            f.write(json.dumps(t.to_json(), ensure_ascii=False) + "\n")
    return p


def task_schema() -> dict[str, Any]:
    """The JSON schema of one task line, generated from `TaskModel`."""
    schema = TaskModel.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def shipped_schema() -> dict[str, Any]:
    """The schema shipped as package data (kept equal to `task_schema()` by a test)."""
    text = resources.files("maker.schemas").joinpath("task.schema.json").read_text("utf-8")
    return json.loads(text)


def example_tasks_path() -> Path:
    """The small example task file shipped with the package."""
    return Path(str(resources.files("maker.data").joinpath("example_tasks.jsonl")))
