"""Model-written tests in pytest/Hypothesis spellings mapped statically onto the harness, and the
reply shapes of real small models the parser now tolerates (see also
tests/maker/make/test_real_model_shapes.py for the same shapes run through the strategies)."""

from __future__ import annotations

import ast

import pytest

from maker.text.drafts import REASONS, Rejection, ToolDraft, parse_reply
from maker.text.testmap import Unmappable, aliases, strategy_spec
from sandbox.strategies import from_spec

TOOL = '''def gcd(a: int, b: int) -> int:
    """Greatest common divisor."""
    while b:
        a, b = b, a % b
    return abs(a)
'''
IMPORTS = "from hypothesis import strategies as st\n"


def spec(expr: str) -> dict:
    tree = ast.parse(IMPORTS + f"x = {expr}\n")
    names = aliases([tree.body[0]])
    return strategy_spec(tree.body[1].value, names)


@pytest.mark.parametrize(
    "expr,expected",
    [
        ("st.integers()", {"type": "integers"}),
        ("st.integers(0, 10)", {"type": "integers", "min_value": 0, "max_value": 10}),
        ("st.integers(min_value=-5)", {"type": "integers", "min_value": -5}),
        (
            "st.floats(0.0, 1.0, allow_nan=False)",
            {"type": "floats", "min_value": 0.0, "max_value": 1.0},
        ),
        ("st.booleans()", {"type": "booleans"}),
        ("st.text(min_size=1, max_size=5)", {"type": "text", "min_size": 1, "max_size": 5}),
        (
            "st.text(alphabet=string.ascii_lowercase)",
            {"type": "text", "alphabet": "abcdefghijklmnopqrstuvwxyz"},
        ),
        ("st.text(alphabet='ab')", {"type": "text", "alphabet": "ab"}),
        ("st.text(st.characters(min_codepoint=97))", {"type": "text"}),
        ("st.characters()", {"type": "text", "min_size": 1, "max_size": 1}),
        (
            "st.lists(st.integers(), min_size=1, unique=True)",
            {"type": "lists", "elements": {"type": "integers"}, "unique": True, "min_size": 1},
        ),
        (
            "st.sets(st.integers(0, 3))",
            {"type": "sets", "elements": {"type": "integers", "min_value": 0, "max_value": 3}},
        ),
        (
            "st.tuples(st.integers(), st.booleans())",
            {"type": "tuples", "elements": [{"type": "integers"}, {"type": "booleans"}]},
        ),
        (
            "st.dictionaries(st.text(), st.integers(), max_size=3)",
            {
                "type": "dictionaries",
                "keys": {"type": "text"},
                "values": {"type": "integers"},
                "max_size": 3,
            },
        ),
        ("st.sampled_from(['a', 'b'])", {"type": "sampled_from", "values": ["a", "b"]}),
        ("st.sampled_from((1, 2))", {"type": "sampled_from", "values": [1, 2]}),
        ("st.just(3)", {"type": "just", "value": 3}),
        ("st.none()", {"type": "none"}),
        (
            "st.integers() | st.none()",
            {"type": "one_of", "options": [{"type": "integers"}, {"type": "none"}]},
        ),
        (
            "st.one_of([st.integers(), st.text()])",
            {"type": "one_of", "options": [{"type": "integers"}, {"type": "text"}]},
        ),
        ("st.fractions(0, 1)", {"type": "fractions", "min_value": 0, "max_value": 1}),
        ("st.from_type(int)", {"type": "integers"}),
    ],
)
def test_strategies_map_to_json_specs(expr: str, expected: dict) -> None:
    got = spec(expr)
    assert got == expected
    from_spec(got)  # the harness accepts it


@pytest.mark.parametrize(
    "expr,says",
    [
        ("st.data()", "st.data"),
        ("st.builds(dict)", "st.builds"),
        ("st.integers(min_value=n)", "not a literal"),
        ("st.lists(st.integers().map(lambda x: x * 2))", "st.integers().map"),
        ("my_strategy()", "not a Hypothesis strategy"),
    ],
)
def test_unmappable_strategies_say_why(expr: str, says: str) -> None:
    with pytest.raises(Unmappable) as info:
        spec(expr)
    assert says in str(info.value)


def parsed(tests: str, tool: str = TOOL) -> ToolDraft:
    result = parse_reply(f"```python tool\n{tool}```\n\n```python tests\n{tests}```\n")
    assert isinstance(result, ToolDraft), result
    return result


def test_filter_and_map_become_guards_in_the_property() -> None:
    d = parsed(
        "from hypothesis import given, strategies as st\n\n"
        "@given(st.integers().filter(lambda v: v > 0), st.integers().map(abs))\n"
        "def test_p(a, b):\n    assert gcd(a, b) > 0\n"
    )
    (p,) = d.properties
    assert p.strategies == {"a": {"type": "integers"}, "b": {"type": "integers"}}
    assert "(lambda v: v > 0)(a)" in p.source and "b = abs(b)" in p.source
    assert "return" in p.source


def test_non_framework_decorators_and_helpers_are_kept() -> None:
    d = parsed(
        "import functools\n\n@functools.lru_cache\ndef slow_gcd(a, b):\n"
        "    return a if b == 0 else slow_gcd(b, a % b)\n\n"
        "def test_same():\n    assert gcd(12, 18) == slow_gcd(12, 18)\n"
    )
    assert "lru_cache" in d.unit_tests and "def test_same" in d.unit_tests


def test_unittest_classes_are_dropped_with_what_to_write() -> None:
    d = parsed(
        "import unittest\n\nclass TestGcd(unittest.TestCase):\n"
        "    def test_a(self):\n        self.assertEqual(gcd(2, 4), 2)\n"
    )
    assert "TestGcd" not in d.unit_tests
    assert any("def test_*():" in n for n in d.notes)


def test_fixtures_are_not_available() -> None:
    d = parsed(
        "import pytest\n\n@pytest.fixture\ndef pair():\n    return (2, 4)\n\n"
        "def test_ok():\n    assert gcd(2, 4) == 2\n"
    )
    assert "pytest" not in d.unit_tests and "def test_ok" in d.unit_tests
    assert any("pair" in n and "harness does not run" in n for n in d.notes)


def test_framework_imports_in_the_tool_block_move_to_the_tests() -> None:
    d = parsed(
        "",
        tool="from hypothesis import given, strategies as st\nimport pytest\n\n"
        + TOOL
        + "\n@given(st.integers(0, 50), st.integers(0, 50))\ndef test_sym(a, b):\n"
        "    assert gcd(a, b) == gcd(b, a)\n",
    )
    assert "hypothesis" not in d.source and "pytest" not in d.source
    assert [p.name for p in d.properties] == ["test_sym"]


def test_future_import_is_dropped_and_allowed_methods_pass() -> None:
    tool = (
        "from __future__ import annotations\n\nclass Pair:\n    def __init__(self, a, b):\n"
        "        self.a = a\n        self.b = b\n\n    def __lt__(self, other):\n"
        "        return self.a < other.a\n\n" + TOOL
    )
    d = parsed("def test_x():\n    assert gcd(2, 4) == 2\n", tool=tool)
    assert "__future__" not in d.source and "__init__" in d.source


@pytest.mark.parametrize(
    "tool,reason",
    [
        ("import sys\n" + TOOL, "unavailable_import"),
        ("from collections.abc import *\n" + TOOL, "unavailable_import"),  # a module not allowed
        ("from collections.abc import Sequence\n" + TOOL, "unavailable_import"),
        ("import subprocess\n" + TOOL, "forbidden_import"),
        ("import os.path\n" + TOOL, "forbidden_import"),
        (TOOL.replace("return abs(a)", "return abs(a).__class__"), "forbidden_syntax"),
        (TOOL.replace("return abs(a)", "return open('x')"), "unsupported_code"),
    ],
)
def test_refusals_say_whether_a_retry_can_help(tool: str, reason: str) -> None:
    r = parse_reply(f"```python tool\n{tool}```\n")
    assert isinstance(r, Rejection) and r.reason == reason, r
    assert r.recoverable is REASONS[reason][0]
    assert r.recoverable is (reason in ("unavailable_import", "unsupported_code"))


def test_sys_import_advice_names_the_replacement() -> None:
    r = parse_reply(f"```python tool\nimport sys\n{TOOL}```\n")
    assert isinstance(r, Rejection)
    assert "float('inf')" in r.message and "typing" in r.message  # what to use, what is allowed


def test_framework_names_used_without_their_import_are_mapped_not_a_name_error() -> None:
    d = parsed(
        "@given(st.integers(0, 9), st.integers(0, 9))\ndef test_sym(a, b):\n"
        "    assert gcd(a, b) == gcd(b, a)\n\ndef test_k():\n    example = 12\n"
        "    settings = 18\n    assert gcd(example, settings) == 6\n"
    )
    assert [p.name for p in d.properties] == ["test_sym"]
    assert "def test_k" in d.unit_tests  # `example`, `settings` bound by the test itself
