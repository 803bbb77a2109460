"""Parsing model replies into tool drafts: every kind of malformed reply is a clear `Rejection`."""

from __future__ import annotations

import ast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maker.text.blocks import extract_blocks
from maker.text.drafts import REASONS, Rejection, ToolDraft, check_source, parse_reply
from sandbox import DEFAULT_POLICY, Sandbox

TOOL = '''def gcd(a: int, b: int) -> int:
    """Greatest common divisor."""
    while b:
        a, b = b, a % b
    return abs(a)
'''

FULL = f"""Sure! Here is a general tool.

```python tool
import math

{TOOL}```

And its tests:

```python tests
def test_known():
    assert gcd(12, 18) == 6

def prop_divides(a: int, b: int):
    g = gcd(a, b)
    if g:
        assert a % g == 0 and b % g == 0
```

```json properties
[{{"name": "prop_divides", "strategies": {{"a": {{"type": "integers", "min_value": 0}},
  "b": {{"type": "integers", "min_value": 0}}}}, "max_examples": 50}}]
```

```python usage
gcd(a=12, b=18)  # -> 6
```
"""


def fenced(code: str, tag: str = "python") -> str:
    return f"Here you go:\n\n```{tag}\n{code}```\n\nHope this helps.\n"


def draft(text: str, **kw: object) -> ToolDraft:
    result = parse_reply(text, **kw)  # type: ignore[arg-type]
    assert isinstance(result, ToolDraft), result
    return result


def rejected(text: str, **kw: object) -> Rejection:
    result = parse_reply(text, **kw)  # type: ignore[arg-type]
    assert isinstance(result, Rejection), result
    assert result.reason in REASONS
    assert "\n" not in result.message and result.message
    return result


def test_full_reply_gives_every_part() -> None:
    d = draft(FULL)
    assert (d.name, d.signature, d.docstring) == (
        "gcd",
        "def gcd(a: int, b: int) -> int",
        "Greatest common divisor.",
    )
    assert d.imports == ("math",) and d.params == (("a", "int"), ("b", "int"))
    assert d.returns == "int"
    assert "def test_known" in d.unit_tests and "prop_divides" not in d.unit_tests
    (prop,) = d.properties
    assert prop.name == "prop_divides" and prop.max_examples == 50
    assert prop.strategies["a"] == {"type": "integers", "min_value": 0}
    assert "def prop_divides" in prop.source
    assert d.usage == "gcd(a=12, b=18)  # -> 6"
    ast.parse(d.source)


def test_draft_round_trips_through_json() -> None:
    d = draft(FULL)
    assert ToolDraft.from_json(d.to_json()) == d


@pytest.mark.parametrize(
    "variant",
    [
        "windows",
        "no_tag",
        "tilde",
        "bare",
        "indented",
        "unclosed",
        "inline_tests",
        "main_guard",
        "import_tool_in_tests",
        "helpers_in_other_block",
        "demo_call",
    ],
)
def test_tolerated_shapes(variant: str) -> None:
    text = {
        "windows": fenced(TOOL).replace("\n", "\r\n"),
        "no_tag": fenced(TOOL, tag=""),
        "tilde": f"~~~py\n{TOOL}~~~\n",
        "bare": TOOL,
        "indented": "1. The tool:\n\n   ```python\n"
        + "".join("   " + line + "\n" for line in TOOL.splitlines())
        + "   ```\n",
        "unclosed": f"```python\n{TOOL}",
        "inline_tests": fenced(TOOL + "\n\ndef test_x():\n    assert gcd(2, 4) == 2\n"),
        "main_guard": fenced(TOOL + "\nif __name__ == '__main__':\n    print(gcd(2, 4))\n"),
        "import_tool_in_tests": fenced(TOOL) + "\n```python tests\nfrom solution import gcd\n"
        "import pytest\n\ndef test_x():\n    assert gcd(2, 4) == 2\n```\n",
        "helpers_in_other_block": "```python\ndef step(a: int, b: int) -> tuple:\n"
        "    return b, a % b\n```\n" + fenced(TOOL.replace("a, b = b, a % b", "a, b = step(a, b)")),
        "demo_call": fenced(TOOL + "\nprint(gcd(12, 18))\n"),
    }[variant]
    d = draft(text)
    assert d.name == "gcd"
    assert "print(" not in d.source and "__main__" not in d.source
    if variant in ("inline_tests", "import_tool_in_tests"):
        assert "def test_x" in d.unit_tests and "import" not in d.unit_tests
        assert "def test_x" not in d.source
        assert d.notes
    if variant == "helpers_in_other_block":
        assert "def step" in d.source


def test_later_block_replaces_an_earlier_version() -> None:
    first = TOOL.replace("return abs(a)", "return a")
    d = draft(fenced(first) + "\nOops, fixed:\n" + fenced(TOOL))
    assert "return abs(a)" in d.source and "return a\n" not in d.source
    assert any("redefines" in n for n in d.notes)


def test_empty_methods_and_partly_written_functions_are_not_stubs() -> None:
    code = "class Box:\n    def __init__(self):\n        pass\n\n" + TOOL.replace(
        "return abs(a)", "if a < 0:\n        pass\n    return abs(a)"
    )
    assert isinstance(parse_reply(fenced(code)), ToolDraft)


@pytest.mark.parametrize(
    ("text", "reason", "says"),
    [
        ("", "empty_reply", "empty"),
        ("   \n\t", "empty_reply", "empty"),
        ("I cannot write this tool, sorry.", "no_code_block", "code block"),
        (fenced("x = 1\nprint(x)\n"), "no_code_block", "function"),
        (fenced("def gcd(a: int, b: int) -> int:\n    return a +\n"), "syntax_error", "line 2"),
        (
            fenced("def gcd(a, b: int) -> int:\n    '''d'''\n    return a\n"),
            "missing_type_hints",
            "'a'",
        ),
        (
            fenced("def gcd(a: int, b: int):\n    '''d'''\n    return a\n"),
            "missing_type_hints",
            "return",
        ),
        (fenced("def gcd(a: int, b: int) -> int:\n    return a\n"), "missing_docstring", "gcd"),
        (
            fenced(
                "def f(a: int) -> int:\n    '''d'''\n    return a\n\n"
                "def g(a: int) -> int:\n    '''d'''\n    return a\n"
            ),
            "multiple_entry_functions",
            "f, g",
        ),
        (fenced("def max(a: int) -> int:\n    '''d'''\n    return a\n"), "invalid_name", "builtin"),
        (
            fenced("def f(n: int, *xs: int) -> int:\n    '''d'''\n    return 0\n"),
            "bad_signature",
            "*args",
        ),
        (fenced("def f(**kw: int) -> int:\n    '''d'''\n    return 0\n"), "bad_signature", "*args"),
        # the real 1.5B kept writing *args / **kwargs after "name every parameter": the
        # rejection now spells out the named signature to write instead
        (
            fenced("def f(a: int, *xs: int) -> int:\n    '''d'''\n    return 0\n"),
            "bad_signature",
            "def f(a: int, xs: list[int])",
        ),
        (
            fenced("def f(*args, **kw) -> str:\n    '''d'''\n    return ''\n"),
            "bad_signature",
            "def f(args: list[str], kw: dict[str, str])",
        ),
        (
            fenced("async def f(a: int) -> int:\n    '''d'''\n    return a\n"),
            "bad_signature",
            "async",
        ),
        (
            fenced("def f(a: int) -> list:\n    '''d'''\n    yield a\n"),
            "bad_signature",
            "generator",
        ),
        (fenced("import os\n" + TOOL), "forbidden_import", "'os'"),
        (fenced("from subprocess import run\n" + TOOL), "forbidden_import", "'subprocess'"),
        (fenced("from numpy import load\n" + TOOL), "unavailable_import", "'load'"),
        (fenced("from . import x\n" + TOOL), "unavailable_import", "relative"),
        (fenced("import dataclasses\n" + TOOL), "unavailable_import", "dataclass"),
        (fenced("from typing import TypeVar\n" + TOOL), "unavailable_import", "TypeVar"),
        (
            fenced(TOOL.replace("return abs(a)", "return ().__class__")),
            "forbidden_syntax",
            "__class__",
        ),
        (fenced(TOOL.replace("return abs(a)", "return exec('a')")), "unsupported_code", "exec"),
        # eval named, not called: not rewritten as safe_eval (only eval(...) calls are)
        (fenced(TOOL.replace("return abs(a)", "return eval")), "unsupported_code", "eval"),
        (
            fenced(TOOL.replace("return abs(a)", "global a\n    return a")),
            "unsupported_code",
            "global",
        ),
        (
            fenced("class P:\n    def __repr__(self):\n        return 'p'\n\n" + TOOL),
            "unsupported_code",
            "__repr__",
        ),
        (
            fenced(TOOL.replace("return abs(a)", "return __import__('os')")),
            "forbidden_syntax",
            "__import__",
        ),
        (fenced(TOOL.replace("return abs(a)", "_x = a\n    return _x")), "private_name", "'_x'"),
        (fenced(TOOL + "\nfor i in range(3):\n    pass\n"), "top_level_code", "For"),
        # the real 1.5B's CREATOR Boolean tool (bench of 2026-12-03): helpers left to write
        (
            fenced(
                TOOL.replace("return abs(a)", "return parse(a)")
                + '\n\ndef parse(x):\n    """Parse."""\n    # Implement parsing logic here\n'
                "    pass\n"
            ),
            "unimplemented",
            "'parse' (line",
        ),
        (
            fenced(
                'def gcd(a: int, b: int) -> int:\n    """Greatest common divisor."""\n    ...\n'
            ),
            "unimplemented",
            "'gcd' (line 1) unwritten",
        ),
        (
            fenced(
                'def gcd(a: int, b: int) -> int:\n    """Greatest common divisor."""\n'
                "    raise NotImplementedError('todo')\n"
            ),
            "unimplemented",
            "NotImplementedError",
        ),
        (fenced(TOOL) + "```python tests\nx = 1\n```\n", "bad_tests", "test_"),
        (
            fenced(TOOL) + "```python tests\nimport socket\ndef test_x():\n    pass\n```\n",
            "forbidden_import",
            "'socket'",
        ),
    ],
)
def test_malformed_replies_are_rejected_with_a_reason(text: str, reason: str, says: str) -> None:
    r = rejected(text)
    assert r.reason == reason, r
    assert says in r.message, r.message


def test_oversized_reply_and_source() -> None:
    r = rejected(fenced(TOOL) + "x" * 2_000, max_bytes=1_000)
    assert r.reason == "oversized" and "1000" in r.message and not r.recoverable
    small = DEFAULT_POLICY.with_limits(max_source_bytes=50)
    r = rejected(fenced(TOOL), policy=small)
    assert r.reason == "oversized"


def test_entry_name_picks_among_functions_and_is_validated() -> None:
    two = fenced(
        "def f(a: int) -> int:\n    '''d'''\n    return a\n\n"
        "def g(a: int) -> int:\n    '''d'''\n    return a\n"
    )
    assert draft(two, entry="g").name == "g"
    assert rejected(two, entry="h").reason == "no_entry_function"
    assert rejected(two, entry="not valid").reason == "invalid_name"
    assert rejected(two, entry="_private").reason == "invalid_name"


def test_a_parameter_may_share_a_name_with_a_forbidden_builtin() -> None:
    code = "def parse(input: str) -> int:\n    '''Length.'''\n    return len(input)\n"
    assert draft(fenced(code)).params == (("input", "str"),)


def test_helper_functions_called_by_the_entry_are_allowed() -> None:
    code = (
        "def step(a: int) -> int:\n    return a + 1\n\n"
        "def run(a: int) -> int:\n    '''d'''\n    return step(a)\n"
    )
    assert draft(fenced(code)).name == "run"


def test_policy_is_data_a_narrower_policy_rejects_more() -> None:
    code = fenced("import math\n" + TOOL)
    assert isinstance(parse_reply(code), ToolDraft)
    assert rejected(code, policy=DEFAULT_POLICY.deny("math")).reason == "unavailable_import"
    wider = DEFAULT_POLICY.allow("copy")
    assert isinstance(parse_reply(fenced("import copy\n" + TOOL), policy=wider), ToolDraft)


def test_recoverable_follows_the_reason_table() -> None:
    assert rejected(fenced("import os\n" + TOOL)).recoverable is False
    assert rejected(fenced("def f(a: int) -> int:\n    return a\n")).recoverable is True
    r = rejected("")
    assert Rejection.from_json(r.to_json()) == r


def test_check_source_runs_the_static_checks_alone() -> None:
    assert check_source(TOOL, "gcd") is None
    hostile = check_source("import os\n" + TOOL, "gcd")
    assert hostile is not None and hostile.reason == "forbidden_import"
    assert check_source(TOOL, "lcm").reason == "no_entry_function"  # type: ignore[union-attr]
    assert check_source("(" * 500, "f").reason == "syntax_error"  # type: ignore[union-attr]


def test_blocks_report_language_label_and_line() -> None:
    blocks = extract_blocks(FULL)
    assert [(b.lang, b.label) for b in blocks] == [
        ("python", "tool"),
        ("python", "tests"),
        ("json", "properties"),
        ("python", "usage"),
    ]
    assert blocks[0].line == 3 and all(b.closed for b in blocks)


def test_deeply_nested_code_is_rejected_not_crashing() -> None:
    deep = "def f(a: int) -> int:\n    '''d'''\n    return " + "(" * 300 + "a" + ")" * 300 + "\n"
    result = parse_reply(fenced(deep))
    assert isinstance(result, Rejection | ToolDraft)


reply_parts = st.sampled_from(
    [
        "```",
        "```python",
        "```python tool",
        "```json",
        "~~~",
        "\n",
        "\r\n",
        "def ",
        "gcd(",
        "a: int",
        ") -> int:",
        '"""doc"""',
        "    return a",
        "import os",
        "__class__",
        "[{",
        "}]",
        '"name"',
        "test_",
        "prop_",
        "if __name__ == '__main__':",
        "\t",
        " ",
        "(",
        ")",
        ":",
        "\x00",
        "\ufeff",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.one_of(
        st.text(max_size=400),
        st.lists(reply_parts, max_size=40).map("".join),
        st.lists(st.one_of(reply_parts, st.text(max_size=8)), max_size=40).map("".join),
    )
)
def test_parse_reply_never_crashes(text: str) -> None:
    result = parse_reply(text)
    assert isinstance(result, ToolDraft | Rejection)
    if isinstance(result, Rejection):
        assert result.reason in REASONS and "\n" not in result.message
    else:
        ast.parse(result.source)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_fuzz_inside_a_tool_block_never_crashes(body: str) -> None:
    result = parse_reply(
        fenced(TOOL) + "```python tests\n" + body + "\n```\n```json\n" + body + "\n```\n"
    )
    assert isinstance(result, ToolDraft | Rejection)


def test_a_test_that_imports_hypothesis_inside_its_body_is_dropped_not_the_draft() -> None:
    """The local 1.5B put `import hypothesis` inside a test function in all three repairs of a
    real LATM run, and each whole draft was rejected (unavailable_import): only that test goes."""
    reply = (
        "```python\ndef word_sorter(words: list[str]) -> list[str]:\n"
        '    """Sorts words alphabetically."""\n    return sorted(words)\n```\n\n'
        "```python tests\ndef test_basic():\n"
        '    assert word_sorter(["b", "a"]) == ["a", "b"]\n\n\n'
        "def test_more():\n    import hypothesis\n"
        "    from hypothesis import given, strategies as st\n\n"
        "    @given(st.lists(st.text()))\n    def inner(xs):\n"
        "        assert word_sorter(xs) == sorted(xs)\n\n    inner()\n```\n"
    )
    draft = parse_reply(reply)
    assert isinstance(draft, ToolDraft), draft
    assert "def test_basic" in draft.unit_tests and "test_more" not in draft.unit_tests
    assert any("dropped the test test_more" in n for n in draft.notes)


# The local 1.5B's LATM text-mode reply for dyck_languages (head kept, loop shortened): the
# calls appended to the tool block ran into a greedy loop until the token limit.
RUNAWAY_REPLY = (
    "```python tool\nfrom typing import *\nimport random\n\n"
    "def bbh_dyck_languages(sequence: List[str]) -> str:\n"
    '    """Complete the rest of the sequence, making sure that the parentheses are closed '
    'properly."""\n'
    "    stack = []\n    for char in sequence:\n        if char == '(':\n"
    "            stack.append(char)\n        elif char == ')':\n"
    "            if not stack or stack[-1] != '(':\n                return 'Invalid'\n"
    "            stack.pop()\n    return ''.join(stack)\n\n"
    "# python calls\n# Question 1\nbbh_dyck_languages([" + "'[', " * 300 + "'["
)


def test_a_cut_off_statement_after_the_tool_is_dropped_with_a_note() -> None:
    got = draft(RUNAWAY_REPLY)
    assert got.name == "bbh_dyck_languages" and "return ''.join(stack)" in got.source
    assert any("dropped the tool block from line 18 on" in n for n in got.notes)


def test_a_syntax_error_inside_a_definition_is_still_a_syntax_error() -> None:
    # the cut is never made inside a definition: a shortened function would parse but be wrong
    broken = "```python\ndef f(x: int) -> int:\n    y = [x,\n    return y\n\nf(1)\n```"
    assert rejected(broken).reason == "syntax_error"
    two = (
        '```python\ndef f(x: int) -> int:\n    """Identity."""\n    return x\n\n'
        '\ndef g(x: int) -> int:\n    """Broken."""\n    return (x\n```'
    )
    got = draft(two)  # the broken later definition is dropped, with a note; f stays whole
    assert got.name == "f" and "def g" not in got.source and got.notes


def test_a_star_import_in_the_tests_is_made_explicit() -> None:
    # the local 1.5B's CREATOR reply for a temperature-range task: the draft was rejected for
    # `from typing import *` at line 1 of its tests block (unavailable_import)
    reply = (
        "1. `python tool`\n```python\nfrom typing import *\n\n"
        "def temperature_range(temperatures: List[float]) -> float:\n"
        '    """The range of a list of temperatures."""\n'
        "    return max(temperatures) - min(temperatures)\n```\n\n"
        "2. `python tests`\n```python tests\nfrom typing import *\n\n"
        "def test_known():\n    values: List[float] = [48, 55, 41, 60, 52]\n"
        "    assert temperature_range(values) == 19\n```\n"
    )
    got = draft(reply)
    assert got.unit_tests.startswith("from typing import List\n")
    assert "rewrote `from typing import *` as `from typing import List` in the tests" in got.notes


# The local 1.5B's LATM repair reply for boolean expressions (shortened): the tool kept its
# name, beside a stray `held_out()` and a wrapper that calls it.
STRAY_FUNCTIONS_REPLY = (
    "1. python tool\n```python\nimport re\n\n\n"
    "def evaluate_boolean_expression(expression: str) -> bool:\n"
    '    """Evaluate a Boolean expression."""\n'
    "    tokens = re.findall(r'\\w+', expression)\n    return tokens[-1] == 'True'\n\n\n"
    "def held_out():\n    pass\n\n\n"
    "def evaluate_held_out(expression: str) -> bool:\n"
    "    return evaluate_boolean_expression(expression)\n```\n"
)


def test_a_repair_that_keeps_the_tools_name_beside_stray_functions_keeps_that_entry() -> None:
    assert rejected(STRAY_FUNCTIONS_REPLY).reason == "multiple_entry_functions"
    got = parse_reply(STRAY_FUNCTIONS_REPLY, prefer="evaluate_boolean_expression")
    assert isinstance(got, ToolDraft) and got.name == "evaluate_boolean_expression"
    # the preference only settles a tie: a single candidate stays the entry whatever its name
    single = '```python\ndef other(x: int) -> int:\n    """Identity."""\n    return x\n```'
    got = parse_reply(single, prefer="evaluate_boolean_expression")
    assert isinstance(got, ToolDraft) and got.name == "other"
    # and a name absent from the reply changes nothing
    assert parse_reply(STRAY_FUNCTIONS_REPLY, prefer="missing").reason == (
        "multiple_entry_functions"
    )


# The local 1.5B's LATM proposals for logical_deduction_five_objects (2026-12-03, shortened):
# `*args` in all three, called with the five names positionally
VARARGS_REPLY = (
    "```python tool\nfrom typing import *\nimport random\n\n"
    "def logical_deduction_five_objects(*args: str) -> str:\n"
    '    """\n    Solves a logical deduction problem with five objects.\n\n'
    "    Parameters:\n    args (list[str]): the objects, leftmost first.\n"
    '    """\n    leftmost = args[0]\n    relationships = args[1:-1]\n'
    "    return leftmost if relationships else args[-1]\n```\n\n"
    "```python calls\n# Question 1\n"
    'print(logical_deduction_five_objects("quail", "owl", "raven", "falcon", "robin"))  # (A)\n'
    "```\n"
)


def test_an_entry_taking_only_star_args_takes_them_as_one_named_list(sb: Sandbox) -> None:
    from maker.make.latm_text import list_param, parse_calls

    got = draft(VARARGS_REPLY)
    assert got.signature == "def logical_deduction_five_objects(args: list[str]) -> str"
    assert any("took `*args` as one list parameter" in n for n in got.notes)
    run = sb.run(got.source, got.name, kwargs={"args": ["quail", "owl", "raven"]})
    assert run.ok and run.value == "quail", run
    # its calls, written positionally, are that list
    calls, problems = parse_calls(VARARGS_REPLY, got.name, ["args"], 1, list_param=list_param(got))
    assert calls == {0: {"args": ["quail", "owl", "raven", "falcon", "robin"]}} and not problems


# The local 1.5B's LATM proposal for dyck_languages (2026-12-03, shortened): two roots, the
# tool named after the task type with a prefix of its own
PREFIXED_REPLY = (
    "```python tool\ndef complete_parentheses(s: str) -> str:\n"
    '    """Complete a string of parentheses."""\n    return s + ")"\n\n'
    "def bbh_dyck_languages(s: str) -> str:\n"
    '    """Complete a sequence of brackets."""\n    return s[::-1]\n```\n'
)


def test_a_first_draft_prefers_the_one_function_named_after_the_type_with_a_prefix() -> None:
    got = parse_reply(PREFIXED_REPLY, prefer="dyck_languages")
    assert isinstance(got, ToolDraft) and got.name == "bbh_dyck_languages"
    two = PREFIXED_REPLY.replace("complete_parentheses", "my_dyck_languages")
    assert rejected(two).reason == "multiple_entry_functions"
    assert parse_reply(two, prefer="dyck_languages").reason == "multiple_entry_functions"


# The local 1.5B's CRAFT solutions (example tasks): right answers, rejected for a missing
# return type hint (3 times in a row) and for `math` used without its import.
RANGE_SOLUTION = (
    '```python\n# solution.py\n\ndef solution():\n    """\n    Calculate the range of the '
    'numbers in the given list.\n    """\n    books = [14, 9, 21, 11]\n'
    "    return max(books) - min(books)\n\n# Example usage:\nprint(solution())  # Output: 10\n```"
)
DIVISOR_SOLUTION = (
    '```python\n# solution.py\n\ndef solution() -> int:\n    """Sum of the divisors of 36."""\n'
    "    divisors = []\n    for i in range(1, int(math.sqrt(36)) + 1):\n"
    "        if 36 % i == 0:\n            divisors.append(i)\n"
    "            if i != 36 // i:\n                divisors.append(36 // i)\n"
    "    return sum(divisors)\n```"
)


def test_a_one_off_program_needs_no_type_hints() -> None:
    assert rejected(RANGE_SOLUTION, entry="solution").reason == "missing_type_hints"
    got = parse_reply(RANGE_SOLUTION, entry="solution", program=True)
    assert isinstance(got, ToolDraft) and got.name == "solution" and got.returns == ""
    # a program still has to be a plain function with named parameters
    gen = "```python\ndef solution():\n    yield 1\n```"
    assert parse_reply(gen, entry="solution", program=True).reason == "bad_signature"


def test_a_one_off_program_written_as_a_script_is_read_as_the_function(sb: Sandbox) -> None:
    # the real 1.5B answered 19 of 107 MATH solve prompts with a script that prints its answer
    script = (
        "```python\nfrom sympy import symbols, solve\n\n# the asymptotes\nx = symbols('x')\n"
        "a, b = solve(x**2 - 5*x - 14, x)\nresult = a + b + 1\nprint(result)\n```"
    )
    got = parse_reply(script, entry="solution", program=True)
    assert isinstance(got, ToolDraft) and got.name == "solution"
    assert got.source.startswith("from sympy import symbols, solve\n")
    assert "    return result\n" in got.source and "read a script as `solution()`" in got.notes[0]
    assert sb.run(got.source, "solution", kwargs={}).value == 6
    # a bare last expression is returned too; a `return` the script has is kept
    bare = parse_reply("```python\nn = 12\nn * 2\n```", entry="solution", program=True)
    assert sb.run(bare.source, "solution", kwargs={}).value == 24  # type: ignore[union-attr]
    early = "```python\nn = 7\nif n > 5:\n    return n\nprint(0)\n```"
    kept = parse_reply(early, entry="solution", program=True)
    assert sb.run(kept.source, "solution", kwargs={}).value == 7  # type: ignore[union-attr]
    # helper functions stay; the top-level code that calls them is the body
    helper = (
        "```python\ndef roots(a, b, c):\n    d = (b * b - 4 * a * c) ** 0.5\n"
        "    return (-b + d) / (2 * a), (-b - d) / (2 * a)\n\nr = roots(1, -5, -14)\n"
        "print(sum(r))\n```"
    )
    called = parse_reply(helper, entry="solution", program=True)
    assert isinstance(called, ToolDraft) and called.name == "solution"
    assert sb.run(called.source, "solution", kwargs={}).value == 5
    # a tool is not a script, and a script that does not parse is no program
    assert rejected(script, entry="solution").reason == "no_code_block"
    broken = parse_reply("```python\nx = (1,\nprint(x)\n```", entry="solution", program=True)
    assert isinstance(broken, Rejection) and "write `def solution():`" in broken.message


def test_a_module_used_without_its_import_is_imported() -> None:
    got = draft(DIVISOR_SOLUTION, entry="solution")
    assert got.source.startswith("import math\n")
    assert "added `import math` (used, never imported)" in got.notes
    assert got.imports == ("math",)
    # a name the code binds itself, or a module the policy does not allow, is left alone
    own = (
        '```python\ndef f(n: int) -> int:\n    """Own math."""\n'
        "    math = {'k': n}\n    return math.get('k')\n```"
    )
    assert "import math" not in draft(own).source
    banned = '```python\ndef f(n: int) -> int:\n    """Host."""\n    return os.getpid()\n```'
    assert "import os" not in getattr(parse_reply(banned), "source", "")


def test_a_tests_block_that_does_not_parse_is_dropped_not_fatal() -> None:
    # the real 1.5B's LATM reply for TabMWP yes/no questions: three tests blocks in a row with
    # an unclosed parenthesis sank the unit, though the tests are optional
    reply = fenced(TOOL) + "```python tests\ndef test_x():\n    assert gcd(4, 6 == 2\n```\n"
    draft = parse_reply(reply)
    assert isinstance(draft, ToolDraft), draft
    assert draft.unit_tests == ""
    assert any(
        n.startswith("dropped a tests block: the tests block has a syntax error")
        for n in draft.notes
    )
    # a second block that parses is kept
    both = reply + "```python tests\ndef test_y():\n    assert gcd(4, 6) == 2\n```\n"
    kept = parse_reply(both)
    assert isinstance(kept, ToolDraft) and "def test_y" in kept.unit_tests


# The real 1.5B's CREATOR repair (bench of 2026-12-03, three replies alike), cut off at its
# token limit: an unlabelled tests block with a helper `held_out` among the properties, read as
# part of the tool (refused: the helper has no type hints); its last property never closes.
CUT_OFF = '''1. `python tool`
```python
def evaluate_expression(expression: str) -> bool:
    """Evaluate a Boolean expression."""
    tokens = expression.split()
    return tokens[-1] == "True"
```

2. `python tests`
```python
def test_known():
    assert evaluate_expression("False or True") == True


def held_out(held_out: list):
    for expr in held_out:
        assert isinstance(evaluate_expression(expr), bool)

def prop_x(a: int):
    assert isinstance(evaluate_expression(f"{a} + 5"), bool)

def prop_y(a: int):
    for y in range(101):
        for z in range('''


def test_a_cut_off_tests_block_of_mostly_tests_is_read_as_the_tests() -> None:
    draft = parse_reply(CUT_OFF)
    assert isinstance(draft, ToolDraft), draft
    assert draft.name == "evaluate_expression" and "held_out" not in draft.source
    assert "read 1 block(s) of mostly tests as the tests" in draft.notes
    assert any(n.startswith("kept the tests before line 12 of a tests block") for n in draft.notes)
    assert "def test_known" in draft.unit_tests and "def held_out" in draft.unit_tests
    assert [p.name for p in draft.properties] == ["prop_x"]
    # a block that holds the tool and a test is still the tool
    both = parse_reply(
        CUT_OFF.split("2. `python tests`")[0].replace(
            '    return tokens[-1] == "True"\n',
            '    return tokens[-1] == "True"\n\n\ndef test_it():\n    assert evaluate_expression("True")\n',
        )
    )
    assert isinstance(both, ToolDraft) and "def test_it" in both.unit_tests
    # a later block that redefines the tool among its tests stays the tool (the later version)
    later = CUT_OFF.split("2. `python tests`")[0] + (
        "```python\ndef evaluate_expression(expression: str) -> bool:\n"
        '    """Evaluate a Boolean expression."""\n    return safe_eval(expression)\n\n\n'
        "def test_a():\n    assert evaluate_expression('True')\n\n\n"
        "def test_b():\n    assert not evaluate_expression('False')\n```\n"
    )
    redefined = parse_reply(later)
    assert isinstance(redefined, ToolDraft) and "safe_eval(expression)" in redefined.source
    # a block with the entry function (typed) among its tests stays the tool
    entry_later = (
        "```python\ndef words_of(text):\n    return text.split()\n```\n\n"
        "```python\ndef count_words(text: str) -> int:\n"
        '    """How many words the text has."""\n    return len(words_of(text))\n\n\n'
        "def test_a():\n    assert count_words('a b') == 2\n\n\n"
        "def test_b():\n    assert count_words('') == 0\n```\n"
    )
    counted = parse_reply(entry_later)
    assert isinstance(counted, ToolDraft) and counted.name == "count_words", counted


# The local 1.5B's CRAFT repairs on tracking_shuffled_objects_five_objects (2026-12-04), verbatim:
# the same reply three times, each refused because `check_solution` was taken for the entry
CHECK_FUNCTION_REPLY = (
    "```python tool\nimport random\n\n"
    "def shuffle_objects(objects: List[str]) -> List[str]:\n"
    '    """Shuffles a list of objects."""\n'
    "    random.shuffle(objects)\n    return objects\n\n\n"
    "def check_solution():\n"
    '    assert shuffle_objects(["Alice", "Bob", "Claire", "Dave", "Eve"]) == "Alice" or '
    '"Bob" or "Claire" or "Dave" or "Eve"\n```'
)


def test_a_function_of_asserts_and_no_parameters_is_a_test_not_the_entry() -> None:
    draft = parse_reply(CHECK_FUNCTION_REPLY, prefer="shuffle_objects")
    assert isinstance(draft, ToolDraft), draft
    assert draft.name == "shuffle_objects" and "check_solution" not in draft.source
    assert "def test_check_solution():" in draft.unit_tests
    assert any("check_solution" in n and "as a test" in n for n in draft.notes)
    # a function with parameters, or one that returns, is still code, never a test
    helper = (
        '```python\ndef check(x: int) -> bool:\n    """Positive."""\n'
        "    assert x is not None\n    return x > 0\n```"
    )
    got = parse_reply(helper)
    assert isinstance(got, ToolDraft) and got.name == "check" and not got.unit_tests


# The local 1.5B's CRAFT abstraction on tracking_shuffled_objects (2026-12-04), shortened: a
# `main()` demo run by a `__main__` block, taken for the entry and refused for its type hints
MAIN_DEMO_REPLY = (
    "```python tool\nfrom typing import Dict\n\n"
    "def final_partner(partners: Dict[str, str], who: str) -> str:\n"
    '    """The partner `who` ends with."""\n    return partners[who]\n\n'
    "def main():\n    initial = {'Alice': 'Patrick', 'Bob': 'Sam'}\n"
    "    print(final_partner(initial, 'Alice'))\n\n"
    "if __name__ == '__main__':\n    main()\n```"
)


def test_a_demo_function_that_prints_and_returns_nothing_is_dropped() -> None:
    draft = parse_reply(MAIN_DEMO_REPLY)
    assert isinstance(draft, ToolDraft), draft
    assert draft.name == "final_partner" and "def main" not in draft.source
    assert any("'main'" in n for n in draft.notes), draft.notes
    # a one-off program (CRAFT's `solution()`) returns its value: it stays
    program = "```python\ndef solution():\n    print('working')\n    return 42\n```"
    kept = parse_reply(program, entry="solution", program=True)
    assert isinstance(kept, ToolDraft) and kept.name == "solution"
