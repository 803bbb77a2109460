"""The shared steps every strategy uses (CREATOR too): records, bounded retries, judging."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from library.verdict import Failure, Verdict
from maker.make import Options
from maker.make.creator import initial_state as creator_state
from maker.make.latm import initial_state as latm_state
from maker.make.steps import judge, rejection, retry_or_give_up, take_draft
from maker.tasks import Task
from maker.text.drafts import Rejection
from sandbox import DEFAULT_POLICY

TASK = Task.from_json(
    {
        "id": "gcd-1",
        "type": "gcd",
        "split": "train",
        "answer": 6,
        "text": "What is the gcd of 12 and 18?",
        "examples": [{"input": {"a": 4, "b": 6}, "expected": 2}],
    }
)
DRAFT = {"name": "gcd", "source": "def gcd(a: int, b: int) -> int: ..."}


def ctx(**options: Any) -> Any:
    return SimpleNamespace(options=Options(**options))


def test_a_record_names_a_creator_task_or_a_task_type() -> None:
    one = rejection(creator_state(TASK), "decide", "bad_call", "no call", source="src")
    assert one["task_id"] == "gcd-1" and "task_type" not in one and one["source"] == "src"
    per_type = rejection(latm_state("gcd", [TASK]), "verify", "validation", "x")
    assert per_type["task_type"] == "gcd" and "task_id" not in per_type


def test_an_unreadable_reply_is_asked_again_then_the_unit_gives_up() -> None:
    state = {**creator_state(TASK), "draft": DRAFT}
    again = retry_or_give_up(
        state,
        ctx(max_retries=1),
        "decide",
        "no call of gcd",
        "hi",
        reason="bad_call",
        instruction="one line",
        source=DRAFT["source"],
    )
    assert again["next"] == "decide" and again["retries"] == {"decide": 1}
    assert again["last_reply"]["instruction"] == "one line"
    assert again["rejections"][0]["reason"] == "bad_call"
    assert again["rejections"][0]["source"] == DRAFT["source"]
    state = {**state, "retries": again["retries"]}
    done = retry_or_give_up(
        state, ctx(max_retries=1), "decide", "no call of gcd", "hi", reason="bad_call"
    )
    assert done["status"] == "rejected" and done["next"] == "end"
    assert (
        done["reason"] == "decide:bad_call: no call of gcd (after 1 more attempt(s) with feedback)"
    )
    terminal = retry_or_give_up(state, ctx(), "create", Rejection("forbidden_import", "os"))
    assert terminal["status"] == "rejected" and terminal["reason"].startswith("create:")


def test_creator_and_latm_judge_a_verdict_the_same_way() -> None:
    failed = Verdict(
        False, recoverable=True, failures=(Failure("held_out", "held_out[0]", "expected 2, got 3"),)
    )
    for state, stage in [
        ({**creator_state(TASK), "draft": DRAFT}, "validate"),
        ({**latm_state("gcd", [TASK]), "draft": DRAFT}, "verify"),
    ]:
        out = judge(state, ctx(max_repairs=1), failed, on_pass="publish", stage=stage)
        assert out["next"] == "repair" and out["rejections"][0]["stage"] == stage
        assert out["rejections"][0]["source"] == DRAFT["source"]
        spent = judge(
            {**state, "repairs": 1}, ctx(max_repairs=1), failed, on_pass="publish", stage=stage
        )
        assert spent["status"] == "rejected"
        assert spent["reason"] == "validation:held_out (repairs exhausted): expected 2, got 3"


def test_a_repair_reply_keeps_the_repaired_tools_name_as_its_entry() -> None:
    reply = (
        "```python\ndef gcd(a: int, b: int) -> int:\n"
        '    """Greatest common divisor."""\n'
        "    while b:\n        a, b = b, a % b\n    return a\n\n\n"
        "def held_out():\n    pass\n\n\n"
        "def gcd_held_out(a: int, b: int) -> int:\n    return gcd(a, b)\n```"
    )
    state = {**creator_state(TASK), "draft": DRAFT}
    context = SimpleNamespace(options=Options(), sandbox=SimpleNamespace(policy=DEFAULT_POLICY))
    fixed = take_draft(state, context, reply, "repair", on_ok="verify", usage={}, count_repair=True)
    assert fixed["next"] == "verify" and fixed["draft"]["name"] == "gcd"
    # a first proposal has no tool to keep: the same reply is ambiguous and asked again
    first = take_draft(state, context, reply, "propose", on_ok="verify", usage={})
    assert first["next"] == "propose"
    assert first["rejections"][0]["reason"] == "multiple_entry_functions"


def test_the_type_text_names_each_keyword_with_its_shape_never_its_values() -> None:
    # the real 1.5B, told only the name `values`, abstracted a CRAFT tool that read
    # row["books"] where every case passes a list of numbers
    from maker.make.steps import type_text
    from maker.tasks import Task

    ids = iter(range(100))

    def task(split: str, values: object) -> Task:
        return Task.from_json(
            {
                "id": f"t-{split}-{next(ids)}",
                "type": "table_range",
                "text": "What is the range of the numbers?",
                "split": split,
                "examples": [{"input": {"values": values, "unit": "books"}, "expected": 1}],
            }
        )

    text = type_text("table_range", [task("train", [3, 9, 4]), task("validation", [7.5, 1])])
    assert "keyword arguments: values (a list of numbers), unit (a string)." in text
    assert "9" not in text and "7.5" not in text and "books" not in text
    mixed = type_text("t", [task("train", [3]), task("train", "3 4"), task("test", {"a": 1})])
    assert "values (a list of numbers or a string)" in mixed  # the test split is never read
