"""`safe_eval`, the sandbox's stand-in for eval: literals and operators, nothing reachable."""

from __future__ import annotations

import ast
import re

import pytest

from maker.text.drafts import ToolDraft, parse_reply
from sandbox import Sandbox
from sandbox.expression import arithmetic_value, safe_eval

TOOL = '''def compute(text: str) -> object:
    """The value of an expression given as text."""
    return safe_eval(text)
'''


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("not ( True and False ) or False", True),
        ("( False or not False ) and not True", False),
        ("True and not False and not not True", True),
        ("3 * (4 + 5) - 2 ** 3", 19),
        ("7 // 2 + 7 % 2 - -1", 5),
        ("1 / 4", 0.25),
        ("1 < 2 <= 2 != 3", True),
        ("'ab' + 'c' == 'abc'", True),
        ("'a' in 'cat' and 3 not in [1, 2]", True),
        ("[1, (2, 3)]", [1, (2, 3)]),
        ("'yes' if 2 > 1 else 'no'", "yes"),
        ("0 or ''", ""),
        ("None", None),
    ],
)
def test_literal_expressions_have_their_python_value(text: str, value: object) -> None:
    assert safe_eval(text) == value and type(safe_eval(text)) is type(value)
    assert safe_eval(text, {"__builtins__": None}, {}) == value  # eval's usual call shape


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("__import__('os')", "a call is not allowed"),
        ("(1).real", "an attribute is not allowed"),
        ("[1][0]", "indexing is not allowed"),
        ("x + 1", "the name 'x' is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("[c for c in 'ab']", "ListComp is not allowed"),
        ("{1: 2}", "Dict is not allowed"),
        ("f'{1}'", "JoinedStr is not allowed"),
        ("9 ** 9 ** 9", "too large"),
        ("'a' * 10 ** 9", "too long"),
        ("[0] * 10 ** 9", "too long"),
        ("-" * 200 + "1", "nested too deeply"),
        ("1 +", "not an expression"),
        ("x = 1", "not an expression"),
    ],
)
def test_anything_else_is_a_value_error_saying_what(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        safe_eval(text)


def test_names_cannot_be_passed_in() -> None:
    with pytest.raises(ValueError, match="takes no names"):
        safe_eval("x", {"x": 1})
    with pytest.raises(ValueError, match="needs a str"):
        safe_eval(3)


def test_a_tool_calls_it_in_the_sandbox_and_cannot_reach_past_it(sb: Sandbox) -> None:
    ok = sb.run(TOOL, "compute", kwargs={"text": "not ( True and False ) or False"})
    assert ok.ok and ok.value is True
    bad = sb.run(TOOL, "compute", kwargs={"text": "().__class__"})
    assert not bad.ok and bad.error.type == "ValueError"
    probe = TOOL.replace("return safe_eval(text)", "return getattr(safe_eval, text)")
    for attr in ("__globals__", "__code__", "__wrapped__"):
        leaked = sb.run(probe, "compute", kwargs={"text": attr})
        assert not leaked.ok, attr


def test_a_drafts_eval_call_runs_as_safe_eval() -> None:
    # the real 1.5B's first thought for a Boolean-expression tool; RestrictedPython refuses it
    reply = (
        "```python tool\ndef evaluate_expression(expression: str) -> bool:\n"
        '    """Evaluate a Boolean expression."""\n'
        "    return eval(expression, {'__builtins__': None}, {})\n```"
    )
    draft = parse_reply(reply)
    assert isinstance(draft, ToolDraft), draft
    assert "return safe_eval(expression, {'__builtins__': None}, {})" in draft.source
    assert "ran `eval(...)` as `safe_eval(...)` (literals and operators only)" in draft.notes
    # code that binds its own `eval` keeps it (and is judged as written)
    own = reply.replace("    return eval(", "    eval = str\n    return eval(")
    assert "safe_eval(" not in getattr(parse_reply(own), "source", "")


def test_a_tool_named_like_a_stand_in_still_reaches_it(sb: Sandbox) -> None:
    # the real 1.5B, told of the stand-in (then named `evaluate`), named its own tool
    # `evaluate` too and called itself forever: the stand-in's name is `safe_eval`
    reply = (
        "```python tool\ndef evaluate(expression: str) -> bool:\n"
        '    """Evaluate a Boolean expression."""\n'
        "    return safe_eval(expression)\n```\n\n"
        "```python tests\ndef test_known():\n"
        "    e = 'not ( True and False ) or False'\n"
        "    assert evaluate(e) == eval(e)\n```"
    )
    draft = parse_reply(reply)
    assert isinstance(draft, ToolDraft), draft
    assert "assert evaluate(e) == safe_eval(e)" in draft.unit_tests
    assert "ran `eval(...)` as `safe_eval(...)` (literals and operators only) in the tests" in (
        draft.notes
    )
    result = sb.run(draft.source, "evaluate", kwargs={"expression": "( False or not False )"})
    assert result.ok and result.value is True
    # a draft's own safe_eval that is a parser of its own is kept as written
    parser = reply.replace(
        "```python tool\n",
        '```python tool\ndef safe_eval(t: str) -> bool:\n    """Mine."""\n'
        "    return t.strip() == 'True'\n\n\n",
    )
    kept = parse_reply(parser)
    assert isinstance(kept, ToolDraft) and "return t.strip() == 'True'" in kept.source


# The real 1.5B's LATM proposal for Boolean expressions (bench of 2026-12-03), three proposals
# running: its own `safe_eval` around `eval`, refused as unsupported code every time.
OWN_WRAPPER = '''```python tool
from typing import *

def safe_eval(text: str) -> Any:
    """
    Safely evaluate a string as a Python expression.
    """
    try:
        return eval(text)
    except Exception as e:
        print(f"Error evaluating {text}: {e}")
        return None

def evaluate_boolean_expression(expression: str) -> bool:
    """Evaluate a Boolean expression."""
    return safe_eval(expression) is True
```
'''


def test_a_drafts_own_safe_eval_around_eval_gives_way_to_the_sandboxs(sb: Sandbox) -> None:
    draft = parse_reply(OWN_WRAPPER)
    assert isinstance(draft, ToolDraft), draft
    assert "def safe_eval" not in draft.source and "eval(text)" not in draft.source
    assert any("dropped the code's own `safe_eval`" in n for n in draft.notes)
    result = sb.run(
        draft.source, draft.name, kwargs={"expression": "not ( True and False ) or False"}
    )
    assert result.ok and result.value is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not ( True and False ) or False", True),
        ("3 * (4 + 5) - 2 ** 3", True),
        ("- 5 + 2", True),
        ("[1, 2] + [3]", True),
        ("12", False),
        ("-5", False),
        ("True", False),
        ("x + 1", False),
        ("apple banana cherry", False),
        ("len('ab') + 1", False),
        ("( ( ) )", False),
        ("", False),
        (12, False),
    ],
)
def test_is_expression_reads_syntax_only(text: object, expected: bool) -> None:
    from sandbox.expression import is_expression

    assert is_expression(text) is expected


def test_a_nested_own_safe_eval_around_eval_gives_way_too(sb: Sandbox) -> None:
    # the real 1.5B's CREATOR repair (bench of 2026-12-03): its safe_eval nested in the tool
    reply = (
        "```python\ndef evaluate_expression(expression: str) -> bool:\n"
        '    """Evaluate a Boolean expression."""\n'
        "    def safe_eval(expr):\n        try:\n            return eval(expr)\n"
        "        except Exception as e:\n"
        '            raise ValueError(f"Error evaluating {expr}: {e}")\n\n'
        "    return safe_eval(expression)\n```\n"
    )
    draft = parse_reply(reply)
    assert isinstance(draft, ToolDraft), draft
    assert "eval(expr)" not in draft.source
    assert any("dropped the code's own `safe_eval`" in n for n in draft.notes)
    result = sb.run(draft.source, draft.name, kwargs={"expression": "True and not False"})
    assert result.ok and result.value is True


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # the real 1.5B's call arguments (LATM make job, MATH geometry and TabMWP decimals)
        ("21.73 - 18.27", 3.46),
        ("42.30 * 7", 296.1),
        ("45 * math.pi", 141.371669411541),
        ("1 * math.pow(6.5, 2) / 6.5", 6.5),
        ("4 + 1 / 10", 4.1),
        ("2 ** 10 - -1", 1025),
        ("round(2.567, 2) + abs(-1)", 3.57),
        ("math.floor(2.5)", 2),
        ("a - b", 3.46),  # names bound to numbers earlier in the block
    ],
)
def test_constant_arithmetic_has_its_value(text: str, value: object) -> None:
    node = ast.parse(text, mode="eval").body
    got = arithmetic_value(node, {"a": 21.73, "b": 18.27})
    assert got == value and type(got) is type(value)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("x + 1", "x is not a number"),  # not bound
        ("flag + 1", "flag is not a number"),  # bound, but not to a number
        ("'a' * 3", "'a' is not a number"),
        ("True + 1", "True is not a number"),
        ("open('f')", "open() is not a number function"),
        ("math.system(1)", "is not a number function"),
        ("(1).__class__", "is not constant arithmetic"),
        ("1 / 0", "division by zero"),
        ("math.sqrt(-1)", "math domain error"),
        ("10.0 ** 400", "cannot be computed"),
        ("math.exp(1000)", "cannot be computed"),
        ("10 ** 10000", "too large"),
        ("2 ** 100000000", "too large"),
        ("math.pow(10, 10 ** 9)", "too large"),
        ("(2 ** 9000) * (2 ** 9000)", "too large"),
        ("round(1.5, 'x')", "cannot be computed"),
        (" + ".join(["1"] * 300), "too long"),
    ],
)
def test_anything_else_is_refused_with_a_reason(text: str, why: str) -> None:
    node = ast.parse(text, mode="eval").body
    with pytest.raises(ValueError, match=re.escape(why)):
        arithmetic_value(node, {"flag": True})
