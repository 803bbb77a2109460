# ruff: noqa: UP006, UP045 - the typing spellings are what this module tests
"""The `typing` facade: the annotation names real models import work; the rest is refused.

Small instruct models write ``from typing import List`` in nearly every tool; before the facade
the policy refused the import and the tool was given up unrun. The facade exposes only the names
used in annotations (`sandbox.policy.TYPING_NAMES`); string evaluation, class machinery and
process-wide registries stay out of reach.
"""

from __future__ import annotations

import textwrap
import typing

import pytest

from sandbox import DEFAULT_POLICY, PropertySpec, Sandbox, TestSuite
from sandbox.policy import TYPING_NAMES
from sandbox.strategies import from_hint, parse_hint

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")

TOOL = textwrap.dedent('''
    from typing import Any, Dict, List, Optional, Sequence, Set, Tuple, Union

    def summarize(xs: List[int], label: Optional[str] = None,
                  weights: Dict[str, float] = None) -> Dict[str, Any]:
        """Total and count of xs, with an optional label."""
        pair: Tuple[int, int] = (sum(xs), len(xs))
        seen: Set[int] = set(xs)
        out: Dict[str, Union[int, str]] = {"total": pair[0], "count": pair[1],
                                           "distinct": len(seen)}
        if label is not None:
            out["label"] = label
        return out
''')


def test_annotation_names_work_in_a_tool(sb: Sandbox) -> None:
    r = sb.run(TOOL, "summarize", kwargs={"xs": [1, 2, 2], "label": "a"})
    assert r.ok, r
    assert r.value == {"total": 5, "count": 3, "distinct": 2, "label": "a"}


@pytest.mark.parametrize(
    "form",
    [
        "import typing\n\ndef f(xs: typing.List[int]) -> typing.Optional[int]:\n"
        "    return typing.cast(int, max(xs)) if xs else None\n",
        "from typing import Iterable, Iterator, Callable, Mapping, Literal\n\n"
        "def f(xs: Iterable[int], how: Literal['max', 'min'] = 'max',\n"
        "      key: Callable[[int], int] = None) -> int:\n"
        "    return max(xs)\n",
        "from typing import List as L\n\ndef f(xs: L[int]) -> int:\n    best: int = max(xs)\n"
        "    return best\n",
    ],
)
def test_usual_spellings_work(sb: Sandbox, form: str) -> None:
    r = sb.run(form, "f", kwargs={"xs": [3, 9, 4]})
    assert r.ok and r.value == 9, r


@pytest.mark.parametrize(
    "name",
    [
        "get_type_hints",
        "ForwardRef",
        "get_origin",
        "get_args",
        "TypeVar",
        "Generic",
        "Protocol",
        "NamedTuple",
        "TypedDict",
        "NewType",
        "overload",
        "get_overloads",
        "no_type_check",
        "reveal_type",
        "Type",
        "runtime_checkable",
        "ParamSpec",
        "Annotated",
    ],
)
def test_names_that_evaluate_or_build_classes_are_refused(sb: Sandbox, name: str) -> None:
    assert name not in TYPING_NAMES
    for form in (f"from typing import {name}", f"import typing\n    x = typing.{name}"):
        r = sb.run(f"def f() -> int:\n    {form}\n    return 1\n", "f")
        assert not r.ok and r.error is not None, (form, r)
        assert r.error.type in ("ImportError", "AttributeError"), r.error


@pytest.mark.parametrize(
    "walk",
    [
        "typing.Iterable.register(list)",  # a process-wide ABC registry
        "typing.Sequence[int].register(str)",
        "typing.List.__origin__",
        "typing.sys",
        "typing.Type(1)",
        "typing.List['os'].__args__",
    ],
)
def test_walks_from_typing_objects_are_refused(sb: Sandbox, walk: str) -> None:
    r = sb.run(f"import typing\n\ndef f():\n    return str({walk})\n", "f")
    assert not r.ok and r.error is not None, r
    assert r.error.type in ("AttributeError", "PolicyError"), r.error
    # the registry is untouched for later calls
    ok = sb.run("def f():\n    return isinstance(1, str)\n", "f")
    assert ok.ok and ok.value is False


def test_annotated_assignments_run_as_plain_guarded_assignments(sb: Sandbox) -> None:
    ok = sb.run(
        "class Box:\n    def __init__(self, v):\n        self.v: int = v\n\n"
        "def f(x: int) -> int:\n    count: int\n    total: int = x * 2\n"
        "    return Box(total).v\n",
        "f",
        kwargs={"x": 4},
    )
    assert ok.ok and ok.value == 8, ok
    refused = sb.run(
        "import math\n\ndef f() -> float:\n    math.pi: float = 3.0\n    return math.pi\n", "f"
    )
    assert not refused.ok and refused.error.type in ("TypeError", "AttributeError"), refused


def test_forward_references_are_only_strings(sb: Sandbox) -> None:
    """A string annotation is never evaluated: `List['os']` stays a name, not a module."""
    r = sb.run(
        "from typing import List\n\ndef f(x: List['os']) -> 'int':\n    return 1\n",
        "f",
        kwargs={"x": []},
    )
    assert r.ok and r.value == 1, r


def test_properties_draw_inputs_from_typing_hints(sb: Sandbox) -> None:
    prop = PropertySpec(
        "prop_total",
        textwrap.dedent("""
        from typing import List, Optional
        def prop_total(xs: List[int], label: Optional[str]):
            assert summarize(xs, label)["total"] == sum(xs)
    """),
        max_examples=30,
    )
    report = sb.run_tests(TOOL, "summarize", TestSuite(properties=(prop,)))
    assert report.passed, report
    assert report.outcomes[0].examples_run == 30


@pytest.mark.parametrize(
    "text,check",
    [
        ("List[int]", lambda v: isinstance(v, list) and all(type(x) is int for x in v)),
        ("typing.Sequence[float]", lambda v: isinstance(v, list)),
        ("Optional[str]", lambda v: v is None or isinstance(v, str)),
        ("Union[int, str]", lambda v: isinstance(v, int | str)),
        ("Dict[str, List[int]]", lambda v: isinstance(v, dict)),
        ("Set[int]", lambda v: isinstance(v, set)),
        ("FrozenSet[str]", lambda v: isinstance(v, set)),
        ("Tuple[int, ...]", lambda v: isinstance(v, tuple)),
        ("Literal['a', 'b']", lambda v: v in ("a", "b")),
        ("Iterable[int]", lambda v: isinstance(v, list)),
        ("Mapping[str, int]", lambda v: isinstance(v, dict)),
    ],
)
def test_hint_texts_from_typing_have_strategies(text: str, check: typing.Any) -> None:
    strategy = from_hint(parse_hint(text))
    for _ in range(5):
        assert check(strategy.example())


EVALUATED_HINTS = [
    typing.Sequence[int],
    typing.Iterable[str],
    typing.List,
    typing.FrozenSet[int],
    typing.Mapping[str, int],
    typing.Literal[1, 2],
    typing.Optional[typing.List[int]],
]


@pytest.mark.parametrize("hint", EVALUATED_HINTS)
def test_evaluated_typing_hints_have_strategies(hint: typing.Any) -> None:
    from_hint(hint).example()  # no StrategyError


def test_typing_is_in_the_default_policy_as_an_explicit_list() -> None:
    assert DEFAULT_POLICY.modules["typing"] == TYPING_NAMES
    assert set(TYPING_NAMES) <= set(dir(typing))
