"""The reply format: tolerant parsing, the JSON schema, argument and program checks; answers."""

from __future__ import annotations

import json

import jsonschema
import pytest

from library import Library
from maker.tasks.checks import UnknownCheckError
from maker.use.answer import (
    answer_format,
    final_answer,
    is_correct,
    named_choice,
    options,
    to_choice,
    unnamed_options,
)
from maker.use.reply import (
    Decision,
    Problem,
    check_call,
    check_program,
    decision_schema,
    parse_decision,
)

CALL = {"kind": "call", "tool": "gcd", "arguments": {"a": 12, "b": 18}}


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(CALL),
        "```json\n" + json.dumps(CALL) + "\n```",
        "Here is my call:\n```\n" + json.dumps(CALL) + "\n```\nIt computes the gcd.",
        "I will call the tool. " + json.dumps(CALL) + " That should work {maybe}.",
        '{"tool": "gcd", "arguments": {"a": 12, "b": 18}}',  # the tool-first form
        '{"kind": "call", "tool": "gcd", "arguments": "{\\"a\\": 12, \\"b\\": 18}"}',
    ],
)
def test_a_call_is_read_through_fences_prose_and_small_slips(text: str) -> None:
    assert parse_decision(text) == Decision("call", "gcd", {"a": 12, "b": 18})


def test_programs_answers_and_what_is_not_a_decision() -> None:
    prog = parse_decision('{"kind": "program", "program": "def solve():\\n    return 1"}')
    assert prog == Decision("program", program="def solve():\n    return 1")
    assert parse_decision('{"answer": 42}') == Decision("answer", answer=42)
    # the tool-first forms: "none" answers, "program" composes
    assert parse_decision('{"tool": "none", "answer": "6"}') == Decision("answer", answer="6")
    assert parse_decision('{"tool": "program", "program": "def solve():\\n    return 1"}') == prog
    assert parse_decision('{"tool": "program", "arguments": {"n": 1}}') == Decision(
        "call", "program", {"n": 1}
    )  # a tool named "program" is still callable
    for text, code in (
        ("", "empty"),
        ("the answer is 6", "not_json"),
        ("[1, 2]", "not_json"),
        ('{"kind": "call", "arguments": {}}', "no_tool"),
        ('{"kind": "program", "program": ""}', "no_program"),
        ('{"kind": "answer"}', "no_answer"),
        ('{"tool": "none"}', "no_answer"),
        ('{"x": 1}', "bad_kind"),
    ):
        got = parse_decision(text)
        assert isinstance(got, Problem) and got.code == code and got.stage == "well_formed"


def test_the_schema_is_valid_and_accepts_exactly_the_reply_forms(lib: Library) -> None:
    call = {"tool": "gcd", "arguments": {"a": 12, "b": 18}}
    ok = [call, {"tool": "program", "program": "x"}, {"tool": "none", "answer": "6"}]
    bad = [
        {**call, "tool": "other"},
        {"tool": "gcd"},
        {"tool": "none"},
        {"kind": "guess"},
        {**call, "extra": 1},
    ]
    names = decision_schema(["gcd", "lcm"])
    specs = decision_schema({r.name: r.spec.input_schema() for r in lib.store.list()})
    for schema in (names, specs):
        jsonschema.Draft202012Validator.check_schema(schema)
        for value in ok:
            jsonschema.validate(value, schema)
        for value in bad:
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(value, schema)
    # with the tools' specs, each call's arguments are constrained to its tool's parameters
    for args in ({"a": "12", "b": 18}, {"a": 12}, {"a": 1, "b": 2, "c": 3}, {"words": ["x"]}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"tool": "gcd", "arguments": args}, specs)
    jsonschema.validate({"tool": "sort_words", "arguments": {"words": ["b", "a"]}}, specs)
    only_answer = decision_schema([])
    jsonschema.validate({"tool": "none", "answer": 1}, only_answer)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(call, only_answer)


def test_arguments_are_checked_against_the_tool_spec(lib: Library) -> None:
    offered = {r.name: r for r in lib.store.list()}
    assert check_call(Decision("call", "gcd", {"a": 1, "b": 2}), offered) is None
    assert check_call(Decision("call", "gcd@1", {"a": 1, "b": 2}), offered) is None
    nested = check_call(Decision("call", "sort_words", {"words": ["a", 3]}), offered)
    assert nested is not None and "words[1]: 3 is not of type 'string'" in nested.message
    unknown = check_call(Decision("call", "lcm", {}), offered)
    assert unknown is not None and unknown.stage == "tool_chosen"
    assert "gcd" in unknown.message and "sort_words" in unknown.message


def test_programs_are_parsed_never_run() -> None:
    assert check_program("def solve():\n    return gcd(1, 2)", ["gcd"]) is None
    assert check_program("answer = gcd(1, 2)", ["gcd"]) is None
    for src, code in (
        ("def solve(:", "syntax_error"),
        ("x = 1", "no_result"),
        ("maker_tool_0 = 1\nanswer = 1", "reserved_name"),
        ("def gcd(a, b):\n    return 1\nanswer = gcd(1, 2)", "shadows_tool"),
        ("answer = 1\n" + "#" * 5000, "program_too_long"),
    ):
        problem = check_program(src, ["gcd"])
        assert problem is not None and problem.code == code


MC = (
    "Which is the largest?\nOptions:\n(A) The owl is the rightmost\n(B) The quail is the "
    "rightmost\n(C) The raven is the rightmost"
)


def test_multiple_choice_maps_a_tool_output_to_its_option_label() -> None:
    assert options(MC) == {
        "A": "The owl is the rightmost",
        "B": "The quail is the rightmost",
        "C": "The raven is the rightmost",
    }
    assert answer_format(MC) == "choice" and answer_format("What is 2 + 2?") == "value"
    assert answer_format("x", {"answer_format": "value"}) == "value"
    assert to_choice("B", options(MC)) == "(B)" and to_choice("(c)", options(MC)) == "(C)"
    assert to_choice("(D)", options(MC)) is None
    assert to_choice("the quail is the rightmost.", options(MC)) == "(B)"
    assert to_choice("raven", options(MC)) == "(C)"  # inside exactly one option
    assert to_choice("rightmost", options(MC)) is None  # inside every option: no guess
    assert final_answer("quail", MC) == "(B)" and final_answer(7, "What is 3 + 4?") == 7
    assert final_answer("nothing like it", MC) == "nothing like it"


SHORTAGE = (
    "Table:\nPrice | Quantity demanded | Quantity supplied\n$155 | 22,600 | 5,800\n"
    "$275 | 20,500 | 9,400\n\nQuestion: Look at the table. Then answer the question. At a "
    "price of $155, is there a shortage or a surplus?\nOptions: shortage; surplus"
)
SHORTAGE_META = {"choices": ["shortage", "surplus"]}


def test_bare_text_options_are_answered_with_the_option_a_value_names() -> None:
    assert named_choice("Surplus.", ["shortage", "surplus"]) == "surplus"
    assert named_choice("a surplus of 200", ["shortage", "surplus"]) == "surplus"
    assert named_choice("no", ["yes", "no"]) == "no"
    assert named_choice("none", ["yes", "no"]) is None  # not the word "no"
    assert named_choice(13000, ["shortage", "surplus"]) is None
    assert named_choice("shortage or surplus", ["shortage", "surplus"]) is None  # both
    assert final_answer(" SHORTAGE ", SHORTAGE, SHORTAGE_META) == "shortage"
    assert final_answer(13000, SHORTAGE, SHORTAGE_META) == 13000
    assert final_answer("shortage", SHORTAGE, {**SHORTAGE_META, "answer_format": "value"}) == (
        "shortage"
    )


def test_a_value_that_names_no_option_is_found_out() -> None:
    # the real 0.5B called a table-statistics tool on this question: its median answers neither
    assert unnamed_options(13000, SHORTAGE, SHORTAGE_META) == ["shortage", "surplus"]
    assert unnamed_options("shortage", SHORTAGE, SHORTAGE_META) == []
    assert unnamed_options(13000, SHORTAGE) == []  # no options known: nothing to say
    assert unnamed_options(13000, SHORTAGE, {**SHORTAGE_META, "answer_format": "value"}) == []
    assert unnamed_options("quail", MC) == [] and unnamed_options(12, MC) == [
        "(A) The owl is the rightmost",
        "(B) The quail is the rightmost",
        "(C) The raven is the rightmost",
    ]
    # the task's own check may read an option in the value: TabMWP's grader takes "2:35 PM"
    # for "2:35 P.M.", which the plain comparison does not
    times = {"choices": ["2:25 P.M.", "2:35 P.M."], "answer_check": "tabmwp"}
    assert unnamed_options("2:35 PM", "When?", times) == []
    assert unnamed_options("2:35 PM", "When?", {"choices": times["choices"]}) != []


def test_answers_are_compared_after_normalizing() -> None:
    assert is_correct(6, 6) and is_correct("6", 6) and is_correct(6.0, "6")
    assert is_correct(0.1 + 0.2, 0.3) and not is_correct(0.31, 0.3)
    assert is_correct(["apple", "Banana"], "apple banana") and is_correct(" Paris. ", "paris")
    assert is_correct(True, "True") and not is_correct(True, 1)
    assert is_correct("(B)", "(B)") and not is_correct("(A)", "(B)")
    assert is_correct("1,000", 1000) and not is_correct("10", 1)


def test_a_task_names_a_further_answer_check() -> None:
    math = {"answer_check": "math"}  # installed by this package (experiments' MATH grader)
    assert is_correct(5.5, r"\frac{11}{2}", math) and not is_correct(5.5, r"\frac{11}{2}")
    assert is_correct((-1, 6), "(-1,6)", math) and not is_correct((6, -1), "(-1,6)", math)
    assert not is_correct(0.3333, r"\frac{1}{3}", math)  # strict: no rounding
    tab = {"answer_check": "tabmwp", "choices": ["shortage", "surplus"], "unit": None}
    assert is_correct("(B)", "surplus", tab) and not is_correct("(A)", "surplus", tab)
    assert is_correct("$1,000", "1000", {"answer_check": "tabmwp"})
    with pytest.raises(UnknownCheckError, match="'nope' is not installed"):
        is_correct(1, 2, {"answer_check": "nope"})
