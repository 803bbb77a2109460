"""No module-level mutable state: caches, memos and indexes belong to the job that made them,
and nothing patches the standard library."""

from __future__ import annotations

import ast
from dataclasses import replace
from pathlib import Path

from maker.make import Context

ROOT = Path(__file__).resolve().parents[1]
HOST_PACKAGES = ("maker", "library", "experiments", "sandbox")


def test_host_code_parses_through_the_thread_safe_helper() -> None:
    """`ast.parse` is not thread-safe before 3.13; host code calls `sandbox.parsing.parse_source`
    (worker modules, `sandbox/_*.py`, run single-threaded and may parse directly)."""
    direct = []
    for package in HOST_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if path.name.startswith("_") and path.parent.name == "sandbox":
                continue
            if path.name == "parsing.py" and path.parent.name == "sandbox":
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Attribute)
                    and node.attr == "parse"
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "ast"
                ):
                    direct.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not direct, direct


def test_running_a_job_leaves_ast_parse_alone() -> None:
    original = ast.parse
    import maker.jobs.runner  # noqa: F401 - importing and using the runner patches nothing

    assert ast.parse is original and not hasattr(ast.parse, "_maker_locked")


def test_each_context_has_its_own_memo_and_dedup_index() -> None:
    a = Context(client=None, sandbox=None, library=None)  # type: ignore[arg-type]
    b = Context(client=None, sandbox=None, library=None)  # type: ignore[arg-type]
    assert a.memo is not None and a.memo is not b.memo and a.dedup is not b.dedup


def test_a_parsed_draft_is_not_checked_twice_but_a_hand_made_one_is() -> None:
    from maker.check.validation import validate
    from maker.text.drafts import ToolDraft, check_key, parse_reply
    from sandbox import DEFAULT_POLICY

    reply = "```python\ndef double(x: int) -> int:\n    '''Twice x.'''\n    return 2 * x\n```"
    draft = parse_reply(reply)
    assert isinstance(draft, ToolDraft)
    assert draft.checked == check_key(draft.source, "double", DEFAULT_POLICY)
    edited = replace(draft, source="import os\n" + draft.source)  # a copy with another source
    verdict = validate(None, edited, examples=[], policy=DEFAULT_POLICY)  # type: ignore[arg-type]
    assert not verdict.passed and verdict.failures[0].kind == "static"
    forged = ToolDraft(
        name="double",
        signature="def double(x: int) -> int",
        docstring="",
        source="import os\ndef double(x: int) -> int:\n    return 2 * x\n",
    )
    assert forged.checked == ""
    verdict = validate(None, forged, examples=[], policy=DEFAULT_POLICY)  # type: ignore[arg-type]
    assert not verdict.passed and verdict.failures[0].kind == "static"
