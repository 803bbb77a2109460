"""Task input: the JSONL task format, its schema, and the shipped example tasks."""

from maker.tasks.loader import (
    MAX_LINE_BYTES,
    SCHEMA_ID,
    ExampleModel,
    Task,
    TaskError,
    TaskModel,
    dump_tasks,
    example_tasks_path,
    load_tasks,
    parse_line,
    parse_lines,
    shipped_schema,
    task_schema,
)

__all__ = [
    "MAX_LINE_BYTES",
    "SCHEMA_ID",
    "ExampleModel",
    "Task",
    "TaskError",
    "TaskModel",
    "dump_tasks",
    "example_tasks_path",
    "load_tasks",
    "parse_line",
    "parse_lines",
    "shipped_schema",
    "task_schema",
]
