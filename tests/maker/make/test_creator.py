"""CREATOR: nodes one by one, and whole units through the batch runner with a scripted model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from library import Library
from maker.bench.oracle import DIVISOR_SUM, DIVISOR_SUM_BUGGY, EVAL_BOOLEAN
from maker.jobs import run_job
from maker.llm import ChatClient, RoleConfig, ScriptedModel
from maker.make import Context, Options
from maker.make import creator as cr
from maker.tasks import Task
from sandbox import ExampleCase, Sandbox

TASK = Task.from_json(
    {
        "id": "divsum-36",
        "type": "divisor_sum",
        "split": "train",
        "answer": 91,
        "text": "What is the sum of all of the positive divisors of 36?",
        "examples": [{"input": {"n": 12}, "expected": 28}, {"input": {"n": 7}, "expected": 8}],
    }
)
CALL = "```python call\ndivisor_sum(n=36)\n```"


def client_for(model: ScriptedModel) -> ChatClient:
    return ChatClient(model, RoleConfig("maker", model="scripted"), local=True)


def run(tmp_path: Path, sb: Sandbox, model: ScriptedModel, tasks: list[Task], **options: int):
    return run_job(
        tasks,
        "creator",
        library_dir=tmp_path / "lib",
        job_dir=tmp_path / "job",
        client=client_for(model),
        sandbox=sb,
        concurrency=1,
        progress=False,
        options=Options(**options),
    )


# -- nodes -----------------------------------------------------------------------------------
def test_parse_call_reads_literals_only() -> None:
    draft = cr.parse_reply(DIVISOR_SUM)
    assert not isinstance(draft, cr.Rejection)
    assert cr.parse_call(CALL, draft) == {"text": "divisor_sum(n=36)", "kwargs": {"n": 36}}
    assert cr.parse_call("x = divisor_sum(36)", draft)["kwargs"] == {"n": 36}
    assert "literal" in cr.parse_call("divisor_sum(n=open('x'))", draft)
    assert "unknown" in cr.parse_call("divisor_sum(m=3)", draft)
    assert "no call" in cr.parse_call("I think the answer is 91.", draft)


def test_nodes_create_decide_execute_route(tmp_path: Path, sb: Sandbox) -> None:
    model = ScriptedModel([DIVISOR_SUM_BUGGY, CALL])
    with Library.open(tmp_path / "lib") as lib:
        ctx = Context(client_for(model), sb, lib)
        state = cr.initial_state(TASK)
        assert "n" in state["problem"] and "28" not in state["problem"]  # names, not examples
        state |= cr.create(state, ctx)
        assert state["next"] == "decide" and state["draft"]["name"] == "divisor_sum"
        state |= cr.decide(state, ctx)
        assert state["call"]["kwargs"] == {"n": 36}
        update = cr.execute(state, ctx)
        assert update["run"]["ok"] and update["run"]["value"] == 55
        assert update["next"] == "rectify" and "91" in update["feedback"]
    json.dumps(state)  # the state is plain JSON
    model.assert_consumed()


# -- whole units -----------------------------------------------------------------------------
def test_happy_path_publishes_the_tool(tmp_path: Path, sb: Sandbox) -> None:
    model = ScriptedModel([DIVISOR_SUM, CALL])
    report = run(tmp_path, sb, model, [TASK])
    model.assert_consumed()
    assert (report.accepted, report.rejected, report.errors) == (1, 0, 0)
    assert report.tools[0]["ref"] == "divisor_sum@1"
    with Library.open(tmp_path / "lib", read_only=True) as lib:
        rec = lib.resolve("divisor_sum")
        assert rec.provenance[0].task_ids == ("divsum-36",)
        assert rec.provenance[0].strategy == "creator"
        assert rec.provenance[0].tokens_in > 0
        assert rec.tests.held_out[0] == {"input": {"n": 12}, "expected": 28}
    saved = json.loads((tmp_path / "job" / "report.json").read_text())
    assert saved["accepted"] == 1 and saved["phases"]["total"]["calls"] == 2


def test_wrong_answer_is_rectified(tmp_path: Path, sb: Sandbox) -> None:
    model = ScriptedModel([DIVISOR_SUM_BUGGY, CALL, DIVISOR_SUM])
    report = run(tmp_path, sb, model, [TASK])
    model.assert_consumed()
    assert report.accepted == 1
    assert [c.phase for c in model.calls] == ["create", "decide", "rectify"]
    assert "tool_output" in model.calls[2].messages[-1]["content"]  # the run, quoted as data
    # the feedback names what the call returned beside what was expected (a real 1.5B kept
    # returning (min, max) for a "range" when told only that the answer was not 12)
    assert "returned" in model.calls[2].messages[-1]["content"]
    assert "but the expected answer is 91" in model.calls[2].messages[-1]["content"]
    assert "where an int is expected" not in model.calls[2].messages[-1]["content"]
    assert "safe_eval(text) computes such" not in model.calls[2].messages[-1]["content"]
    assert report.draft_rejections == {"wrong_answer": 1}


def test_held_out_cases_passing_another_name_for_the_one_parameter_run(
    tmp_path: Path, sb: Sandbox
) -> None:
    # the real 1.5B named its one parameter `books` where the cases pass `values`, and kept
    # the name through two repairs that said so
    import re

    renamed = re.sub(r"\bn\b", "number", DIVISOR_SUM)
    model = ScriptedModel([renamed, "```python call\ndivisor_sum(number=36)\n```"])
    report = run(tmp_path, sb, model, [TASK])
    model.assert_consumed()
    assert report.accepted == 1
    with Library.open(tmp_path / "lib", read_only=True) as lib:
        rec = lib.resolve("divisor_sum")
    assert [c["input"] for c in rec.tests.held_out] == [{"number": 12}, {"number": 7}]
    assert "cases passing n ran with it as `number`" in rec.verdict.notes
    # two parameters: no reading is certain, the cases run as they are
    from maker.check.validation import fit_keywords
    from maker.text.drafts import parse_reply
    from sandbox import ExampleCase

    two = parse_reply(
        '```python tool\ndef f(a: int, b: int) -> int:\n    """Sum."""\n    return a + b\n```'
    )
    cases = [ExampleCase({"x": 1, "y": 2}, 3)]
    assert fit_keywords(two, cases) == (cases, "")


def test_a_wrong_answer_of_another_kind_says_so(tmp_path: Path, sb: Sandbox) -> None:
    # the real 1.5B's range tool returned (min, max) for 12, three rectify rounds running
    pair = DIVISOR_SUM_BUGGY.replace("return total", "return [total, n]")
    model = ScriptedModel([pair, CALL, DIVISOR_SUM])
    run(tmp_path, sb, model, [TASK])
    model.assert_consumed()
    asked = model.calls[2].messages[-1]["content"]
    assert "returned [55, 36] (a list of 2 values where an int is expected)" in asked


BOOLEAN_TASK = Task.from_json(
    {
        "id": "bool-1",
        "type": "boolean_expressions",
        "split": "train",
        "answer": True,
        "text": "Evaluate the result of a random Boolean expression.\n\n"
        "not ( True and False ) or False",
        "examples": [
            {"input": {"expression": "True and not False"}, "expected": True},
            {"input": {"expression": "not True or False"}, "expected": False},
        ],
    }
)
# the shape of the real 1.5B's Boolean tools: a token loop that never applies the operators
STACK_TOOL = """```python tool
def evaluate_boolean(expression: str) -> bool:
    \"\"\"Evaluate a Boolean expression given as text.\"\"\"
    stack = []
    for token in expression.split():
        if token in ("True", "False"):
            stack.append(token == "True")
    return stack[-1] if stack else False
```"""
SAFE_EVAL_TOOL = """```python tool
def evaluate_boolean(expression: str) -> bool:
    \"\"\"Evaluate a Boolean expression given as text.\"\"\"
    return bool(safe_eval(expression))
```"""
BOOLEAN_CALL = '```python call\nevaluate_boolean(expression="not ( True and False ) or False")\n```'


def test_a_failing_expression_input_names_safe_eval(tmp_path: Path, sb: Sandbox) -> None:
    # the real 1.5B wrote stack evaluators for infix Boolean text through every repair of three
    # benches; the reply format names safe_eval once among many rules
    model = ScriptedModel([STACK_TOOL, BOOLEAN_CALL, SAFE_EVAL_TOOL])
    report = run(tmp_path, sb, model, [BOOLEAN_TASK])
    model.assert_consumed()
    asked = model.calls[2].messages[-1]["content"]
    assert "safe_eval(text) computes such a string" in asked
    assert report.accepted == 1


def test_the_problem_names_the_argument_shapes_and_safe_eval_for_expression_inputs() -> None:
    text = cr.problem_text(BOOLEAN_TASK)
    assert (
        "keyword arguments: expression (an expression of literals and operators as text, " in text
    )
    assert "which safe_eval(expression) computes)" in text
    assert "True and not False" not in text  # the examples' values stay hidden
    assert "keyword arguments: n (a number)." in cr.problem_text(TASK)


def test_no_safe_eval_note_for_other_inputs_or_a_tool_that_calls_it(sb: Sandbox) -> None:
    from maker.check.validation import EXPRESSION_NOTE, expression_note

    assert expression_note([{"n": 36}, {"words": "apple banana"}, {"x": "-5"}]) == ""
    note = expression_note([{"expression": "3 * (4 + 5)"}])
    assert note.startswith(EXPRESSION_NOTE)
    assert 'For example safe_eval("3 * (4 + 5)") returns 27.' in note
    assert "the tool can `return safe_eval(expression)`." in note
    assert expression_note([{"e": "True and False"}], "return safe_eval(e)") == ""
    assert expression_note([None, "not True"]) == EXPRESSION_NOTE


def test_the_safe_eval_note_says_when_safe_eval_gives_the_expected_values() -> None:
    from maker.check.validation import Hidden, expression_note

    # the real 1.5B's LATM Boolean tool (bench of 2026-12-03) called safe_eval(expression,
    # values) with a dict of "variables": a tool calling safe_eval still hears that
    # safe_eval(expression) alone gives every failing example's expected value
    cases = [
        ExampleCase({"expression": "True and not False"}, True),
        ExampleCase({"expression": "not True or False"}, False),
    ]
    note = expression_note(cases, "result = simplify(safe_eval(expression, values))")
    assert "safe_eval(expression) gives the expected value on every failing example" in note
    assert 'safe_eval("True and not False") returns True' in note
    assert "the tool can simply `return safe_eval(expression)`" in note
    # when safe_eval does not give an expected value, it is not claimed
    wrong = [ExampleCase({"expression": "True and not False"}, "yes")]
    assert "gives the expected value" not in expression_note(wrong)
    assert expression_note(wrong, "safe_eval(expression)") == ""
    # a tool that calls safe_eval on text of its own (the real 1.5B's CREATOR Boolean tool
    # built a random expression and never read its parameter) still hears the line
    own = "expr = generate_expression()\n    return safe_eval(expr)"
    assert "`return safe_eval(expression)`" in expression_note([{"expression": "not True"}], own)
    # held-out inputs: the keyword is said, the value never shown nor computed
    hidden = expression_note([Hidden({"expression": "False or not ( True )"})])
    assert "return safe_eval(expression)" in hidden and "not ( True )" not in hidden
    assert "For example" not in hidden


def test_repair_after_a_failing_held_out_test(tmp_path: Path, sb: Sandbox) -> None:
    task = Task.from_json({**TASK.to_json(), "split": "validation"})  # no gold: runs "succeed"
    model = ScriptedModel([DIVISOR_SUM_BUGGY, CALL, DIVISOR_SUM])
    report = run(tmp_path, sb, model, [task])
    model.assert_consumed()
    assert [c.phase for c in model.calls] == ["create", "decide", "repair"]
    repair_prompt = model.calls[2].messages[-1]["content"]
    assert "held-out case failed" in repair_prompt and "28" not in repair_prompt
    assert report.accepted == 1
    rejections = [
        json.loads(x) for x in (tmp_path / "job" / "rejections.jsonl").read_text().splitlines()
    ]
    assert rejections[0]["reason"] == "validation:held_out"
    assert "range(1, n)" in rejections[0]["source"]


# the same bug written otherwise: a fix that changed the code and still fails
DIVISOR_SUM_BUGGY_2 = DIVISOR_SUM_BUGGY.replace("range(1, n)", "range(2, n + 1)")


def test_repairs_are_bounded(tmp_path: Path, sb: Sandbox) -> None:
    model = ScriptedModel([DIVISOR_SUM_BUGGY, CALL, DIVISOR_SUM_BUGGY_2])
    report = run(tmp_path, sb, model, [TASK], max_repairs=1)
    model.assert_consumed()
    assert report.rejected == 1 and report.accepted == 0
    assert (
        "no correct run after 1 repair"
        in json.loads((tmp_path / "job" / "units.jsonl").read_text().splitlines()[0])["reason"]
    )
    with Library.open(tmp_path / "lib", read_only=True) as lib:
        assert lib.store.list() == []


def test_a_fix_that_sends_the_failing_tool_back_starts_over_with_the_answer(
    tmp_path: Path, sb: Sandbox
) -> None:
    # the real 1.5B sent its (min, max) "range" tool back unchanged for three rectify rounds,
    # once with only the return tuple parenthesized: each was run and failed the same way.
    # Asked afresh with the expected answer (and without its code) it wrote max - min.
    same = DIVISOR_SUM_BUGGY.replace("total = 0", "total = 0  # running sum").replace(
        "Returns:", "Returns (unchanged):"
    )
    model = ScriptedModel([DIVISOR_SUM_BUGGY, CALL, same, DIVISOR_SUM, CALL])
    report = run(tmp_path, sb, model, [TASK])
    model.assert_consumed()
    assert report.accepted == 1
    phases = [c.phase for c in model.calls]
    assert phases == ["create", "decide", "rectify", "create", "decide"]
    rectify = model.calls[2].messages[-1]["content"]
    assert "First say in one sentence how 91 follows from the call's inputs" in rectify
    restart = model.calls[3].messages[-1]["content"]
    assert "The expected answer to this problem is 91" in restart
    assert "range(1, n)" not in restart  # not the failing code: it anchors the model
    assert report.draft_rejections == {"wrong_answer": 1, "unchanged_fix": 1}


def test_an_unchanged_repair_without_a_gold_answer_starts_over_warm(
    tmp_path: Path, sb: Sandbox
) -> None:
    from maker.llm.config import Sampling

    task = Task.from_json({**TASK.to_json(), "split": "validation"})  # no gold answer
    same = DIVISOR_SUM_BUGGY.replace("total = 0", "total = 0  # running sum")
    model = ScriptedModel([DIVISOR_SUM_BUGGY, CALL, same, DIVISOR_SUM, CALL])
    cold = RoleConfig("maker", model="scripted", sampling=Sampling(temperature=0.0, seed=5))
    report = run_job(
        [task],
        "creator",
        library_dir=tmp_path / "lib",
        job_dir=tmp_path / "job",
        client=ChatClient(model, cold, local=True),
        sandbox=sb,
        concurrency=1,
        progress=False,
    )
    model.assert_consumed()
    assert [c.phase for c in model.calls] == ["create", "decide", "repair", "create", "decide"]
    assert model.calls[3].messages == model.calls[0].messages  # the same prompt, so ...
    assert model.calls[3].params["temperature"] == 0.7  # ... sampled warm, as a re-ask
    assert model.calls[0].params["temperature"] == 0.0
    assert report.accepted == 1


def test_an_unchanged_fix_after_the_restart_is_asked_without_the_code(
    tmp_path: Path, sb: Sandbox
) -> None:
    same = DIVISOR_SUM_BUGGY.replace("total = 0", "total = 0  # running sum")
    script = [DIVISOR_SUM_BUGGY, CALL, same, DIVISOR_SUM_BUGGY, CALL, same, DIVISOR_SUM]
    model = ScriptedModel(script)
    report = run(tmp_path, sb, model, [TASK], max_repairs=4)
    model.assert_consumed()
    assert report.accepted == 1
    phases = [c.phase for c in model.calls]
    assert phases == ["create", "decide", "rectify", "create", "decide", "rectify", "rectify"]
    # the first rectify is shown the code; once the model is stuck on it (the fresh tool failed
    # the same way, then the fix sent it back), only its signature and docstring
    assert "total = 0" in model.calls[2].messages[-1]["content"]
    for call in model.calls[5:]:
        assert "the body that failed is not shown" in call.messages[-1]["content"]
        assert not any("total = 0" in m["content"] for m in call.messages)


def test_a_repair_that_changes_only_the_tests_is_a_change(sb: Sandbox) -> None:
    from maker.make.steps import unchanged_fix
    from maker.text.drafts import parse_reply

    tool = parse_reply(DIVISOR_SUM)
    state = {"draft": tool.to_json()}
    renamed = parse_reply(DIVISOR_SUM.replace("total", "acc"))
    assert unchanged_fix(state, renamed)  # a renamed local is the same code
    tests = parse_reply(
        DIVISOR_SUM + "\n```python tests\ndef test_one():\n    assert divisor_sum(1) == 1\n```"
    )
    assert not unchanged_fix(state, tests)
    assert unchanged_fix(state, tests, tests=False)  # a wrong run is not fixed by new tests
    assert not unchanged_fix({}, tool)
    # only the tool's code failed (a held-out case, the robustness property): new tests are
    # no change (the real 1.5B rewrote only its tests, three repairs running)
    tool_only = {**state, "verdict": {"failures": [{"kind": "held_out"}, {"kind": "robustness"}]}}
    assert unchanged_fix(tool_only, tests)
    own_test = {**state, "verdict": {"failures": [{"kind": "held_out"}, {"kind": "unit"}]}}
    assert not unchanged_fix(own_test, tests)


HOSTILE = '''```python tool
import os

def divisor_sum(n: int) -> int:
    """Sum of divisors."""
    os.system("touch {marker}")
    return n
```'''

HOSTILE_DUNDER = '''```python tool
def divisor_sum(n: int) -> int:
    """Sum of divisors."""
    return ().__class__.__bases__[0].__subclasses__()[0](n)
```'''


@pytest.mark.parametrize(
    "reply,reason", [(HOSTILE, "forbidden_import"), (HOSTILE_DUNDER, "forbidden_syntax")]
)
def test_hostile_tool_code_is_rejected_and_never_run(
    tmp_path: Path, sb: Sandbox, reply: str, reason: str
) -> None:
    marker = tmp_path / "pwned"
    model = ScriptedModel([reply.replace("{marker}", str(marker))])
    report = run(tmp_path, sb, model, [TASK])
    model.assert_consumed()  # not recoverable: no retry was asked for
    assert report.rejected == 1 and not marker.exists()
    assert report.rejection_reasons == {f"create:{reason}": 1}
    assert report.draft_rejections == {reason: 1}


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "Sure! The answer is 91.",
        "```python tool\ndef f(:\n```",
        "```python tool\ndef divisor_sum(n):\n    return n\n```",
    ],
)
def test_malformed_replies_are_retried_with_a_new_sample(
    tmp_path: Path, sb: Sandbox, bad: str
) -> None:
    model = ScriptedModel([bad, DIVISOR_SUM, "no call here", CALL])
    report = run(tmp_path, sb, model, [TASK])
    model.assert_consumed()
    assert report.accepted == 1
    assert [c.phase for c in model.calls] == ["create", "create", "decide", "decide"]
    reasons = set(report.draft_rejections)
    assert "bad_call" in reasons and len(reasons) == 2


def test_malformed_replies_give_up_after_the_retry_budget(tmp_path: Path, sb: Sandbox) -> None:
    model = ScriptedModel(["nothing", "still nothing", "nope"])
    report = run(tmp_path, sb, model, [TASK], max_retries=2)
    model.assert_consumed()
    assert report.rejected == 1 and report.draft_rejections == {"no_code_block": 3}


def test_two_tasks_one_tool_publish_once(tmp_path: Path, sb: Sandbox) -> None:
    t1 = Task.from_json(
        {"id": "b1", "text": "Evaluate: True and False", "answer": False, "type": "bool"}
    )
    t2 = Task.from_json({"id": "b2", "text": "Evaluate: not False", "answer": True, "type": "bool"})
    model = ScriptedModel(
        [
            EVAL_BOOLEAN,
            'eval_boolean(expression="True and False")',
            EVAL_BOOLEAN,
            'eval_boolean(expression="not False")',
        ]
    )
    report = run(tmp_path, sb, model, [t1, t2])
    assert [t["outcome"] for t in report.tools] == ["created", "duplicate"]
    with Library.open(tmp_path / "lib", read_only=True) as lib:
        assert [r.version for r in lib.store.history("eval_boolean")] == [1]
        assert {p.task_ids for p in lib.resolve("eval_boolean").provenance} == {("b1",), ("b2",)}


GCD_TASKS = [
    Task.from_json(
        {
            "id": f"gcd-{i}",
            "type": "gcd",
            "split": "train",
            "answer": answer,
            "text": f"What is the greatest common divisor of {p} and {q}?",
            "examples": [
                {"input": {names[0]: 84, names[1]: 36}, "expected": 12},
                {"input": {names[0]: 7, names[1]: 5}, "expected": 1},
            ],
        }
    )
    for i, (p, q, answer, names) in enumerate([(12, 18, 6, "ab"), (20, 8, 4, "xy")])
]
GCD_AB = '''```python tool
def gcd(a: int, b: int) -> int:
    """Greatest common divisor of two integers."""
    while b:
        a, b = b, a % b
    return abs(a)
```'''
MY_GCD_XY = '''```python tool
def my_gcd(x: int, y: int) -> int:
    """The largest integer dividing both x and y."""
    if y == 0:
        return abs(x)
    return my_gcd(y, x % y)
```'''


def test_a_reinvented_tool_with_renamed_parameters_is_merged(tmp_path: Path, sb: Sandbox) -> None:
    model = ScriptedModel(
        [
            GCD_AB,
            "```python call\ngcd(a=12, b=18)\n```",
            MY_GCD_XY,
            "```python call\nmy_gcd(x=20, y=8)\n```",
        ]
    )
    report = run(tmp_path, sb, model, GCD_TASKS)
    model.assert_consumed()
    assert report.accepted == 2, report.to_json()
    assert [(t["ref"], t["outcome"]) for t in report.tools] == [
        ("gcd@1", "created"),
        ("gcd@1", "merged"),
    ]
    with Library.open(tmp_path / "lib", read_only=True) as lib:
        assert [r.ref for r in lib.store.list()] == ["gcd@1"]
        provenance = lib.resolve("gcd").provenance
        assert [p.task_ids for p in provenance] == [("gcd-0",), ("gcd-1",)]
        assert provenance[1].param_map == (("x", "a"), ("y", "b"))


def test_the_reply_formats_example_sent_as_the_tool_is_asked_again(
    tmp_path: Path, sb: Sandbox
) -> None:
    # the real 1.5B sent the format example's gcd as its tool for Dyck-language completion
    model = ScriptedModel([GCD_AB, DIVISOR_SUM, CALL])
    report = run(tmp_path, sb, model, [TASK])
    model.assert_consumed()
    assert (report.accepted, report.rejected) == (1, 0)
    first, again = model.calls[0].messages, model.calls[1].messages
    assert "def gcd" in first[-1]["content"]
    # asked again without the format example, and without its copy: shown the example and
    # the copy, the real 1.5B sent gcd back twice more
    assert [m["role"] for m in again] == [m["role"] for m in first]
    assert not any("gcd" in m["content"] for m in again)
    assert "Reply format (follow it exactly" in again[-1]["content"]
    # the rest of the unit's prompts (its call) come without it too
    assert not any("gcd" in m["content"] for m in model.calls[2].messages)
    rejections = [json.loads(line) for line in (tmp_path / "job" / "rejections.jsonl").open()]
    assert [r["reason"] for r in rejections] == ["copied_format_example"]
    # a task named for the example may have it as its tool
    from maker.make.steps import copied_format_example
    from maker.text.drafts import parse_reply

    draft = parse_reply(GCD_AB, policy=sb.policy)
    assert copied_format_example({"type": "gcd_pairs"}, draft) is None
    about = {"task": {"type": "x", "text": "What is the greatest common divisor of 4 and 6?"}}
    assert copied_format_example(about, draft) is None
    assert copied_format_example({"type": "dyck", "tasks": [{"text": "Input: [ ("}]}, draft)


def test_the_reply_formats_example_property_is_dropped(sb: Sandbox) -> None:
    # the real 1.5B copied the example's `prop_divides` into its Boolean-expression tools
    # (`evaluate_expression(f"gcd({a}, {b})")`) and range tools; its failures crowded the
    # repair feedback
    from maker.make.steps import without_format_properties
    from maker.text.drafts import parse_reply

    copied = (
        "\n\n```python tests\ndef prop_divides(a: int, b: int):\n    g = divisor_sum(a)\n"
        "    if g:\n        assert a % g == 0 and b % g == 0\n\n\n"
        "def prop_positive(n: int):\n    if n > 0:\n        assert divisor_sum(n) >= n\n```\n"
    )
    draft = parse_reply(DIVISOR_SUM + copied, policy=sb.policy)
    assert {p.name for p in draft.properties} >= {"prop_divides", "prop_positive"}
    kept = without_format_properties({"type": "divisor_sum"}, draft)
    assert "prop_divides" not in {p.name for p in kept.properties}
    assert "prop_positive" in {p.name for p in kept.properties}
    assert "dropped prop_divides: the reply format example's property" in kept.notes
    # a task about what the example computes keeps it
    about = {"task": {"type": "x", "text": "What is the greatest common divisor of 4 and 6?"}}
    assert without_format_properties(about, draft) is draft


def test_a_fresh_start_creates_the_tool_again_when_no_repair_is_left(
    tmp_path: Path, sb: Sandbox
) -> None:
    # the wrong tool's run has no repair left: without a fresh start the task is given up
    model = ScriptedModel([DIVISOR_SUM_BUGGY, CALL])
    assert run(tmp_path / "a", sb, model, [TASK], max_repairs=0).rejected == 1
    model = ScriptedModel([DIVISOR_SUM_BUGGY, CALL, DIVISOR_SUM, CALL])
    report = run(tmp_path / "b", sb, model, [TASK], max_repairs=0, fresh_starts=1)
    model.assert_consumed()
    assert report.accepted == 1 and report.fresh_starts == 1
    assert [c.phase for c in model.calls] == ["create", "decide", "create", "decide"]
    assert "range(1, n)" not in model.calls[2].messages[-1]["content"]  # a new draft
    assert report.draft_rejections == {"wrong_answer": 1}
