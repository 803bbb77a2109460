"""Hypothesis strategies from data: JSON strategy specs and type hints, never code.

A property test's inputs are described as data so that no model-written code runs outside
restricted execution. A spec is a dict with a ``type``:

- ``{"type": "integers", "min_value": 0, "max_value": 100}``
- ``{"type": "floats", "min_value": -1.0, "max_value": 1.0}`` (never NaN or infinity)
- ``{"type": "booleans"}``, ``{"type": "none"}``
- ``{"type": "text", "alphabet": "abc", "min_size": 0, "max_size": 10}``
- ``{"type": "sampled_from", "values": [1, 2, 3]}``, ``{"type": "just", "value": 5}``
- ``{"type": "lists", "elements": SPEC, "min_size": 0, "max_size": 10, "unique": false}``
- ``{"type": "tuples", "elements": [SPEC, ...]}``
- ``{"type": "dictionaries", "keys": SPEC, "values": SPEC, "max_size": 5}``
- ``{"type": "fractions", "min_value": -10, "max_value": 10, "max_denominator": 100}``
- ``{"type": "one_of", "options": [SPEC, ...]}``

Parameters without a spec are drawn from their type hints (int, float, bool, str, list[...],
tuple[...], dict[...], set[...], Fraction, Optional, Union, Literal, and the `typing` spellings
List, Dict, Tuple, Set, FrozenSet, Sequence, Iterable, Mapping...) with the small default bounds
in `DEFAULT_BOUNDS`. ``{"type": "sets", "elements": SPEC, "max_size": 10}`` draws Python sets.
"""

from __future__ import annotations

import ast
import collections.abc as cabc
import types
import typing
from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from sandbox._errors import SandboxError
from sandbox.parsing import parse_source

DEFAULT_BOUNDS = {"int": (-1_000, 1_000), "float": (-1e6, 1e6), "text": 20, "list": 10}


class StrategyError(SandboxError, ValueError):
    """A strategy spec or type hint that cannot be turned into inputs."""


def _size(spec: dict[str, Any], key: str, default: int | None) -> int | None:
    value = spec.get(key, default)
    if value is None:
        return None
    if type(value) is not int or value < 0 or value > 10_000:
        raise StrategyError(f"'{key}' must be an integer between 0 and 10000")
    return value


def _num(spec: dict[str, Any], key: str, default: Any) -> Any:
    value = spec.get(key, default)
    if value is not None and type(value) not in (int, float):
        raise StrategyError(f"'{key}' must be a number")
    return value


def from_spec(spec: Any) -> st.SearchStrategy[Any]:
    """Build a strategy from a JSON spec (see the module docstring)."""
    if not isinstance(spec, dict) or not isinstance(spec.get("type"), str):
        raise StrategyError(f"a strategy spec must be an object with a 'type', got {spec!r:.80}")
    kind = spec["type"]
    if kind in ("integers", "integer", "int"):
        lo, hi = DEFAULT_BOUNDS["int"]
        return st.integers(_num(spec, "min_value", lo), _num(spec, "max_value", hi))
    if kind in ("floats", "float"):
        lo, hi = DEFAULT_BOUNDS["float"]
        return st.floats(
            _num(spec, "min_value", lo),
            _num(spec, "max_value", hi),
            allow_nan=False,
            allow_infinity=False,
        )
    if kind in ("booleans", "boolean", "bool"):
        return st.booleans()
    if kind == "none":
        return st.none()
    if kind in ("text", "str", "string"):
        alphabet = spec.get("alphabet")
        if alphabet is not None and not isinstance(alphabet, str):
            raise StrategyError("'alphabet' must be a string")
        return st.text(
            alphabet=alphabet or st.characters(codec="utf-8"),
            min_size=_size(spec, "min_size", 0) or 0,
            max_size=_size(spec, "max_size", DEFAULT_BOUNDS["text"]),
        )
    if kind == "sampled_from":
        values = spec.get("values")
        if not isinstance(values, list) or not values:
            raise StrategyError("'sampled_from' needs a non-empty 'values' list")
        return st.sampled_from(values)
    if kind == "just":
        return st.just(spec.get("value"))
    if kind in ("lists", "list"):
        return st.lists(
            from_spec(spec.get("elements", {"type": "integers"})),
            min_size=_size(spec, "min_size", 0) or 0,
            max_size=_size(spec, "max_size", DEFAULT_BOUNDS["list"]),
            unique=bool(spec.get("unique", False)),
        )
    if kind in ("sets", "set", "frozensets"):
        return st.sets(
            from_spec(spec.get("elements", {"type": "integers"})),
            min_size=_size(spec, "min_size", 0) or 0,
            max_size=_size(spec, "max_size", DEFAULT_BOUNDS["list"]),
        )
    if kind in ("tuples", "tuple"):
        elements = spec.get("elements")
        if not isinstance(elements, list):
            raise StrategyError("'tuples' needs an 'elements' list of specs")
        return st.tuples(*(from_spec(e) for e in elements))
    if kind in ("dictionaries", "dict"):
        return st.dictionaries(
            from_spec(spec.get("keys", {"type": "text", "max_size": 5})),
            from_spec(spec.get("values", {"type": "integers"})),
            max_size=_size(spec, "max_size", 5),
        )
    if kind == "fractions":
        return st.fractions(
            _num(spec, "min_value", -100),
            _num(spec, "max_value", 100),
            max_denominator=_size(spec, "max_denominator", 100),
        )
    if kind == "one_of":
        options = spec.get("options")
        if not isinstance(options, list) or not options:
            raise StrategyError("'one_of' needs a non-empty 'options' list")
        return st.one_of(*(from_spec(o) for o in options))
    raise StrategyError(f"unknown strategy type '{kind}'")


_HINT_NAMES: dict[str, Any] = {
    "int": int,
    "float": float,
    "str": str,
    "Text": str,
    "bool": bool,
    "None": None,
    "NoneType": None,
    "Fraction": Fraction,
    "list": list,
    "List": list,
    "Sequence": list,
    "MutableSequence": list,
    "Iterable": list,
    "Collection": list,
    "tuple": tuple,
    "Tuple": tuple,
    "dict": dict,
    "Dict": dict,
    "Mapping": dict,
    "MutableMapping": dict,
    "set": set,
    "Set": set,
    "AbstractSet": set,
    "MutableSet": set,
    "frozenset": set,
    "FrozenSet": set,
}
# Abstract collection types, drawn as the concrete type a JSON value arrives as.
_ABSTRACT_ORIGINS: dict[Any, Any] = {
    cabc.Sequence: list,
    cabc.MutableSequence: list,
    cabc.Iterable: list,
    cabc.Collection: list,
    cabc.Mapping: dict,
    cabc.MutableMapping: dict,
    cabc.Set: set,
    cabc.MutableSet: set,
    frozenset: set,
}


def parse_hint(text: str) -> Any:
    """Turn an annotation string such as "list[int] | None" into a hint, from a fixed table."""
    try:
        tree = parse_source(text.strip(), mode="eval").body
    except SyntaxError:
        raise StrategyError(f"cannot read the type hint {text!r:.80}") from None
    return _hint_node(tree, text)


def _hint_node(node: ast.AST, text: str) -> Any:
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    if isinstance(node, ast.Constant) and node.value is Ellipsis:
        return Ellipsis
    if isinstance(node, ast.Name) and node.id in _HINT_NAMES:
        return _HINT_NAMES[node.id]
    if isinstance(node, ast.Attribute) and node.attr in _HINT_NAMES:  # fractions.Fraction
        return _HINT_NAMES[node.attr]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return typing.Union[_hint_node(node.left, text), _hint_node(node.right, text)]  # noqa: UP007
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "_getitem_"
        and len(node.args) == 2
    ):
        # RestrictedPython rewrites list[int] as _getitem_(list, int) before annotations
        # are stored as text
        node = ast.Subscript(value=node.args[0], slice=node.args[1], ctx=ast.Load())
    if isinstance(node, ast.Subscript):
        head = _head_name(node.value)
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        if head == "Literal":
            values = []
            for item in items:
                if not isinstance(item, ast.Constant):
                    break
                values.append(item.value)
            else:
                return typing.Literal[tuple(values)]  # type: ignore[valid-type]
        elif head in ("Optional", "Union"):
            args = tuple(_hint_node(i, text) for i in items)
            if head == "Optional":
                return typing.Optional[args[0]]  # noqa: UP007, UP045
            return typing.Union[args]  # noqa: UP007
        else:
            base = _hint_node(node.value, text)
            args = tuple(_hint_node(i, text) for i in items)
            if base in (list, tuple, dict, set):
                return base[args if len(args) > 1 else args[0]]
    raise StrategyError(f"no strategy for type hint {text!r:.80}; give a strategy spec")


def _head_name(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):  # typing.Optional
        return node.attr
    return ""


def from_hint(hint: Any) -> st.SearchStrategy[Any]:
    """Build a bounded strategy from a type hint (int, list[int], Fraction, ...) or its string."""
    if isinstance(hint, str):
        hint = parse_hint(hint)
    if hint is int:
        return from_spec({"type": "integers"})
    if hint is float:
        return from_spec({"type": "floats"})
    if hint is bool:
        return st.booleans()
    if hint is str:
        return from_spec({"type": "text"})
    if hint is Fraction:
        return from_spec({"type": "fractions"})
    if hint is None or hint is type(None):
        return st.none()
    if hint in (list, tuple, dict, set):  # a bare `list` or `typing.List`
        hint = {list: list[int], tuple: tuple[int, ...], dict: dict[str, int], set: set[int]}[hint]
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    origin = _ABSTRACT_ORIGINS.get(origin, origin)
    if origin is set:
        inner = from_hint(args[0]) if args else from_spec({"type": "integers"})
        return st.sets(inner, max_size=DEFAULT_BOUNDS["list"])
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin in (list, typing.List):  # noqa: UP006
        inner = from_hint(args[0]) if args else from_spec({"type": "integers"})
        return st.lists(inner, max_size=DEFAULT_BOUNDS["list"])
    if origin in (tuple, typing.Tuple):  # noqa: UP006
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(from_hint(args[0]), max_size=DEFAULT_BOUNDS["list"]).map(tuple)
        return st.tuples(*(from_hint(a) for a in args))
    if origin in (dict, typing.Dict):  # noqa: UP006
        key, value = args if len(args) == 2 else (str, int)
        return st.dictionaries(from_hint(key), from_hint(value), max_size=5)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(from_hint(a) for a in args))
    raise StrategyError(f"no strategy for type hint {hint!r:.80}; give a strategy spec")
