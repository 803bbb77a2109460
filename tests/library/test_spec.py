"""Spec derivation from source, without running it."""

from __future__ import annotations

import json
import textwrap

import pytest

from library.records import ToolSpec
from library.spec import SCALARS, SpecError, derive_spec, parse_docstring

GOOGLE = textwrap.dedent(
    '''
    from fractions import Fraction
    from typing import Optional

    def _helper(x):
        return x

    def solve_linear(a: int, b: float = 2.5, *, names: list[str] | None = None,
                     exact: Optional[Fraction] = None, opts: dict[str, int] = {}) -> tuple[int, str]:
        """Solve a linear equation a*x + b = 0.

        Longer description of the method.

        Args:
            a: The slope,
                continued on a second line.
            b (float): The intercept.
            names: Variable names.
            exact: An exact value.

        Returns:
            The solution and its text.
        """
        raise RuntimeError("must never run")
    '''
)


def test_google_docstring_and_types() -> None:
    spec = derive_spec(GOOGLE)
    assert isinstance(spec, ToolSpec)
    assert spec.entry == "solve_linear"
    assert spec.summary == "Solve a linear equation a*x + b = 0."
    assert "Longer description" in spec.description and "Args" not in spec.description
    p = {x.name: x for x in spec.params}
    assert p["a"].schema == {"type": "integer"} and p["a"].required
    assert p["a"].description == "The slope, continued on a second line."
    assert p["b"].default == 2.5 and not p["b"].required and p["b"].description == "The intercept."
    assert p["names"].schema == {
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]
    }
    assert p["exact"].schema == {
        "anyOf": [{"type": "string", "format": "fraction"}, {"type": "null"}]
    }
    assert p["opts"].schema == {"type": "object", "additionalProperties": {"type": "integer"}}
    assert spec.returns["prefixItems"] == [{"type": "integer"}, {"type": "string"}]
    assert spec.returns_description == "The solution and its text."
    schema = spec.input_schema()
    assert schema["required"] == ["a"]
    assert schema["properties"]["b"]["default"] == 2.5
    fn = spec.openai_schema()
    assert fn["type"] == "function" and fn["function"]["name"] == "solve_linear"
    json.dumps(fn)  # JSON-serializable
    assert ToolSpec.from_json(json.loads(json.dumps(spec.to_json()))) == spec


def test_numpy_and_rest_docstrings() -> None:
    np_doc = parse_docstring(
        "Area of a circle.\n\nParameters\n----------\nradius : float\n    The radius.\n"
        "scale : int\n    A factor,\n    two lines.\n\nReturns\n-------\nfloat\n    The area.\n"
    )
    assert np_doc.summary == "Area of a circle."
    assert np_doc.params == {"radius": "The radius.", "scale": "A factor, two lines."}
    assert np_doc.returns == "The area."
    rest = parse_docstring(
        "Gcd of two ints.\n\n:param a: first number\n:param int b: second\n    number\n"
        ":type a: int\n:returns: the gcd\n:rtype: int\n"
    )
    assert rest.params == {"a": "first number", "b": "second number"}
    assert rest.returns == "the gcd" and rest.summary == "Gcd of two ints."


@pytest.mark.parametrize(
    ("source", "entry", "code", "needle"),
    [
        ("def f(:\n  pass", None, "syntax", "syntax error"),
        ("x = 1\n", None, "missing_function", "no public"),
        ("def f(a: int) -> int:\n  '''d.'''\n  return a\n", "g", "missing_function", "'g'"),
        (
            "def f() -> int:\n  '''d.'''\ndef g() -> int:\n  '''d.'''\n",
            None,
            "ambiguous_function",
            "f, g",
        ),
        ("def f(a: int) -> int:\n  return a\n", None, "missing_docstring", "'f'"),
        ("def f(a) -> int:\n  '''d.'''\n", None, "missing_annotation", "'a'"),
        ("def f(a: int):\n  '''d.'''\n", None, "missing_annotation", "return"),
        ("def f(a: Widget) -> int:\n  '''d.'''\n", None, "unsupported_annotation", "Widget"),
        ("def f(*a: int) -> int:\n  '''d.'''\n", None, "unsupported_parameter", "*a"),
        pytest.param("x = " + "1+" * 60_000 + "1\n", None, "syntax", "deeply", id="deep-expr"),
        pytest.param(
            "def f(a: int = " + "-" * 60_000 + "1) -> int:\n  '''d.'''\n",
            None,
            "syntax",
            "deeply",
            id="deep-default",
        ),
        pytest.param("x = 1\n" * 50_000, None, "too_large", "limit", id="too-large"),
    ],
)
def test_errors_are_values(source: str, entry: str | None, code: str, needle: str) -> None:
    err = derive_spec(source, entry)
    assert isinstance(err, SpecError)
    assert err.code == code
    assert needle in err.message and "\n" not in err.message


def test_never_executes_the_source(tmp_path) -> None:
    marker = tmp_path / "ran"
    src = (
        f"open({str(marker)!r}, 'w').write('x')\n"
        "def f(a: int = __import__('os').getpid()) -> int:\n  '''Doc.'''\n  return a\n"
    )
    spec = derive_spec(src)
    assert isinstance(spec, ToolSpec)
    assert not marker.exists()
    p = spec.params[0]
    assert p.default is None and p.default_expr == "__import__('os').getpid()" and not p.required
    prop = spec.input_schema()["properties"]["a"]
    assert "default" not in prop and "getpid" in prop["description"]


def test_other_annotations() -> None:
    src = (
        "import typing\nfrom typing import Literal\n"
        "def f(a: 'int', b: typing.List[float], c: Literal['x', 'y'], d: set[int], "
        "e: tuple[int, ...], g: typing.Union[int, str, None] = None) -> None:\n  '''D.'''\n"
    )
    spec = derive_spec(src)
    assert isinstance(spec, ToolSpec)
    s = [p.schema for p in spec.params]
    assert s[0] == {"type": "integer"}
    assert s[1] == {"type": "array", "items": {"type": "number"}}
    assert s[2] == {"enum": ["x", "y"]}
    assert s[3]["uniqueItems"] is True
    assert s[4] == {"type": "array", "items": {"type": "integer"}}
    assert s[5] == {"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]}
    assert spec.returns == SCALARS["None"]


def test_typing_spellings_real_models_write() -> None:
    """Tools from small models import typing (`List[int]`, `Optional[str]`, `Dict[str, int]`):
    their schemas match the builtin spellings, and the fingerprint inputs can be drawn."""
    from library.fingerprint import shared_inputs, signature_shape

    src = (
        "from typing import Dict, List, Optional, Sequence, Tuple\n"
        "def f(xs: List[int], name: Optional[str], counts: Dict[str, int],\n"
        "      pairs: Sequence[Tuple[int, int]]) -> Optional[List[int]]:\n  '''D.'''\n"
    )
    builtin = (
        "def f(xs: list[int], name: str | None, counts: dict[str, int],\n"
        "      pairs: list[tuple[int, int]]) -> list[int] | None:\n  '''D.'''\n"
    )
    spec, twin = derive_spec(src), derive_spec(builtin)
    assert isinstance(spec, ToolSpec) and isinstance(twin, ToolSpec)
    assert [p.schema for p in spec.params] == [p.schema for p in twin.params]
    assert spec.params[0].schema == {"type": "array", "items": {"type": "integer"}}
    assert spec.params[1].schema == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert spec.params[2].schema == {"type": "object", "additionalProperties": {"type": "integer"}}
    assert spec.returns == twin.returns
    rows = shared_inputs(signature_shape(spec))
    assert isinstance(rows, list) and rows
    assert all(isinstance(r[0], list) and isinstance(r[2], dict) for r in rows)


DOCTEST_AFTER_ARGS = """Return the greatest common divisor of two integers.

Args:
    a: first integer
    b: second integer
        (a negative one counts as its absolute value)

>>> gcd(12, 18)
6
>>> gcd(0, 5)
5
"""

EXAMPLES_SECTION = """Least common multiple.

More words about it.

>>> lcm(4, 6)
12

Args:
    a: first integer
    b: second integer

Examples:
    >>> lcm(2, 3)
    6

Returns:
    the smallest positive common multiple
"""

NUMPY_EXAMPLES = """Add two numbers.

Parameters
----------
a : int
    first
b : int
    second

Examples
--------
>>> add(1, 2)
3
"""


@pytest.mark.parametrize("doc", [DOCTEST_AFTER_ARGS, EXAMPLES_SECTION, NUMPY_EXAMPLES])
def test_doctest_text_stays_out_of_descriptions(doc: str) -> None:
    parsed = parse_docstring(doc)
    everything = json.dumps([parsed.summary, parsed.description, parsed.params, parsed.returns])
    assert ">>>" not in everything and "gcd(" not in everything and "lcm(" not in everything
    assert parsed.params["a"] in ("first integer", "first")
    assert parsed.params["b"] in (
        "second integer (a negative one counts as its absolute value)",
        "second integer",
        "second",
    )


def test_doctest_lines_reach_no_schema() -> None:
    source = (
        "def gcd(a: int, b: int) -> int:\n    "
        + '"""'
        + textwrap.indent(DOCTEST_AFTER_ARGS, "    ").strip()
        + '\n    """\n    return a\n'
    )
    spec = derive_spec(source)
    assert isinstance(spec, ToolSpec)
    schema = json.dumps([spec.input_schema(), spec.openai_schema(), spec.description])
    assert ">>>" not in schema and "6" not in spec.params[1].description
    assert spec.description == "Return the greatest common divisor of two integers."
    lcm = parse_docstring(EXAMPLES_SECTION)
    assert lcm.description == "Least common multiple.\n\nMore words about it."
    assert lcm.returns == "the smallest positive common multiple"


def test_an_examples_problem_paragraph_stays_out_of_the_description() -> None:
    doc = (
        "Greatest common divisor.\n\nProblem: a rope of 12 m and one of 18 m.\n"
        ">>> gcd(12, 18)\n6\n\nProblem: a paragraph with no example after it stays.\n"
    )
    parsed = parse_docstring(doc)
    assert "12 m" not in parsed.description
    assert "Problem: a paragraph with no example after it stays." in parsed.description
