"""Validation in the sandbox: correct tools pass; wrong, constant, hard-coded, example-branching
and hostile tools fail with a reason (and the Hypothesis minimal input where there is one)."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from library.verdict import Failure, Verdict
from maker.check.generality import (
    constant_output,
    example_branches,
    hardcoded_constants,
    numbers_in_text,
    sample_inputs,
)
from maker.check.validation import repair_feedback, validate
from maker.text.drafts import ToolDraft, parse_reply
from sandbox import DEFAULT_POLICY, ExampleCase, Sandbox

GCD_BODY = "    while b:\n        a, b = b, a % b\n    return abs(a)\n"
HEAD = 'def gcd(a: int, b: int) -> int:\n    """Greatest common divisor of a and b."""\n'
TESTS = """
```python tests
def test_known():
    assert gcd(12, 18) == 6

def prop_divides(a: int, b: int):
    g = gcd(a, b)
    if g:
        assert a % g == 0 and b % g == 0
```

```json properties
[{"name": "prop_divides", "strategies": {"a": {"type": "integers", "min_value": 0,
  "max_value": 1000}, "b": {"type": "integers", "min_value": 0, "max_value": 1000}}}]
```
"""
EXAMPLES = [ExampleCase({"a": 12, "b": 18}, 6), ExampleCase({"a": 7, "b": 3}, 1)]
HELD_OUT = [ExampleCase({"a": 100, "b": 75}, 25), ExampleCase({"a": 150, "b": 100}, 50)]
TASK = "Find the greatest common divisor of 12 and 18."


def make(body: str, tests: str = TESTS, head: str = HEAD) -> ToolDraft:
    result = parse_reply(f"```python tool\n{head}{body}```\n{tests}")
    assert isinstance(result, ToolDraft), result
    return result


def check(sb: Sandbox, draft: ToolDraft, **kw: object) -> Verdict:
    kw = {"examples": EXAMPLES, "held_out": HELD_OUT, "task_text": TASK, **kw}
    verdict = validate(sb, draft, **kw)  # type: ignore[arg-type]
    assert Verdict.from_json(verdict.to_json()) == verdict
    return verdict


def test_correct_tool_passes_every_check(sb: Sandbox) -> None:
    verdict = check(sb, make(GCD_BODY))
    assert verdict.passed and not verdict.failures, verdict.failures
    assert verdict.counts["example"] == 2 and verdict.counts["held_out"] == 2
    assert verdict.counts["unit"] == 1 and verdict.counts["property"] == 1
    assert verdict.counts["robustness"] == 1 and verdict.counts["sample_runs"] >= 3
    assert {"static_ms", "suite_ms", "generality_ms", "total_ms"} <= set(verdict.timings)


def test_wrong_tool_fails_with_the_minimal_failing_input(sb: Sandbox) -> None:
    buggy = GCD_BODY.replace("return abs(a)", "return abs(a) if abs(a) < 50 else abs(a) + 1")
    verdict = check(sb, make(buggy))
    assert not verdict.passed and verdict.recoverable
    (prop,) = verdict.by_kind("property")
    assert prop.minimal_input == {"a": 0, "b": 50} and prop.error_type == "AssertionError"
    (held,) = verdict.by_kind("held_out")
    assert (held.expected, held.actual) == (50, 51)
    feedback = repair_feedback(verdict)
    assert 'minimal failing input: {"a": 0, "b": 50}' in feedback
    assert "150" not in feedback and "held-out case failed" in feedback


def test_held_out_cases_called_with_other_keywords_say_the_keywords(sb: Sandbox) -> None:
    # the real 1.5B named its parameters otherwise than the problem said the cases pass them:
    # every held-out case failed with a bare "(TypeError)" and it never found out why
    head = 'def gcd(x: int, y: int) -> int:\n    """Greatest common divisor of x and y."""\n'
    body = GCD_BODY.replace("a, b = b, a % b", "x, y = y, x % y").replace("abs(a)", "abs(x)")
    verdict = check(sb, make(body.replace("while b", "while y"), tests="", head=head), examples=[])
    feedback = repair_feedback(verdict)
    assert "a held-out case failed (TypeError: gcd() got an unexpected keyword argument 'a')" in (
        feedback
    )
    assert "it calls the tool with the keyword arguments a, b; their values are not shown" in (
        feedback
    )
    assert "100" not in feedback and "150" not in feedback and "75" not in feedback


def test_held_out_cases_the_maker_never_saw_catch_overfitting(sb: Sandbox) -> None:
    # right on the examples (and its own test), wrong in general
    verdict = check(sb, make("    return 6 if a % 6 == 0 else 1\n", tests=""))
    assert not verdict.passed and not verdict.by_kind("example")
    assert len(verdict.by_kind("held_out")) == 2


def test_robustness_property_finds_crashes_on_hinted_inputs(sb: Sandbox) -> None:
    head = 'def first(xs: list[int]) -> int:\n    """The first item."""\n'
    draft = make("    return xs[0]\n", tests="", head=head)
    verdict = validate(sb, draft, examples=[ExampleCase({"xs": [3, 1]}, 3)])
    (rob,) = verdict.by_kind("robustness")
    assert rob.minimal_input == {"xs": []} and rob.error_type == "IndexError"
    # a deliberate ValueError on bad input is fine
    ok = make(
        "    if not xs:\n        raise ValueError('empty')\n    return xs[0]\n", tests="", head=head
    )
    assert validate(sb, ok, examples=[ExampleCase({"xs": [3, 1]}, 3)]).passed


def test_a_type_error_on_values_an_open_hint_lets_in_is_no_robustness_failure(
    sb: Sandbox,
) -> None:
    # the real 1.5B's right Chinese-remainder tool took `args: list` of (remainder, modulus)
    # pairs and was failed for a TypeError on `[0]`: a bare `list` promises nothing about its
    # items, and a TypeError for an item of the wrong type is what Python code raises
    body = "    if not pairs:\n        raise ValueError('empty')\n    return sum(p[0] for p in pairs)\n"
    cases = [ExampleCase({"pairs": [[1, 2], [3, 4]]}, 4)]
    for hint, passed in (("list", True), ("list[Any]", True), ("list[int]", False)):
        head = (
            f'def firsts(pairs: {hint}) -> int:\n    """Sum of the first items of the pairs."""\n'
        )
        verdict = validate(sb, make(body, tests="", head=head), examples=cases)
        assert verdict.passed is passed, (hint, verdict.failures)
        if not passed:  # typed items: a TypeError on an int is a crash on valid input
            assert verdict.by_kind("robustness")[0].error_type == "TypeError"


def test_constant_output_is_caught(sb: Sandbox) -> None:
    verdict = check(sb, make("    return 6\n", tests=""))
    (const,) = verdict.by_kind("constant_output")
    assert const.actual == 6 and "different inputs" in const.message
    # one source problem (CREATOR / CRAFT): the constant is that problem's answer
    single = validate(sb, make("    return 6\n", tests=""), examples=EXAMPLES[:1])
    assert single.by_kind("constant_output") and not single.by_kind("example")


def test_a_tool_without_parameters_is_no_tool(sb: Sandbox) -> None:
    # the real 1.5B's CRAFT abstraction of one MATH solution, accepted before: it searches for
    # one answer and takes nothing a problem like it could change
    reply = """```python
def least_multiple() -> int:
    \"\"\"The least positive multiple of 30 written with only the digits 0 and 2.\"\"\"
    num = 60
    while True:
        if all(digit in '02' for digit in str(num)):
            return num
        num += 60
```

```python
def test_known():
    assert least_multiple() == 2220
```"""
    draft = parse_reply(reply)
    assert isinstance(draft, ToolDraft), draft
    verdict = validate(
        sb,
        draft,
        examples=[],
        held_out=[ExampleCase({}, 2220)],
        task_text="What is the least positive integer multiple of 30 that can be written with "
        "only the digits 0 and 2?",
    )
    assert not verdict.passed
    (none,) = verdict.by_kind("constant_output")
    assert none.name == "no_parameters" and "takes no parameters" in none.message
    assert "takes no parameters" in repair_feedback(verdict)


def test_hardcoded_answer_is_caught(sb: Sandbox) -> None:
    head = 'def total(n: int) -> int:\n    """Sum of 1..n."""\n'
    draft = make("    if n > 0:\n        return 5050\n    return 0\n", tests="", head=head)
    verdict = validate(
        sb, draft, examples=[ExampleCase({"n": 100}, 5050)], task_text="What is 1 + 2 + ... + 100?"
    )
    assert any(
        f.name == "answer_literal" and f.actual == 5050
        for f in verdict.by_kind("hardcoded_constant")
    )
    assert verdict.by_kind("constant_output")
    good = make("    return n * (n + 1) // 2\n", tests="", head=head)
    assert validate(
        sb, good, examples=[ExampleCase({"n": 100}, 5050)], task_text="What is 1 + 2 + ... + 100?"
    ).passed


def test_problem_constants_in_the_code_are_caught(sb: Sandbox) -> None:
    head = 'def speed(hours: float) -> float:\n    """Speed of a train over a trip."""\n'
    draft = make("    return 137 / hours\n", tests="", head=head)
    verdict = validate(
        sb,
        draft,
        examples=[ExampleCase({"hours": 2.0}, 68.5)],
        task_text="A train travels 137 km in 2 hours. What is its speed?",
    )
    (hard,) = verdict.by_kind("hardcoded_constant")
    assert hard.name == "problem_constant" and hard.line == 3 and "137" in hard.message


def test_branching_on_example_inputs_is_caught(sb: Sandbox) -> None:
    body = "    if a == 12 and b == 18:\n        return 6\n" + GCD_BODY
    verdict = check(sb, make(body))
    (branch,) = verdict.by_kind("example_branch")
    assert branch.line == 3 and "12" in branch.message
    table = "    table = {(7, 3): 1}\n    if (a, b) in table:\n        return table[(a, b)]\n"
    assert check(sb, make(table + GCD_BODY)).by_kind("example_branch")


def test_hostile_drafts_are_refused_before_running(sb: Sandbox) -> None:
    for source in (
        "import os\n" + HEAD + "    return os.getpid()\n",
        HEAD + "    return ().__class__.__bases__[0]\n",
    ):
        draft = ToolDraft(
            "gcd",
            "def gcd(a: int, b: int) -> int",
            "d",
            source,
            params=(("a", "int"), ("b", "int")),
            returns="int",
        )
        verdict = validate(sb, draft, examples=EXAMPLES)
        (failure,) = verdict.failures
        assert failure.kind == "static" and failure.terminal and verdict.terminal
        assert verdict.counts == {"static": 1} and "suite_ms" not in verdict.timings


def test_hostile_tests_are_contained_by_the_sandbox(sb: Sandbox) -> None:
    tests = "def test_escape():\n    x = ().__class__\n"
    draft = replace(make(GCD_BODY, tests=""), unit_tests=tests)
    verdict = validate(sb, draft, examples=EXAMPLES)
    (unit,) = verdict.by_kind("unit")
    assert unit.error_type == "PolicyError" and "__class__" in unit.message


def test_policy_violation_at_runtime_is_terminal(sb: Sandbox) -> None:
    # a policy loose enough to pass the static checks; the sandbox's tripwire still fires
    loose = DEFAULT_POLICY.allow("os", ("system",))
    source = (
        'import os\n\n\ndef shell(n: int) -> int:\n    """Run a command."""\n'
        "    try:\n        os.system('true')\n    except BaseException:\n        pass\n"
        "    return n\n"
    )
    draft = ToolDraft(
        "shell",
        "def shell(n: int) -> int",
        "Run a command.",
        source,
        params=(("n", "int"),),
        returns="int",
    )
    verdict = validate(sb, draft, examples=[ExampleCase({"n": 1}, 1)], policy=loose)
    assert not verdict.passed and verdict.terminal
    assert any(f.limit == "policy" and f.terminal for f in verdict.failures)
    assert repair_feedback(verdict).startswith("<test_failures>")


def test_unparsable_source_is_a_recoverable_static_failure(sb: Sandbox) -> None:
    draft = make(GCD_BODY)
    draft = replace(draft, source=draft.source.replace("a, b = b", "a, b = (b"))
    verdict = validate(sb, draft, examples=EXAMPLES)
    assert not verdict.passed and verdict.failures[0].kind == "static"
    assert verdict.recoverable


def test_code_the_sandbox_refuses_to_compile_is_a_compile_failure(sb: Sandbox) -> None:
    body = "    class K(metaclass=type):\n        pass\n" + GCD_BODY
    verdict = check(sb, make(body))
    (failure,) = verdict.failures
    assert failure.kind == "compile" and verdict.recoverable and failure.line == 3


def test_verdict_json_round_trip_and_library_shape() -> None:
    verdict = Verdict(
        False,
        True,
        (Failure("property", "p", "AssertionError", {"a": 0}, None, 3, 4, "AssertionError"),),
        {"total_ms": 1.5},
        {"property": 1},
        ("note",),
    )
    data = verdict.to_json()
    assert Verdict.from_json(data) == verdict
    assert {"passed", "recoverable", "failures", "timings"} <= set(data)
    assert Verdict.from_json(json.loads(json.dumps(data))) == verdict


def test_examples_use_the_one_key_convention(sb: Sandbox) -> None:
    good = {"input": {"a": 12, "b": 18}, "expected": 6}
    verdict = check(sb, make(GCD_BODY), examples=[good])
    assert verdict.passed and ExampleCase.from_json(good) == ExampleCase({"a": 12, "b": 18}, 6)
    for bad, says in (
        ({"args": {"a": 12, "b": 18}, "expected": 6}, "example 0 is not an object with an 'input'"),
        ({"input": {"a": 1, "b": 2}}, "example 0 has no 'expected' value"),
    ):
        with pytest.raises(ValueError, match=re.escape(says)):
            check(sb, make(GCD_BODY), examples=[bad])


def test_repair_feedback_is_bounded_and_varied() -> None:
    failures = tuple(
        Failure("unit", f"test_{i}", "AssertionError: " + "x" * 5000, {"n": list(range(500))})
        for i in range(50)
    )
    failures += (Failure("property", "prop_p", "boom", {"a": 0}),)
    text = repair_feedback(Verdict(False, True, failures), max_chars=2000)
    assert len(text) <= 2000
    assert "prop_p" in text and "more failure(s)" in text
    assert text.startswith("<test_failures>") and text.endswith("</test_failures>")
    assert repair_feedback(Verdict(True, False)) == "All checks passed."


def test_repair_feedback_shows_safe_eval_on_shown_inputs_never_on_held_out_ones() -> None:
    # the real 1.5B's LATM Boolean tool parsed digits only (bench of 2026-12-03); told that
    # safe_eval exists, its repairs sent the same parser back: the note now gives the line
    held_out = "( True and not True ) or not False"
    failures = (
        Failure(
            "example",
            "example[0]",
            "ValueError: Invalid character: T",
            {"expression": "True and not False"},
            True,
            None,
            27,
            "ValueError",
        ),
        Failure(
            "held_out",
            "held_out[0]",
            "ValueError: Invalid character: (",
            {"expression": held_out},
            True,
            None,
            27,
            "ValueError",
        ),
    )
    text = repair_feedback(Verdict(False, True, failures))
    assert "safe_eval(expression) gives the expected value on the failing example" in text
    assert "`return safe_eval(expression)`" in text
    assert held_out not in text
    only_hidden = repair_feedback(Verdict(False, True, failures[1:]))
    assert "`return safe_eval(expression)`" in only_hidden and held_out not in only_hidden
    assert "For example" not in only_hidden


# -- the generality checks alone (no sandbox) ------------------------------------------------
def test_constants_in_docstring_or_signature_are_allowed() -> None:
    source = (
        "def interest(p: float, rate: float = 0.035) -> float:\n"
        '    """Yearly interest at 3.5% by default (0.035)."""\n    return p * rate\n'
    )
    ex = [ExampleCase({"p": 1000.0}, 35.0)]
    assert not hardcoded_constants(
        source,
        signature="def interest(p: float, rate: float = 0.035) -> float",
        docstring="Yearly interest at 3.5% by default (0.035).",
        task_text="rate 0.035",
        examples=ex,
    )


def test_small_and_well_known_numbers_are_not_flagged() -> None:
    source = "def f(n: int) -> int:\n    '''d'''\n    return n * 60 + 2\n"
    assert not hardcoded_constants(
        source, task_text="2 hours and 60 minutes", examples=[ExampleCase({"n": 2}, 122)]
    )
    assert not example_branches(
        "def f(n: int) -> int:\n    '''d'''\n    if n == 0:\n        return 1\n    return n\n",
        examples=[ExampleCase({"n": 0}, 1)],
    )


def test_match_statements_on_example_inputs_are_flagged() -> None:
    source = (
        "def f(n: int) -> int:\n    '''d'''\n    match n:\n        case 37:\n"
        "            return 1\n    return 0\n"
    )
    (hit,) = example_branches(source, examples=[ExampleCase({"n": 37}, 1)])
    assert hit.line == 4


def test_numbers_in_text_and_sample_inputs() -> None:
    assert numbers_in_text("It costs $1,200.50 for 3 items, -7 left, x2") == [1200.5, 3, -7]
    rows = sample_inputs([("xs", "list[int]"), ("k", "int | None"), ("s", "str")])
    assert len(rows) == 6 and all(set(r) == {"xs", "k", "s"} for r in rows)
    assert sample_inputs([("q", "Fraction")]) == []
    assert (
        constant_output(
            [({"n": i}, 1) for i in range(3)], [ExampleCase({"n": 1}, 1), ExampleCase({"n": 2}, 2)]
        )
        is not None
    )
    assert constant_output([({"n": i}, 1) for i in range(3)], [ExampleCase({"n": 1}, 5)]) is None


# The real 1.5B's LATM divisor-sum tool (bench of 2026-12-03): it leaves out n itself, and its
# repairs, told only "expected 28, got 16", sent the same code back.
DIVISOR_SUM = '''```python tool
def divisor_sum(n: int) -> int:
    """Sum of all positive divisors of n."""
    if n == 1:
        return 1
    total = 1
    for i in range(2, int(n**0.5) + 1):
        if n % i == 0:
            total += i
            if i != n // i:
                total += n // i
    return total
```
'''


def test_wrong_numbers_say_how_far_off_they_are(sb: Sandbox) -> None:
    draft = parse_reply(DIVISOR_SUM)
    assert isinstance(draft, ToolDraft), draft
    known = [ExampleCase({"n": 12}, 28), ExampleCase({"n": 7}, 8), ExampleCase({"n": 1}, 1)]
    verdict = validate(sb, draft, examples=known, held_out=[], task_text="Sum the divisors.")
    feedback = repair_feedback(verdict)
    assert "expected: 28  actual: 16  (actual - expected = -12)" in feedback
    assert "expected: 8  actual: 1  (actual - expected = -7)" in feedback
    assert "expected: 1  actual: 1" not in feedback  # n = 1 is right


def test_a_tool_that_overwrites_its_input_is_caught(sb: Sandbox) -> None:
    # the shape of the real 1.5B's "random Boolean expression" tool: it builds an expression of
    # its own over its parameter, so its answers are chance, whatever it is given
    body = (
        "    a = random.randint(1, 10**9)\n    b = random.randint(1, 10**9)\n"
        "    while b:\n        a, b = b, a % b\n    return abs(a)\n"
    )
    verdict = check(sb, make(body, head="import random\n" + HEAD))
    (ignored,) = verdict.by_kind("constant_output")  # the sandbox seeds `random`
    assert "overwrites `a` before anything reads it" in ignored.message
    assert not verdict.passed and verdict.recoverable
    # reading a parameter (even to rebind it) is using it
    body = "    a = abs(a)\n    while b:\n        a, b = b, a % b\n    return a\n"
    assert not check(sb, make(body)).by_kind("constant_output")
