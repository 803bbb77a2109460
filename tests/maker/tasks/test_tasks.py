"""Task files: schema, loading, malformed lines reported with line and field."""

from __future__ import annotations

import json
from pathlib import Path

from maker.tasks import Task, load_tasks, shipped_schema, task_schema
from maker.tasks import example_tasks_path as examples_path

GOOD = {
    "id": "t1",
    "text": "What is 2 + 3?",
    "type": "add",
    "answer": 5,
    "examples": [{"input": {"a": 1, "b": 2}, "expected": 3}],
}


def write(tmp_path: Path, lines: list[str]) -> Path:
    p = tmp_path / "tasks.jsonl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_shipped_schema_matches_the_model() -> None:
    assert shipped_schema() == json.loads(json.dumps(task_schema(), sort_keys=True))


def test_shipped_example_tasks_load_cleanly() -> None:
    tasks, errors = load_tasks(examples_path())
    assert errors == []
    assert len(tasks) == 6
    assert len({t.type for t in tasks}) == 3
    assert {t.split for t in tasks} == {"train", "validation", "test"}


def test_malformed_lines_name_line_and_field_and_the_rest_loads(tmp_path: Path) -> None:
    lines = [
        json.dumps(GOOD),  # 1 ok
        "{not json",  # 2 bad JSON
        json.dumps({**GOOD, "id": "t3", "split": "dev"}),  # 3 bad split
        "",  # 4 blank: skipped
        json.dumps({**GOOD, "id": "t5", "examples": [{"input": 3, "expected": 1}]}),  # 5
        json.dumps({"id": "t6"}),  # 6 missing text
        json.dumps({**GOOD, "id": "t7", "colour": "red"}),  # 7 unknown field
        json.dumps(GOOD),  # 8 duplicate id
        "[1, 2]",  # 9 not an object
        json.dumps({**GOOD, "id": "t10", "split": "test"}),  # 10 ok
    ]
    tasks, errors = load_tasks(write(tmp_path, lines))
    assert [t.id for t in tasks] == ["t1", "t10"]
    found = {(e.line, e.field) for e in errors}
    assert (2, "(json)") in found
    assert (3, "split") in found
    assert (5, "examples[0].input") in found
    assert (6, "text") in found
    assert (7, "colour") in found
    assert (8, "id") in found
    assert (9, "(json)") in found
    assert all(str(tmp_path) in str(e) and f":{e.line}:" in str(e) for e in errors)


def test_task_round_trips_and_gold_only_on_train() -> None:
    task = Task.from_json(GOOD)
    assert Task.from_json(task.to_json()) == task
    assert task.has_gold and task.arg_names() == ("a", "b")
    assert not Task.from_json({**GOOD, "split": "test"}).has_gold


def test_a_task_naming_an_answer_check_that_is_not_installed_is_a_bad_line(
    tmp_path: Path,
) -> None:
    lines = [
        json.dumps({**GOOD, "metadata": {"answer_check": "math"}}),  # installed by this package
        json.dumps({**GOOD, "id": "t2", "metadata": {"answer_check": "unit"}}),
        json.dumps({**GOOD, "id": "t3", "metadata": {"answer_check": 3}}),
    ]
    tasks, errors = load_tasks(write(tmp_path, lines))
    assert [t.id for t in tasks] == ["t1"] and tasks[0].metadata == {"answer_check": "math"}
    assert [(e.line, e.field) for e in errors] == [(2, "metadata"), (3, "metadata")]
    assert "answer check 'unit' is not installed (installed: math, tabmwp)" in str(errors[0])
