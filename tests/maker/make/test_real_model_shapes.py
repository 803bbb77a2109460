"""Scripted replays of the failure shapes a real small model (Qwen2.5-Coder-1.5B) produced.

Each test replays one shape through the strategies with `ScriptedModel`: the reply shapes are
those seen from the real model (typing imports, Hypothesis tests, malformed optional parts, an
unreadable call decision, a wrong unit test), never a special case of an example task.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from library import Library, MemoryStore, open_library
from maker.check.validation import validate
from maker.jobs import run_job
from maker.llm import ChatClient, RoleConfig, ScriptedModel
from maker.make import Context, Options
from maker.make import creator as cr
from maker.make.latm import STRATEGY as LATM
from maker.tasks import Task
from maker.text.drafts import ToolDraft, parse_reply
from sandbox import ExampleCase, Sandbox

RANGE_TASK = Task.from_json(
    {
        "id": "tab-range-books",
        "type": "table_range",
        "split": "train",
        "answer": 12,
        "text": "Books read: Ana 14, Ben 9, Cai 21, Dev 11. What is the range of the numbers?",
        "examples": [
            {"input": {"values": [3, 9, 4]}, "expected": 6},
            {"input": {"values": [10]}, "expected": 0},
        ],
    }
)
CALL = "```python call\nvalue_range(values=[14, 9, 21, 11])\n```"

TYPING_TOOL = '''```python
from typing import List

def value_range(values: List[int]) -> int:
    """The range (largest minus smallest) of a non-empty list of numbers."""
    if not values:
        raise ValueError("values must not be empty")
    return max(values) - min(values)
```
'''

HYPOTHESIS_TESTS = """
```python
from typing import List
from hypothesis import given, settings, strategies as st

def test_known():
    assert value_range([3, 9, 4]) == 6

@given(st.lists(st.integers(min_value=-50, max_value=50), min_size=1))
@settings(max_examples=25)
def test_never_negative(values):
    assert value_range(values) >= 0
```
"""

BAD_PROPERTIES = """
```json properties
[{"name": "prop_x", "strategies": {"values": {"type": "list_of_ints"}}},
```
"""


def client_for(model: ScriptedModel) -> ChatClient:
    return ChatClient(model, RoleConfig("maker", model="scripted"), local=True)


def run(
    tmp_path: Path,
    sb: Sandbox,
    model: ScriptedModel,
    tasks: list[Task],
    strategy: str = "creator",
    **options: int,
) -> Any:
    return run_job(
        tasks,
        strategy,
        library_dir=tmp_path / "lib",
        job_dir=tmp_path / "job",
        client=client_for(model),
        sandbox=sb,
        concurrency=1,
        progress=False,
        options=Options(**{"max_examples": 20, **options}),
    )


def rejections(tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "job" / "rejections.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


# -- shape 1: `from typing import List` in nearly every tool ----------------------------------
def test_typing_import_tool_is_accepted(tmp_path: Path, sb: Sandbox) -> None:
    model = ScriptedModel([TYPING_TOOL, CALL])
    report = run(tmp_path, sb, model, [RANGE_TASK])
    model.assert_consumed()
    assert (report.accepted, report.rejected) == (1, 0), rejections(tmp_path)
    with Library.open(tmp_path / "lib", read_only=True) as lib:
        rec = lib.resolve("value_range")
        assert rec.spec.params[0].schema == {"type": "array", "items": {"type": "integer"}}
    with open_library(tmp_path / "lib") as api:
        assert api.tool("value_range")(values=[4, 1, 7]) == 6  # re-run from the library


# -- shape 2: an import the policy refuses is repair feedback, not a terminal rejection ---------
def test_refused_import_is_fed_back_and_fixed(tmp_path: Path, sb: Sandbox) -> None:
    dataclass_tool = TYPING_TOOL.replace(
        "from typing import List", "from typing import List\nimport dataclasses"
    )
    model = ScriptedModel([dataclass_tool, TYPING_TOOL, CALL])
    report = run(tmp_path, sb, model, [RANGE_TASK])
    model.assert_consumed()
    assert report.accepted == 1
    assert report.draft_rejections == {"unavailable_import": 1}
    retry = model.calls[1].messages
    assert retry[-2] == {"role": "assistant", "content": dataclass_tool}  # its own reply...
    said = retry[-1]["content"]  # ...and what to drop, which modules are allowed
    assert "'dataclasses'" in said and "drop that import" in said and "math" in said


def test_host_module_import_stays_terminal(tmp_path: Path, sb: Sandbox) -> None:
    hostile = TYPING_TOOL.replace("from typing import List", "from typing import List\nimport os")
    model = ScriptedModel([hostile])
    report = run(tmp_path, sb, model, [RANGE_TASK])
    model.assert_consumed()
    assert report.rejected == 1 and report.draft_rejections == {"forbidden_import": 1}


def test_eval_of_code_is_fed_back_not_terminal(tmp_path: Path, sb: Sandbox) -> None:
    # eval(...) runs as safe_eval(...), which computes literals and operators only: a call in
    # the expression is a ValueError the model is shown, and the unit goes on
    uses_eval = TYPING_TOOL.replace(
        "return max(values) - min(values)", "return eval('max(values) - min(values)')"
    )
    model = ScriptedModel([uses_eval, CALL, TYPING_TOOL])
    report = run(tmp_path, sb, model, [RANGE_TASK])
    model.assert_consumed()
    assert [c.phase for c in model.calls] == ["create", "decide", "rectify"]
    assert report.accepted == 1 and report.draft_rejections == {"execution_error": 1}
    assert "a call is not allowed" in model.calls[2].messages[-1]["content"]


# -- shape 3: a malformed optional properties block -------------------------------------------
def test_malformed_optional_properties_do_not_sink_the_tool(tmp_path: Path, sb: Sandbox) -> None:
    reply = TYPING_TOOL + BAD_PROPERTIES
    draft = parse_reply(reply)
    assert isinstance(draft, ToolDraft) and draft.properties == ()
    assert any("not valid JSON" in n for n in draft.notes)
    model = ScriptedModel([reply, CALL])
    report = run(tmp_path, sb, model, [RANGE_TASK])
    model.assert_consumed()
    assert report.accepted == 1


@pytest.mark.parametrize(
    "block,says",
    [
        ('[{"name": "prop_missing"}]', "no 'source'"),
        (
            '[{"name": "prop_ok", "source": "def prop_ok(values: list[int]):\\n    pass\\n", '
            '"strategies": {"values": {"type": "list_of_ints"}}}]',
            "list_of_ints",
        ),
        ('{"oops": 1', "not valid JSON"),
        ('"just a string"', "JSON list of objects"),
    ],
)
def test_each_malformed_property_part_is_dropped_with_a_note(block: str, says: str) -> None:
    draft = parse_reply(TYPING_TOOL + f"\n```json properties\n{block}\n```\n")
    assert isinstance(draft, ToolDraft), draft
    assert draft.properties == ()
    assert any(says in n for n in draft.notes), draft.notes


def test_dropped_parts_reach_the_repair_prompt(sb: Sandbox) -> None:
    buggy = TYPING_TOOL.replace("max(values) - min(values)", "max(values) - min(values) + 1")
    draft = parse_reply(buggy + BAD_PROPERTIES)
    assert isinstance(draft, ToolDraft)
    verdict = validate(
        sb, draft, examples=[{"input": {"values": [3, 9, 4]}, "expected": 6}], max_examples=10
    )
    from maker.check.validation import repair_feedback

    assert not verdict.passed
    text = repair_feedback(verdict)
    assert "dropped" in text and "not valid JSON" in text


# -- shape 4: model tests written for Hypothesis ----------------------------------------------
def test_hypothesis_tests_run_as_properties(tmp_path: Path, sb: Sandbox) -> None:
    draft = parse_reply(TYPING_TOOL + HYPOTHESIS_TESTS)
    assert isinstance(draft, ToolDraft), draft
    (prop,) = draft.properties
    assert prop.name == "test_never_negative" and prop.max_examples == 25
    assert prop.strategies["values"]["type"] == "lists"
    verdict = validate(
        sb, draft, examples=[{"input": {"values": [3, 9, 4]}, "expected": 6}], max_examples=25
    )
    assert verdict.passed, verdict.failures
    assert verdict.counts.get("property") == 1 and not verdict.wrong_tests


def test_hypothesis_property_catches_a_real_bug(sb: Sandbox) -> None:
    buggy = TYPING_TOOL.replace("max(values) - min(values)", "values[-1] - values[0]")
    draft = parse_reply(buggy + HYPOTHESIS_TESTS)
    assert isinstance(draft, ToolDraft)
    verdict = validate(
        sb,
        draft,
        examples=[{"input": {"values": [3, 9, 4]}, "expected": 6}],
        held_out=[{"input": {"values": [10]}, "expected": 0}],
        max_examples=25,
    )
    assert not verdict.passed
    prop = [f for f in verdict.failures if f.kind == "property"]
    assert prop and prop[0].minimal_input is not None  # a minimal failing list, no NameError
    assert all(f.error_type != "NameError" for f in verdict.failures)


@pytest.mark.parametrize(
    "tests",
    [
        "import hypothesis.strategies as st\nfrom hypothesis import given\n\n"
        "@given(st.lists(st.integers(), min_size=1))\ndef test_p(values):\n"
        "    assert value_range(values) >= 0\n",
        "import hypothesis\n\n@hypothesis.given(values=hypothesis.strategies.lists("
        "hypothesis.strategies.integers(0, 9), min_size=1, max_size=5))\n"
        "def test_p(values):\n    hypothesis.assume(len(values) > 1)\n"
        "    assert value_range(values) <= 9\n",
        "from hypothesis.strategies import integers, lists\nfrom hypothesis import given, example\n\n"
        "@given(lists(integers(min_value=1) | integers(max_value=-1), min_size=1))\n"
        "@example([5, 5])\ndef test_p(values):\n    assert value_range(values) >= 0\n",
        "from hypothesis import given, strategies as st\n\n"
        "@given(st.integers().filter(lambda n: n != 0), st.integers(0, 3))\n"
        "def test_p(a, b):\n    assert value_range([a, a + b]) == b\n",
    ],
)
def test_usual_hypothesis_spellings_map(sb: Sandbox, tests: str) -> None:
    draft = parse_reply(TYPING_TOOL + f"\n```python tests\n{tests}```\n")
    assert isinstance(draft, ToolDraft), draft
    assert [p.name for p in draft.properties] == ["test_p"], draft.notes
    verdict = validate(
        sb,
        draft,
        examples=[{"input": {"values": [3, 9, 4]}, "expected": 6}],
        max_examples=15,
        robustness=False,
    )
    assert verdict.passed, verdict.failures


def test_unmappable_hypothesis_test_is_dropped_saying_what_to_write() -> None:
    tests = (
        "from hypothesis import given, strategies as st\n\n@given(st.data())\n"
        "def test_draw(data):\n    x = data.draw(st.integers())\n"
        "    assert value_range([x]) == 0\n\ndef test_known():\n"
        "    assert value_range([1, 4]) == 3\n"
    )
    draft = parse_reply(TYPING_TOOL + f"\n```python tests\n{tests}```\n")
    assert isinstance(draft, ToolDraft), draft
    assert draft.properties == () and "def test_known" in draft.unit_tests
    assert "test_draw" not in draft.unit_tests and "hypothesis" not in draft.unit_tests
    (note,) = [n for n in draft.notes if "test_draw" in n]
    assert "st.data" in note and "def prop_name(x: int" in note


def test_pytest_spellings_map_to_plain_tests(sb: Sandbox) -> None:
    tests = (
        "import pytest\n\n@pytest.mark.parametrize('values,expected', "
        "[([1, 5], 4), ([2, 2], 0)])\ndef test_table(values, expected):\n"
        "    assert value_range(values) == expected\n\ndef test_empty():\n"
        "    with pytest.raises(ValueError):\n        value_range([])\n"
    )
    draft = parse_reply(TYPING_TOOL + f"\n```python tests\n{tests}```\n")
    assert isinstance(draft, ToolDraft), draft
    assert "pytest" not in draft.unit_tests
    verdict = validate(
        sb,
        draft,
        examples=[{"input": {"values": [3, 9, 4]}, "expected": 6}],
        max_examples=5,
        robustness=False,
    )
    assert verdict.passed and verdict.counts.get("unit") == 2, verdict.failures
    wrong = draft.unit_tests.replace("([2, 2], 0)", "([2, 2], 1)")
    from dataclasses import replace

    bad = validate(
        sb, replace(draft, unit_tests=wrong), examples=[], max_examples=5, robustness=False
    )
    assert not bad.passed  # the loop really runs the rows


# -- shape 5: a CREATOR call decision the parser cannot read -----------------------------------
@pytest.mark.parametrize(
    "reply",
    [
        "The answer is value_range(values=[14, 9, 21, 11]).",
        "```python\nvalues = [14, 9, 21, 11]\nprint(value_range(values))\n```",
        '```json\n{"values": [14, 9, 21, 11]}\n```',
    ],
)
def test_loose_call_decisions_are_read(reply: str) -> None:
    draft = parse_reply(TYPING_TOOL)
    assert isinstance(draft, ToolDraft)
    assert cr.parse_call(reply, draft)["kwargs"] == {"values": [14, 9, 21, 11]}


@pytest.mark.parametrize(
    "reply",
    [  # the real 1.5B's decisions for a Boolean-expression tool (session 11, CREATOR decide)
        'evaluate_expression(expression="False or not False) and not True")',
        '```python\nevaluate_expression("False or not False) and not True")\n```',
        'print(evaluate_expression("False or not False) and not True"))',
    ],
)
def test_a_bracket_inside_a_string_argument_does_not_end_the_call(reply: str) -> None:
    draft = parse_reply(
        "```python\ndef evaluate_expression(expression: str) -> bool:\n"
        '    """The value of a Boolean expression."""\n    return safe_eval(expression)\n```'
    )
    assert isinstance(draft, ToolDraft)
    assert cr.parse_call(reply, draft)["kwargs"] == {
        "expression": "False or not False) and not True"
    }


def test_unreadable_call_is_asked_again_strictly_then_rejected(tmp_path: Path, sb: Sandbox) -> None:
    vague = "You should call the tool with the list of book counts."
    model = ScriptedModel([TYPING_TOOL, vague, vague, CALL])
    report = run(tmp_path, sb, model, [RANGE_TASK])
    model.assert_consumed()
    assert report.accepted == 1
    strict = model.calls[2].messages[-1]["content"]
    assert "exactly one line" in strict and "value_range(values=...)" in strict
    assert model.calls[2].messages[-2]["content"] == vague

    model = ScriptedModel([TYPING_TOOL, vague, vague, vague])
    report = run(tmp_path / "again", sb, model, [RANGE_TASK])
    model.assert_consumed()  # bounded: max_retries (2) more attempts
    assert report.rejection_reasons == {"decide:bad_call": 1}


# -- shape 6: a model unit test asserting a wrong value ----------------------------------------
WRONG_TEST = """
```python tests
def test_known():
    assert value_range([3, 9, 4]) == 7

def test_single():
    assert value_range([10]) == 0
```
"""


def test_a_wrong_model_test_does_not_sink_a_right_tool(tmp_path: Path, sb: Sandbox) -> None:
    model = ScriptedModel([TYPING_TOOL + WRONG_TEST, CALL])
    report = run(tmp_path, sb, model, [RANGE_TASK])
    model.assert_consumed()
    assert report.accepted == 1
    assert report.draft_rejections == {"wrong_test": 1}
    (record,) = rejections(tmp_path)
    assert "test_known" in record["message"] and "expects 6" in record["message"]
    with Library.open(tmp_path / "lib", read_only=True) as lib:
        stored = lib.resolve("value_range").tests.unit_tests[0]
    assert "test_single" in stored and "test_known" not in stored  # not re-run as a regression


def test_wrong_test_is_fed_back_when_the_tool_needs_repair(sb: Sandbox) -> None:
    buggy = TYPING_TOOL.replace(
        "max(values) - min(values)", "max(values) - min(values) + 0 * 1"
    ).replace("if not values:", "if len(values) == 1:\n        return 1\n    if not values:")
    draft = parse_reply(buggy + WRONG_TEST)
    assert isinstance(draft, ToolDraft)
    verdict = validate(
        sb,
        draft,
        examples=[{"input": {"values": [3, 9, 4]}, "expected": 6}],
        held_out=[{"input": {"values": [10]}, "expected": 0}],
        max_examples=5,
    )
    assert not verdict.passed  # the held-out case fails: the tool is wrong
    assert [f.name for f in verdict.wrong_tests] == ["test_known"]  # its test contradicts
    from maker.check.validation import repair_feedback

    assert "judged wrong" in repair_feedback(verdict)


# The real 1.5B's tests for its range tool: the reply format's example property, copied.
COPIED_PROPERTY = """
```python tests
def test_known():
    assert value_range([3, 9, 4]) == 6


def prop_divides(a: int, b: int):
    g = gcd(a, b)
    if g:
        assert a % g == 0 and b % g == 0
```

```json properties
[{"name": "prop_divides", "strategies": {"a": {"type": "integers", "min_value": 0, "max_value": 1000}, "b": {"type": "integers", "min_value": 0, "max_value": 1000}}}]
```
"""


def test_a_model_test_using_a_name_nothing_defines_does_not_sink_the_tool(sb: Sandbox) -> None:
    draft = parse_reply(TYPING_TOOL + COPIED_PROPERTY)
    assert isinstance(draft, ToolDraft)
    verdict = validate(
        sb,
        draft,
        examples=[{"input": {"values": [3, 9, 4]}, "expected": 6}],
        max_examples=5,
    )
    assert verdict.passed, verdict.failures
    (wrong,) = verdict.wrong_tests
    assert wrong.name == "prop_divides" and "it uses `gcd`" in wrong.message
    # a NameError in the tool's own code is the tool's bug: it stands
    broken = parse_reply(
        TYPING_TOOL.replace("max(values) - min(values)", "spread(values)") + COPIED_PROPERTY
    )
    assert isinstance(broken, ToolDraft)
    verdict = validate(
        sb, broken, examples=[{"input": {"values": [3, 9, 4]}, "expected": 6}], max_examples=5
    )
    assert not verdict.passed
    assert "prop_divides" in [f.name for f in verdict.wrong_tests]
    assert any("spread" in f.message for f in verdict.failures)


def test_latm_accepts_a_typing_tool_with_hypothesis_tests(sb: Sandbox) -> None:
    tasks = [
        Task(
            "r-1",
            "Range of 4, 8, 1?",
            "range",
            examples=(ExampleCase({"values": [4, 8, 1]}, 7), ExampleCase({"values": [2, 2]}, 0)),
        ),
        Task("r-2", "Range of 10 and 3?", "range", examples=(ExampleCase({"values": [10, 3]}, 7),)),
        Task(
            "r-3",
            "Range?",
            "range",
            split="validation",
            examples=(ExampleCase({"values": [5, -5]}, 10),),
        ),
    ]
    wrap = "```python usage\n# the numbers go in values\nvalue_range(values=[4, 8, 1])  # -> 7\n```"
    model = ScriptedModel(
        [TYPING_TOOL + HYPOTHESIS_TESTS.replace("[3, 9, 4]) == 6", "[4, 8, 1]) == 7"), wrap]
    )
    ctx = Context(client_for(model), sb, Library(MemoryStore()), None, Options(max_examples=10))
    graph = LATM.build(ctx).compile()
    [state] = [graph.invoke(u.state, {"recursion_limit": 50}) for u in LATM.units(tasks)]
    model.assert_consumed()
    assert state["status"] == "accepted", state["rejections"]


def test_typing_hints_feed_the_robustness_property_and_sample_runs(sb: Sandbox) -> None:
    tool = TYPING_TOOL.replace("from typing import List", "from typing import List, Optional")
    tool = tool.replace("(values: List[int])", "(values: List[int], label: Optional[str] = None)")
    draft = parse_reply(tool)
    assert isinstance(draft, ToolDraft), draft
    verdict = validate(
        sb, draft, examples=[{"input": {"values": [3, 9, 4]}, "expected": 6}], max_examples=20
    )
    assert verdict.passed, verdict.failures
    assert verdict.counts.get("robustness") == 1  # inputs drawn from List[int], Optional[str]
    assert verdict.counts.get("sample_runs", 0) >= 3  # generality inputs built from the hints
    assert not any("skipped" in n for n in verdict.notes)


def test_later_samples_of_a_cold_role_are_drawn_warmer() -> None:
    """A real 1.5B at temperature 0 sent the same wrong tool back on every repair (and the same
    reply on every re-ask): later samples of a step are drawn warmer, with a moved seed, so they
    can differ, and stay reproducible."""
    from maker.llm import ChatClient, RoleConfig, ScriptedModel
    from maker.llm.config import Sampling
    from maker.make import Context, Options
    from maker.make.steps import ask

    def run(role: RoleConfig, options: Options) -> list[dict]:
        model = ScriptedModel(["a", "b", "c"])
        ctx = Context(ChatClient(model, role), None, None, options=options)  # type: ignore[arg-type]
        for sample in (0, 1, 2):
            ask(ctx, None, [{"role": "user", "content": "make a tool"}], "repair", sample)
        return [call.params for call in model.calls]

    cold = RoleConfig("maker", model="m", sampling=Sampling(temperature=0.0, seed=7))
    first, second, third = run(cold, Options())
    assert first["temperature"] == 0.0 and first["seed"] == 7
    assert (second["temperature"], second["seed"]) == (0.7, 8)
    assert (third["temperature"], third["seed"]) == (0.7, 9)
    assert all(p["temperature"] == 0.0 for p in run(cold, Options(retry_temperature=None)))
    warm = RoleConfig("maker", model="m", sampling=Sampling(temperature=1.0))
    assert all(p["temperature"] == 1.0 and "seed" not in p for p in run(warm, Options()))


def test_builtin_names_imported_from_typing_are_dropped() -> None:
    # the real 1.5B's repair of a range tool: `from typing import List, float`
    reply = TYPING_TOOL.replace("from typing import List", "from typing import List, float")
    draft = parse_reply(reply)
    assert isinstance(draft, ToolDraft), draft
    assert draft.source.startswith("from typing import List\n")
    assert "dropped `float` from `from typing import` (a builtin)" in draft.notes
    only = parse_reply(reply.replace("from typing import List, float", "from typing import int"))
    assert isinstance(only, ToolDraft) and "from typing" not in only.source.split("def")[0]


# -- shape: a model stuck on its own failing code --------------------------------------------
# The real 1.5B's LATM Boolean tool (session 11): a hand parser that cannot read a "not" or a
# bracket; shown this code with the failures, it sent it back in 6 of 6 warm samples.
STUCK_PARSER = '''```python tool
def evaluate_expression(expression: str) -> bool:
    """Evaluate the result of a random Boolean expression."""
    def parse(expr):
        if expr == "True":
            return True
        if expr == "False":
            return False
        left, op, right = expr.split()
        if op == "and":
            return parse(left) and parse(right)
        return parse(left) or parse(right)
    return parse(expression)
```
'''
# Shown only the signature, the docstring and the failures, it wrote this (eval runs as
# safe_eval in the sandbox).
REWRITTEN = '''```python tool
def evaluate_expression(expression: str) -> bool:
    """Evaluate the result of a random Boolean expression."""
    return eval(expression)
```
'''


# The real 1.5B's blind repairs of the Boolean LATM unit (session 12, twice in one run): the
# value of the task's example expression, as a constant.
CONSTANT = '''```python tool
def evaluate_expression(expression: str) -> bool:
    """Evaluate the result of a random Boolean expression."""
    return not (True and False) or False
```
'''


WRAP = "```python usage\nevaluate_expression(expression='not True')  # -> False\n```"


def _boolean_tasks() -> list[Task]:
    def task(i: int, text: str, answer: bool, split: str = "train") -> Task:
        return Task(
            f"b-{i}",
            f"Evaluate the result of a random Boolean expression.\n\n{text}",
            "boolean_expressions",
            split=split,
            examples=(ExampleCase({"expression": text}, answer),),
        )

    return [
        task(1, "True and not False", True),
        task(2, "not True or False", False),
        task(3, "( False or True ) and not ( True and True )", False, "validation"),
    ]


def _latm_unit(sb: Sandbox, model: ScriptedModel, options: Options) -> dict[str, Any]:
    """The Boolean tasks' LATM unit run to its end with `model`."""
    ctx = Context(client_for(model), sb, Library(MemoryStore()), None, options)
    graph = LATM.build(ctx).compile()
    [state] = [graph.invoke(u.state, {"recursion_limit": 50}) for u in LATM.units(_boolean_tasks())]
    return state


def test_a_model_stuck_on_its_code_is_asked_without_it(sb: Sandbox) -> None:
    # propose -> fails; repair sends it back -> starts over; the fresh proposal fails the same
    # checks; the next repair is not shown the code and rewrites the body
    model = ScriptedModel([STUCK_PARSER, STUCK_PARSER, STUCK_PARSER, REWRITTEN, WRAP])
    state = _latm_unit(sb, model, Options(max_examples=10))
    model.assert_consumed()
    assert [c.phase for c in model.calls] == ["propose", "repair", "propose", "repair", "wrap"]
    first, blind = model.calls[1].messages, model.calls[3].messages
    assert "left, op, right = expr.split()" in first[-1]["content"]
    assert not any("expr.split()" in m["content"] for m in blind)
    assert "def evaluate_expression(expression: str) -> bool:" in blind[-1]["content"]
    assert "the body that failed is not shown" in blind[-1]["content"]
    assert "safe_eval(expression)" in blind[-1]["content"]  # the failures' note is still there
    assert state["status"] == "accepted", state["rejections"]


def test_a_blind_repair_that_ignores_its_input_is_drawn_again(sb: Sandbox) -> None:
    replies = [STUCK_PARSER, STUCK_PARSER, STUCK_PARSER, CONSTANT, REWRITTEN, WRAP]
    model = ScriptedModel(replies)
    state = _latm_unit(sb, model, Options(max_examples=10))
    model.assert_consumed()
    phases = [c.phase for c in model.calls]
    assert phases == ["propose", "repair", "propose", "repair", "repair", "wrap"], phases
    assert model.calls[4].messages == model.calls[3].messages  # the same blind prompt, again
    assert state["status"] == "accepted", state["rejections"]
    assert state["repairs"] == 2  # the draft set aside did not use up a repair
    [aside] = [r for r in state["rejections"] if r["reason"] == "ignored_input"]
    assert "never uses its input" in aside["message"]
    assert "return not (True and False) or False" in aside["source"]


def test_blind_redraws_are_bounded_and_the_last_draw_is_verified(sb: Sandbox) -> None:
    # every draw is a constant: the last one goes on to verify, which says why it fails
    replies = [STUCK_PARSER, STUCK_PARSER, STUCK_PARSER, CONSTANT, CONSTANT]
    model = ScriptedModel(replies)
    state = _latm_unit(sb, model, Options(max_examples=10, max_repairs=2, blind_redraws=1))
    model.assert_consumed()
    assert [c.phase for c in model.calls] == ["propose", "repair", "propose", "repair", "repair"]
    assert state["status"] == "rejected"
    reasons = [r["reason"] for r in state["rejections"]]
    assert reasons.count("ignored_input") == 1
    assert "repairs exhausted" in state["reason"]
    assert "never uses its input" in state["rejections"][-1]["message"]


BOOLEAN_CALL = (
    '```python call\nevaluate_expression(expression="not ( True and False ) or False")\n```'
)
# The real 1.5B's CREATOR Boolean tool (session 11): a parser that recursed on its own input.
RECURSING = '''```python tool
def evaluate_expression(expression: str) -> bool:
    """Evaluate the result of a random Boolean expression."""
    text = expression.strip()
    if text == "True":
        return True
    if text == "False":
        return False
    return evaluate_expression(text)
```
'''


def test_creator_rectify_stuck_on_the_same_error_is_asked_without_the_code(
    tmp_path: Path, sb: Sandbox
) -> None:
    from tests.maker.make.test_creator import BOOLEAN_TASK as task

    # create -> RecursionError; rectify sends it back -> starts over; the fresh tool fails the
    # same way; the next rectify is not shown the code and rewrites the body
    model = ScriptedModel([RECURSING, BOOLEAN_CALL, RECURSING, RECURSING, BOOLEAN_CALL, REWRITTEN])
    report = run(tmp_path, sb, model, [task])
    phases = [c.phase for c in model.calls]
    assert phases == ["create", "decide", "rectify", "create", "decide", "rectify"], phases
    model.assert_consumed()
    first, blind = model.calls[2].messages, model.calls[5].messages
    assert "return evaluate_expression(text)" in first[-1]["content"]
    assert not any("evaluate_expression(text)" in m["content"] for m in blind)
    assert "the body that failed is not shown" in blind[-1]["content"]
    assert report.accepted == 1


def test_a_blind_rectify_that_ignores_its_input_is_drawn_again(tmp_path: Path, sb: Sandbox) -> None:
    from tests.maker.make.test_creator import BOOLEAN_TASK as task

    model = ScriptedModel(
        [RECURSING, BOOLEAN_CALL, RECURSING, RECURSING, BOOLEAN_CALL, CONSTANT, REWRITTEN]
    )
    report = run(tmp_path, sb, model, [task])
    phases = [c.phase for c in model.calls]
    assert phases == ["create", "decide", "rectify", "create", "decide", "rectify", "rectify"]
    model.assert_consumed()
    assert model.calls[6].messages == model.calls[5].messages
    assert report.accepted == 1
