"""CRAFT: solve train problems with programs (kept only when they reproduce the gold answer),
abstract the verified solutions into a generic tool, validate it on its source problems and the
type's held-out examples, de-duplicate against the library, publish."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from library import Library, MemoryStore, NewTool
from maker.llm import ChatClient, RoleConfig, ScriptedModel
from maker.make import Context, Options
from maker.make.craft import (
    STRATEGY,
    abstract,
    check_solution,
    format_solutions,
    group_solutions,
    held_out_examples,
    initial_state,
    method_features,
    run_solution,
    solve,
    source_failures,
    usage_examples,
    verify,
)
from maker.tasks import Task
from maker.text.drafts import parse_reply
from sandbox import ExampleCase, Sandbox


def _tasks() -> list[Task]:
    return [
        Task(
            "gcd-1",
            "What is the greatest common divisor of 84 and 36?",
            "gcd",
            examples=(ExampleCase({"a": 12, "b": 18}, 6),),
            answer=12,
        ),
        Task(
            "gcd-2",
            "Find the largest number dividing both 45 and 27.",
            "gcd",
            examples=(ExampleCase({"a": 0, "b": 9}, 9),),
            answer=9,
        ),
        Task(
            "gcd-3",
            "What is the GCD of 100 and 75?",
            "gcd",
            split="validation",
            examples=(ExampleCase({"a": 100, "b": 75}, 25),),
            answer=25,
        ),
        Task(
            "gcd-4",
            "What is the GCD of 8 and 6?",
            "gcd",
            split="test",
            examples=(ExampleCase({"a": 8, "b": 6}, 2),),
            answer=2,
        ),
    ]


def _solution(a: int, b: int, *, fudge: int = 0) -> str:
    return f'''```python solution
def solution() -> int:
    """The greatest common divisor of {a} and {b}."""
    a, b = {a}, {b}
    while b:
        a, b = b, a % b
    return a + {fudge}
```'''


SOL_1 = _solution(84, 36)
SOL_2 = _solution(45, 27)
SOL_2_WRONG = _solution(45, 27, fudge=1)

TOOL = '''```python tool
def gcd(a: int, b: int) -> int:
    """Greatest common divisor of two non-negative integers (gcd(0, 0) is 0)."""
    while b:
        a, b = b, a % b
    return abs(a)
```

```python tests
def test_source_problems():
    assert gcd(84, 36) == 12
    assert gcd(45, 27) == 9
'''
TOOL += "```\n"
# Fails on the held-out examples (gcd(12, 18) is 6, gcd(100, 75) is 25).
WRONG_TOOL = TOOL.replace("return abs(a)", "return abs(a) if a % 3 else 3")
NO_SOURCE_TESTS = TOOL.split("```python tests")[0]

HOSTILE_SOLUTION = '''```python solution
import subprocess

def solution() -> int:
    """Solve it."""
    return int(subprocess.check_output(["echo", "12"]))
```'''

RECURSIVE_TWIN = '''def greatest_common_divisor(x: int, y: int) -> int:
    """Largest integer dividing both x and y (0 when both are 0)."""
    if y == 0:
        return abs(x)
    return greatest_common_divisor(y, x % y)
'''


def _ctx(
    sb: Sandbox, script: list[Any], library: Library | None = None, **options: Any
) -> tuple[Context, ScriptedModel]:
    model = ScriptedModel(script)
    client = ChatClient(model, RoleConfig("maker", model="scripted"), local=True)
    opts = Options(**{"max_examples": 10, **options})
    return Context(client, sb, library or Library(MemoryStore()), None, opts), model


def _run(ctx: Context, tasks: list[Task]) -> list[dict[str, Any]]:
    graph = STRATEGY.build(ctx).compile()
    return [graph.invoke(u.state, {"recursion_limit": 60}) for u in STRATEGY.units(tasks)]


# -- plain functions -------------------------------------------------------------------------
def test_initial_state_queues_only_train_problems_with_gold() -> None:
    state = initial_state("gcd", _tasks())
    assert state["queue"] == ["gcd-1", "gcd-2"] and state["next"] == "solve"
    # held out: the examples of train and validation tasks, never the test split
    assert [e["input"] for e in held_out_examples(state)] == [
        {"a": 12, "b": 18},
        {"a": 0, "b": 9},
        {"a": 100, "b": 75},
    ]


def test_group_and_format_solutions() -> None:
    same = "def solution():\n    return gcd_of(12, 18)\n"
    assert group_solutions([same] * 7, 5) == [[0, 1, 2, 3, 4], [5, 6]]
    text = format_solutions(
        [{"problem": "P?", "source": "def solution() -> int: ...", "answer": 12}]
    )
    assert "Problem: P?" in text and "Answer (verified): 12" in text


def test_check_solution_runs_in_sandbox_and_compares_with_gold(sb: Sandbox) -> None:
    ctx, _ = _ctx(sb, [])
    task = _tasks()[0]
    assert check_solution(ctx, parse_reply(SOL_1, entry="solution"), task) is None
    wrong = check_solution(ctx, parse_reply(_solution(84, 36, fudge=2), entry="solution"), task)
    assert wrong is not None and wrong["reason"] == "solve:wrong_answer"
    crash = parse_reply(SOL_1.replace("return a + 0", "return a // 0"), entry="solution")
    assert check_solution(ctx, crash, task)["reason"] == "solve:error"  # type: ignore[index]


def test_solutions_are_checked_with_the_task_answer_checking(sb: Sandbox) -> None:
    # BIG-Bench gold answers are text: "12" for a number, "(B)" for an option
    ctx, _ = _ctx(sb, [])
    text_gold = Task("n", "What is the greatest common divisor of 84 and 36?", "gcd", answer="12")
    assert run_solution(ctx, parse_reply(SOL_1, entry="solution"), text_gold) == (12, None)
    choice = Task("c", "What is gcd(84, 36)?\nOptions:\n(A) 6\n(B) 12", "gcd", answer="(B)")
    assert run_solution(ctx, parse_reply(SOL_1, entry="solution"), choice) == (12, None)
    wrong = Task("w", "What is gcd(84, 36)?\nOptions:\n(A) 12\n(B) 6", "gcd", answer="(B)")
    value, why = run_solution(ctx, parse_reply(SOL_1, entry="solution"), wrong)
    assert value is None and why is not None and why["reason"] == "solve:wrong_answer"


def test_a_task_may_name_its_answer_check(sb: Sandbox) -> None:
    # MATH's gold answers are LaTeX: 5.5 answers "\\frac{11}{2}" under the installed "math"
    # check (experiments' strict grader), not under plain value or text comparison
    half = parse_reply(
        '```python solution\ndef solution() -> float:\n    """Eleven halves."""\n'
        "    return 11 / 2\n```",
        entry="solution",
    )
    plain = Task("p", "What is 11/2?", "math:Algebra", answer=r"\frac{11}{2}")
    assert run_solution(ctx := _ctx(sb, [])[0], half, plain)[0] is None
    checked = replace(plain, metadata={"answer_check": "math"})
    assert run_solution(ctx, half, checked) == (5.5, None)
    wrong = replace(checked, answer=r"\frac{11}{3}")
    assert run_solution(ctx, half, wrong)[1]["reason"] == "solve:wrong_answer"  # type: ignore[index]


def test_source_failures_require_each_gold_answer_in_the_tests() -> None:
    draft = parse_reply(TOOL)
    sols = [{"problem": "84 and 36", "answer": 12}, {"problem": "45 and 27", "answer": 9}]
    assert source_failures(draft, sols) == []
    failures = source_failures(parse_reply(NO_SOURCE_TESTS), sols)
    assert failures[0].name == "source_problems" and "2 source problem" in failures[0].message
    # the line to write, per problem (the real 1.5B, told only which problems, wrote no such
    # test in two repairs of a right Chinese-remainder tool)
    assert "\n    assert gcd(...) == 12  # 84 and 36\n    assert gcd(...) == 9  # 45" in (
        failures[0].message
    )


def test_solve_node_drops_a_wrong_solution(sb: Sandbox) -> None:
    ctx, model = _ctx(sb, [SOL_2_WRONG], solve_samples=1)
    state = {**initial_state("gcd", _tasks()), "queue": ["gcd-2"]}
    update = solve(state, ctx)
    assert model.calls[0].phase == "solve"
    assert update["solutions"] == [] and update["next"] == "end"
    assert update["status"] == "rejected" and update["reason"].startswith(
        "solve:no_verified_solutions: "
    )
    assert update["rejections"][0]["reason"] == "solve:wrong_answer"


def test_missed_solution_is_sampled_again_without_the_gold_answer(sb: Sandbox) -> None:
    crash = SOL_2.replace("return a + 0", "return a // 0")
    ctx, model = _ctx(sb, [SOL_1, SOL_2_WRONG, crash, SOL_2, TOOL], solve_samples=3)
    [state] = _run(ctx, _tasks())
    model.assert_consumed()
    assert [c.phase for c in model.calls] == ["solve"] * 4 + ["abstract"]
    assert [s["task_id"] for s in state["solutions"]] == ["gcd-1", "gcd-2"]
    assert [r["reason"] for r in state["rejections"]] == ["solve:wrong_answer", "solve:error"]
    second, third = model.calls[2].messages, model.calls[3].messages
    assert second[-2]["role"] == "assistant" and "return a + 1" in second[-2]["content"]
    assert "its answer is not correct" in second[-1]["content"] and "10" in second[-1]["content"]
    assert "ZeroDivisionError" in third[-1]["content"] and "return a // 0" in third[-2]["content"]
    for call in model.calls[1:4]:  # gcd-2's gold answer (9) is never shown
        assert "9" not in "".join(m["content"] for m in call.messages[2:])
    assert state["status"] == "accepted"


def test_solve_samples_bound_the_programs_per_problem(sb: Sandbox) -> None:
    ctx, model = _ctx(
        sb,
        [SOL_1, SOL_2_WRONG, SOL_2_WRONG, TOOL.replace("    assert gcd(45, 27) == 9\n", "")],
        solve_samples=2,
    )
    [state] = _run(ctx, _tasks())
    model.assert_consumed()
    assert [c.phase for c in model.calls] == ["solve", "solve", "solve", "abstract"]
    assert [s["task_id"] for s in state["solutions"]] == ["gcd-1"]
    assert [r["reason"] for r in state["rejections"]] == ["solve:wrong_answer"] * 2


def test_abstract_and_verify_nodes(sb: Sandbox) -> None:
    ctx, model = _ctx(sb, [TOOL])
    state = {
        **initial_state("gcd", _tasks()),
        "queue": [],
        "groups": [[0]],
        "group": 0,
        "solutions": [
            {
                "task_id": "gcd-1",
                "problem": _tasks()[0].text,
                "source": "def solution() -> int: ...",
                "answer": 12,
            }
        ],
    }
    update = abstract(state, ctx)
    assert update["next"] == "verify" and model.calls[0].phase == "abstract"
    assert "Answer (verified): 12" in model.calls[0].messages[-1]["content"]
    update = verify({**state, **update}, ctx)
    assert update["verdict"]["passed"] and update["next"] == "publish"


def test_a_tool_named_like_the_one_off_program_is_asked_for_again(sb: Sandbox) -> None:
    # the real 1.5B abstracted a right, general range tool but kept the name `solution`
    named_solution = TOOL.replace("def gcd(", "def solution(").replace("gcd(", "solution(")
    ctx, model = _ctx(sb, [named_solution, TOOL])
    state = {
        **initial_state("gcd", _tasks()),
        "queue": [],
        "groups": [[0]],
        "group": 0,
        "solutions": [
            {"task_id": "gcd-1", "problem": _tasks()[0].text, "source": "...", "answer": 12}
        ],
    }
    update = abstract(state, ctx)
    assert update["next"] == "abstract" and update["rejections"][0]["reason"] == "one_off_name"
    update = abstract({**state, **update}, ctx)
    assert update["next"] == "verify" and update["draft"]["name"] == "gcd"
    assert "named `solution`" in model.calls[1].messages[-1]["content"]


# -- the graph -------------------------------------------------------------------------------
def test_happy_path_drops_wrong_solution_and_publishes(sb: Sandbox) -> None:
    ctx, model = _ctx(
        sb,
        [SOL_1, SOL_2_WRONG, TOOL.replace("    assert gcd(45, 27) == 9\n", "")],
        solve_samples=1,
    )
    [state] = _run(ctx, _tasks())
    model.assert_consumed()
    assert [c.phase for c in model.calls] == ["solve", "solve", "abstract"]
    assert [s["task_id"] for s in state["solutions"]] == ["gcd-1"]
    assert state["rejections"][0]["reason"] == "solve:wrong_answer"
    assert state["rejections"][0]["task_id"] == "gcd-2"
    outcome = STRATEGY.outcome("type:gcd", state)
    assert outcome.status == "accepted" and outcome.tools[0]["ref"] == "gcd@1"
    rec = ctx.library.resolve("gcd")
    assert rec.provenance[0].strategy == "craft"
    assert rec.provenance[0].task_ids == ("gcd-1",)
    assert len(rec.tests.held_out) == 3
    assert {"solve", "abstract"} <= set(ctx.client.ledger.totals("phase"))
    # the unit test that re-solves the source problem is its usage demonstration on the card
    (usage,) = rec.tests.examples
    assert usage["input"] == {"a": 84, "b": 36} and usage["expected"] == 12
    assert usage["question"] == "What is the greatest common divisor of 84 and 36?"
    from maker.use.prompt import tool_card

    assert (
        "Problem: What is the greatest common divisor of 84 and 36?\n"
        '      Reply: {"tool": "gcd", "arguments": {"a": 84, "b": 36}}'
    ) in tool_card(rec)


def test_usage_examples_come_from_asserts_that_re_solve_one_source_problem(sb: Sandbox) -> None:
    ctx, _ = _ctx(sb, [])
    draft = parse_reply(
        TOOL.replace(
            "    assert gcd(45, 27) == 9\n",
            "    assert 9 == gcd(b=27, a=45)\n    assert gcd(3, 6) == 3\n    assert gcd(1, 1) == 1\n",
        )
    )
    solutions = [
        {"task_id": "t1", "problem": "GCD of 84\nand 36?", "answer": 12},
        {"task_id": "t2", "problem": "GCD of 45 and 27?", "answer": 9},
        {"task_id": "t3", "problem": "GCD of 6 and 3?", "answer": 3},
        {"task_id": "t4", "problem": "Another with answer 3?", "answer": 3},
    ]
    got = [(e["question"], e["input"]) for e in usage_examples(ctx, draft, solutions)]
    # either side of ==, keywords or positions; an answer two problems share names neither
    assert got == [
        ("GCD of 84 and 36?", {"a": 84, "b": 36}),
        ("GCD of 45 and 27?", {"a": 45, "b": 27}),
    ]


def test_repair_after_failing_held_out_and_source_checks(sb: Sandbox) -> None:
    ctx, model = _ctx(sb, [SOL_1, SOL_2, WRONG_TOOL, TOOL])
    [state] = _run(ctx, _tasks())
    model.assert_consumed()
    assert [c.phase for c in model.calls] == ["solve", "solve", "abstract", "repair"]
    assert state["status"] == "accepted" and state["repairs"] == 1
    assert state["rejections"][0]["reason"].startswith("validation:")
    assert '"a": 100' not in model.calls[3].messages[-1]["content"]  # held-out hidden


def test_tool_without_source_tests_is_repaired_then_rejected(sb: Sandbox) -> None:
    changed = NO_SOURCE_TESTS.replace("while b:", "while b != 0:")  # still no tests
    no_calls = "```python tests\ndef test_source_problems():\n    assert gcd(1, 1) == 1\n```"
    ctx, model = _ctx(sb, [SOL_1, SOL_2, NO_SOURCE_TESTS, no_calls, changed], max_repairs=1)
    [state] = _run(ctx, _tasks())
    model.assert_consumed()
    assert state["status"] == "rejected" and "repairs exhausted" in state["reason"]
    assert all(
        any(f["name"] == "source_problems" for f in r["failures"])
        for r in state["rejections"]
        if r["stage"] == "verify"
    )
    assert ctx.library.store.list() == []


def test_a_tool_failing_only_for_missing_source_calls_is_asked_for_those_calls(
    sb: Sandbox,
) -> None:
    # the real 1.5B's right Chinese-remainder tool had tests that re-solved none of its source
    # problems; asked for a whole repair, it sent tool and tests back unchanged (twice)
    calls = (
        "```python tests\ndef test_source_problems():\n    assert gcd(84, 36) == 12\n"
        "    assert gcd(a=45, b=27) == 9\n    assert gcd(2, 2) == 5\n```"
    )
    ctx, model = _ctx(sb, [SOL_1, SOL_2, NO_SOURCE_TESTS, calls])
    [state] = _run(ctx, _tasks())
    model.assert_consumed()
    assert state["status"] == "accepted"
    asked = model.calls[-1]
    assert asked.phase == "repair"
    prompt = asked.messages[-1]["content"]
    assert "Problem 1: What is the greatest common divisor of 84 and 36?\nAnswer: 12" in prompt
    assert "assert gcd(...) == ANSWER" in prompt
    rec = ctx.library.resolve("gcd")
    (tests,) = rec.tests.unit_tests
    assert tests.startswith("def test_re_solves_source_problems():\n    assert gcd(84, 36) == 12")
    assert "== 5" not in tests  # only calls stating a source problem's answer
    assert [e["input"] for e in rec.tests.examples] == [{"a": 84, "b": 36}, {"a": 45, "b": 27}]


def test_source_calls_that_miss_are_shown_what_they_did_and_asked_once_more(
    sb: Sandbox,
) -> None:
    # the real 1.5B's calls passed one (remainder, modulus) pair where the tool takes them all
    wrong = "```python tests\ndef test_source_problems():\n    assert gcd(84, 35) == 12\n```"
    right = "```python tests\ndef test_source_problems():\n    assert gcd(84, 36) == 12\n```"
    ctx, model = _ctx(sb, [SOL_1, SOL_2_WRONG, NO_SOURCE_TESTS, wrong, right], solve_samples=1)
    [state] = _run(ctx, _tasks())
    model.assert_consumed()
    assert state["status"] == "accepted"
    again = model.calls[-1].messages
    assert again[-2] == {"role": "assistant", "content": wrong}
    assert "- gcd(84, 35) returned 7, not 12" in again[-1]["content"]
    (tests,) = ctx.library.resolve("gcd").tests.unit_tests
    assert "gcd(84, 36) == 12" in tests and "gcd(84, 35)" not in tests


def test_hostile_and_malformed_replies_rejected_with_reasons(sb: Sandbox) -> None:
    hostile_tool = TOOL.replace("def gcd", "import socket\n\ndef gcd")
    # gcd-1: a hostile program (terminal: dropped at once); gcd-2: a syntax error, re-asked,
    # solved; abstract: an empty reply, re-asked; then a tool that imports socket (terminal)
    ctx, model = _ctx(
        sb,
        [HOSTILE_SOLUTION, "```python solution\ndef solution(:\n```", SOL_2, "", hostile_tool],
        max_retries=1,
    )
    [state] = _run(ctx, _tasks())
    model.assert_consumed()
    reasons = [r["reason"] for r in state["rejections"]]
    assert reasons == [
        "solve:forbidden_import",
        "solve:syntax_error",
        "empty_reply",
        "forbidden_import",
    ]
    assert [s["task_id"] for s in state["solutions"]] == ["gcd-2"]
    assert state["status"] == "rejected" and ctx.library.store.list() == []


def test_duplicate_of_a_library_tool_is_merged_not_stored_twice(sb: Sandbox) -> None:
    library = Library(MemoryStore())
    assert library.publish(NewTool("greatest_common_divisor", RECURSIVE_TWIN)).outcome == "created"
    ctx, model = _ctx(sb, [SOL_1, SOL_2, TOOL], library=library)
    [state] = _run(ctx, _tasks())
    model.assert_consumed()
    assert state["status"] == "accepted"
    assert state["tools"][0]["outcome"] == "merged"
    assert state["tools"][0]["ref"] == "greatest_common_divisor@1"
    assert [r.name for r in library.store.list()] == ["greatest_common_divisor"]


def test_batch_job_with_checkpointer(sb: Sandbox, tmp_path: Any) -> None:
    from maker.jobs import run_job

    model = ScriptedModel([SOL_1, SOL_2, TOOL])
    client = ChatClient(model, RoleConfig("maker", model="scripted"), local=True)
    report = run_job(
        _tasks(),
        "craft",
        client=client,
        library_dir=tmp_path / "lib",
        job_dir=tmp_path / "job",
        sandbox=sb,
        progress=False,
        options=Options(max_examples=10),
    )
    model.assert_consumed()
    assert (report.units, report.accepted, report.errors) == (1, 1, 0)
    assert {"solve", "abstract"} <= set(report.phases)


def test_a_repair_that_sends_the_tool_back_unchanged_abstracts_again(sb: Sandbox) -> None:
    bad = WRONG_TOOL.split("```python tests")[0]  # fails held-out examples, not only sources
    ctx, model = _ctx(sb, [SOL_1, SOL_2, bad, bad, TOOL])
    [state] = _run(ctx, _tasks())
    model.assert_consumed()
    assert [c.phase for c in model.calls][2:] == ["abstract", "repair", "abstract"]
    assert model.calls[4].messages == model.calls[2].messages  # afresh, sampled as a re-ask
    assert state["status"] == "accepted", state["reason"]
    assert "unchanged_fix" in [r["reason"] for r in state["rejections"]]


SORTING = "def solution():\n    words = {words!r}\n    return ' '.join(sorted(words))\n"
MEDIAN = (
    "def solution():\n    counts = {counts!r}\n    ordered = sorted(counts)\n"
    "    middle = len(ordered) // 2\n    return ordered[middle]\n"
)
COST = "def solution():\n    price = {price!r}\n    quantity = {n}\n    return price * quantity\n"


def test_solutions_are_grouped_by_method_not_by_order() -> None:
    # a task type is not always one task (TabMWP's integer answers: medians, products...); one
    # tool asked to re-solve problems of different methods at once solves none of them
    sources = [
        MEDIAN.format(counts=[3, 9, 4]),
        COST.format(price=2.5, n=3),
        SORTING.format(words=["pear", "fig"]),
        MEDIAN.format(counts=[7, 1, 5, 8, 2]),
        COST.format(price=0.75, n=12),
        SORTING.format(words=["oak", "elm", "ash"]),
        MEDIAN.format(counts=[10, 30, 20]),
    ]
    groups = group_solutions(sources, 5)
    assert groups == [[0, 3, 6], [1, 4], [2, 5]], groups
    # largest groups first, each at most `size`, at most `max_groups` of them
    assert group_solutions(sources, 2) == [[0, 3], [1, 4], [2, 5], [6]]
    assert group_solutions(sources, 5, max_groups=2) == [[0, 3, 6], [1, 4]]
    # constants and data never make two methods alike: a program that does not parse is alone
    assert method_features(MEDIAN.format(counts=[1])) == method_features(
        MEDIAN.format(counts=[5, 6, 7])
    )
    assert group_solutions(["def solution(:", "def solution(:"], 5) == [[0], [1]]


def test_a_fresh_start_abstracts_the_group_again_when_no_repair_is_left(sb: Sandbox) -> None:
    ctx, model = _ctx(sb, [SOL_1, SOL_2, WRONG_TOOL, TOOL], max_repairs=0, fresh_starts=1)
    [state] = _run(ctx, _tasks())
    model.assert_consumed()
    assert [c.phase for c in model.calls] == ["solve", "solve", "abstract", "abstract"]
    assert state["status"] == "accepted" and state["fresh"] == 1
    assert model.calls[3].messages == model.calls[2].messages  # same prompt, a new sample
    assert state["rejections"][-1]["fresh_start"] == 1
