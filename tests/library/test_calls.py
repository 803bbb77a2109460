"""The one literal-call reader and argument check every door to a tool uses."""

from __future__ import annotations

import pytest

from library.calls import (
    NotLiteral,
    argument_problem,
    argument_problems,
    literal_value,
    parse_literal_call,
)
from library.records import ToolSpec
from library.spec import derive_spec

SORT = '''def sort_words(words: list[str], reverse: bool = False) -> list[str]:
    """Sort words."""
    return sorted(words, reverse=reverse)
'''
PARAMS = ["a", "b"]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("gcd(12, 18)", {"a": 12, "b": 18}),
        ("gcd(12, b=18)", {"a": 12, "b": 18}),
        ("  gcd(b=(1, 2))  ", {"b": (1, 2)}),
        ("gcd(*xs)", "*args and **kwargs are not supported"),
        ("gcd(**kw)", "*args and **kwargs are not supported"),
        ("gcd(1, 2, 3)", "3 positional arguments, the tool takes 2"),
        ("gcd(c=1)", "unknown argument 'c'; the tool takes (a, b)"),
        ("gcd(1, a=2)", "argument 'a' is given twice"),
        ("gcd(a=__import__('os').getpid())", "is not a literal"),
        ("gcd(a=x)", "argument 'a': 'x' is not a literal"),
        # constant arithmetic is computed (the real 1.5B's calls); nothing else is
        ("gcd(a=21.73 - 18.27, b=0.0)", {"a": 3.46, "b": 0.0}),
        ("gcd(45 * math.pi, 3)", {"a": 141.371669411541, "b": 3}),
        ("gcd(a=x + 1)", "argument 'a': 'x + 1' is not a literal"),
        ("gcd(a=1 / 0)", "argument 'a': '1 / 0' is not a literal"),
        ("gcd(a='ab' * 2)", "argument 'a': \"'ab' * 2\" is not a literal"),
    ],
)
def test_a_call_is_read_as_literals_or_refused_with_a_reason(text: str, want: object) -> None:
    got = parse_literal_call(text, "gcd", PARAMS)
    if isinstance(want, dict):
        assert got == want
    else:
        assert isinstance(got, str) and str(want) in got, got


def test_what_is_not_a_call_of_the_tool_is_none() -> None:
    for text in ["lcm(1, 2)", "x = gcd(1, 2)", "gcd", "gcd(1,", "print(gcd(1, 2))", ""]:
        assert parse_literal_call(text, "gcd", PARAMS) is None, text


def test_names_required_and_json_form() -> None:
    assert parse_literal_call("gcd(n, 2)", "gcd", PARAMS, names={"n": 36}) == {"a": 36, "b": 2}
    assert parse_literal_call("gcd(1)", "gcd", PARAMS, required={"a", "b"}) == (
        "missing argument 'b'"
    )
    got = parse_literal_call("gcd((1, 2), {3})", "gcd", PARAMS, as_json=True)
    assert got == {"a": [1, 2], "b": [3]}
    assert "mixed types" in str(parse_literal_call("gcd({1, 'x'})", "gcd", PARAMS, as_json=True))
    assert literal_value(" [1, -2.5, None] ") == [1, -2.5, None]
    with pytest.raises(NotLiteral, match="is not a literal"):
        literal_value("open('x')")
    # arithmetic is folded only where asked (a call's arguments and bindings), with bound names
    with pytest.raises(NotLiteral, match="is not a literal"):
        literal_value("2 * 3")
    assert literal_value("2 * n", names={"n": 4}, fold=True) == 8
    assert parse_literal_call("gcd(n - 1)", "gcd", PARAMS, names={"n": 36}) == {"a": 35}


def test_json_arguments_against_the_spec() -> None:
    spec = derive_spec(SORT)
    assert isinstance(spec, ToolSpec)
    assert argument_problems(spec, {"words": ["b", "a"]}) == []
    assert argument_problems(spec, {"words": ["a", 3], "n": 1}) == [
        "unknown argument(s) 'n'",
        "words[1]: 3 is not of type 'string' (got integer)",
    ]
    assert argument_problems(spec, {"reverse": "yes"}) == [
        "missing required argument(s) 'words'",
        "reverse: 'yes' is not of type 'boolean' (got string)",
    ]
    assert argument_problem(spec, {"words": ["a"], "reverse": True}) is None
    assert argument_problem(spec, {"words": "a"}) == "words: 'a' is not of type 'array'"
    assert argument_problem(spec, {}) == "'words' is a required property"
