"""Converting values to plain JSON types with caps, and checking what crosses the boundary.

`to_plain` runs in the worker on whatever tool code returned: it yields only exact ``None``,
``bool``, ``int``, ``float``, ``str``, ``list`` and ``dict`` with ``str`` keys, and refuses values
that are too deep, too many (shared references count every time they are reached), too long, or
integers with too many digits. `check_plain` runs on the host over decoded JSON, so a worker that
misbehaves still cannot hand the host anything else.

Conversions: tuples and sets become lists (sets sorted when their items allow), ``Fraction`` becomes
``"p/q"`` (or an int when the denominator is 1), ``Decimal`` its string, ``complex`` a
``[real, imag]`` pair, NumPy scalars and arrays their Python values, SymPy integers and rationals as
int and ``"p/q"``, SymPy floats as float, other SymPy expressions their string.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sandbox._errors import SandboxError


class ValueLimitError(SandboxError, ValueError):
    """A value is too large or of a type that cannot cross the boundary."""


class _Caps:
    __slots__ = ("max_depth", "max_nodes", "max_str", "max_int_digits", "nodes")

    def __init__(self, max_depth: int, max_nodes: int, max_str: int, max_int_digits: int) -> None:
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.max_str = max_str
        self.max_int_digits = max_int_digits
        self.nodes = 0


def to_plain(
    value: Any,
    *,
    max_depth: int = 64,
    max_nodes: int = 100_000,
    max_str: int = 1_000_000,
    max_int_digits: int = 4_300,
) -> Any:
    """Convert ``value`` to exact plain JSON types, or raise `ValueLimitError` saying why."""
    return _convert(value, 0, _Caps(max_depth, max_nodes, max_str, max_int_digits))


def _int(value: int, caps: _Caps) -> int:
    plain = int.__index__(value)
    # bit_length is O(1); 3.33 bits per decimal digit.
    if plain.bit_length() > caps.max_int_digits * 3.33 + 4:
        raise ValueLimitError(
            f"integer too large to return (more than {caps.max_int_digits} digits)"
        )
    return plain


def _convert(value: Any, depth: int, caps: _Caps) -> Any:
    caps.nodes += 1
    if caps.nodes > caps.max_nodes:
        raise ValueLimitError(f"result has more than {caps.max_nodes} items")
    if depth > caps.max_depth:
        raise ValueLimitError(f"result is nested deeper than {caps.max_depth} levels")
    t = type(value)
    if value is None or t is bool:
        return value
    if t is int:
        return _int(value, caps)
    if t is float:
        return value
    if t is str:
        if len(value) > caps.max_str:
            raise ValueLimitError(f"string result longer than {caps.max_str} characters")
        return value
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return _int(value, caps)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, str):
        return _convert(str.__str__(value), depth, caps)
    if isinstance(value, (list, tuple)):
        if len(value) > caps.max_nodes:
            raise ValueLimitError(f"result has more than {caps.max_nodes} items")
        return [_convert(v, depth + 1, caps) for v in value]
    if isinstance(value, dict):
        if len(value) > caps.max_nodes:
            raise ValueLimitError(f"result has more than {caps.max_nodes} items")
        out: dict[str, Any] = {}
        for k, v in value.items():
            out[_key(k, caps)] = _convert(v, depth + 1, caps)
        return out
    if isinstance(value, (set, frozenset)):
        items = [_convert(v, depth + 1, caps) for v in value]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return _int(value.numerator, caps)
        return f"{_int(value.numerator, caps)}/{_int(value.denominator, caps)}"
    if isinstance(value, Decimal):
        return _convert(str(value), depth, caps)
    if isinstance(value, complex):
        return [value.real, value.imag]
    if isinstance(value, bytes | bytearray):
        return _convert(bytes(value).decode("utf-8", "replace"), depth, caps)
    return _foreign(value, depth, caps)


def _key(key: Any, caps: _Caps) -> str:
    if type(key) is str:
        return key
    plain = _convert(key, 0, caps)
    if isinstance(plain, str):
        return plain
    if plain is None or isinstance(plain, (bool, int, float)):
        # the same spelling json.dumps uses for non-string keys
        if plain is None:
            return "null"
        if isinstance(plain, bool):
            return "true" if plain else "false"
        return repr(plain)
    raise ValueLimitError(f"dict key of type {type(key).__name__} cannot be returned")


def _foreign(value: Any, depth: int, caps: _Caps) -> Any:
    """NumPy and SymPy values, recognised by their module without importing either."""
    module = type(value).__module__ or ""
    if module.startswith("numpy"):
        size = getattr(value, "size", 1)
        if isinstance(size, int) and size > caps.max_nodes:
            raise ValueLimitError(f"result has more than {caps.max_nodes} items")
        return _convert(value.tolist(), depth, caps)
    if module.startswith("sympy"):
        if getattr(value, "is_Matrix", False):
            return _convert(value.tolist(), depth, caps)
        if getattr(value, "is_Integer", False):
            return _int(int(value), caps)
        if getattr(value, "is_Rational", False):
            return f"{_int(int(value.p), caps)}/{_int(int(value.q), caps)}"
        if getattr(value, "is_Float", False):
            return float(value)
        if value is True or value is False:
            return bool(value)
        text = str(value)
        if len(text) > caps.max_str:
            raise ValueLimitError(f"string result longer than {caps.max_str} characters")
        return text
    raise ValueLimitError(
        f"a value of type {type(value).__name__} cannot be returned; return numbers, strings, "
        "lists or dicts"
    )


def check_plain(value: Any, *, max_depth: int = 64, max_nodes: int = 100_000) -> None:
    """Host-side check of decoded JSON: only plain types, bounded depth and size (iterative)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    nodes = 0
    while stack:
        v, depth = stack.pop()
        nodes += 1
        if nodes > max_nodes or depth > max_depth:
            raise ValueLimitError("value from the worker exceeds the size or depth caps")
        t = type(v)
        if v is None or t in (bool, int, float, str):
            continue
        if t is list:
            stack.extend((x, depth + 1) for x in v)
        elif t is dict:
            for k, x in v.items():
                if type(k) is not str:
                    raise ValueLimitError("value from the worker has a non-string key")
                stack.append((x, depth + 1))
        else:
            raise ValueLimitError(f"value from the worker has type {t.__name__}")


def values_equal(actual: Any, expected: Any, *, approx: bool = True, rel: float = 1e-6) -> bool:
    """Compare plain values: lists and tuples alike; floats within ``rel`` when ``approx``."""
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is type(expected) and actual == expected
    if isinstance(actual, (int, float)) and isinstance(expected, (int, float)):
        if approx and (isinstance(actual, float) or isinstance(expected, float)):
            if math.isnan(actual) or math.isnan(expected):
                return math.isnan(actual) and math.isnan(expected)
            return math.isclose(actual, expected, rel_tol=rel, abs_tol=rel * 1e-3)
        return actual == expected
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)):
        return len(actual) == len(expected) and all(
            values_equal(a, e, approx=approx, rel=rel)
            for a, e in zip(actual, expected, strict=True)
        )
    if isinstance(actual, dict) and isinstance(expected, dict):
        return actual.keys() == expected.keys() and all(
            values_equal(actual[k], expected[k], approx=approx, rel=rel) for k in actual
        )
    return type(actual) is type(expected) and actual == expected


_JSON_TYPES = {
    bool: "bool",
    int: "int",
    float: "float",
    str: "str",
    list: "list",
    dict: "dict",
}


def _a(word: str) -> str:
    return f"an {word}" if word[0] in "aeiou" else f"a {word}"


def _kind(value: Any) -> str | None:
    """The kind of a JSON-like value, numbers as one kind (their type is not the mistake)."""
    name = _JSON_TYPES.get(type(value))
    return "number" if name in ("int", "float") else name


def type_note(actual: Any, expected: Any) -> str:
    """For a wrong answer whose type is not the expected one, what the mismatch is; else ``""``.

    Right text, wrong type (``'True'`` for ``True``, ``'12'`` for ``12``, ``[12]`` for ``12``):
    ``" (the right value as text, but a str where a bool is expected)"``. Small models repairing
    a tool missed the type in a bare ``expected True, got 'True'`` (the local 1.5B, three
    repairs in a row). Another kind of value altogether (a pair for a number, a number for a
    list): ``" (a list of 2 values where an int is expected)"``; the local 1.5B kept returning
    ``(min, max)`` for a range of 12, told only the two values. Numbers of another type (``3.5``
    for ``4``) get no note: the value is what is wrong.

    >>> type_note("True", True), type_note(12, "12"), type_note(3, 4)
    (' (the right value as text, but a str where a bool is expected)', \
' (the right value as text, but an int where a str is expected)', '')
    >>> type_note([9, 21], 12), type_note(3.5, 4), type_note(None, [1])
    (' (a list of 2 values where an int is expected)', '', ' (None where a list is expected)')
    """
    e = _JSON_TYPES.get(type(expected))
    a = "None" if actual is None else _JSON_TYPES.get(type(actual))
    if a is None or e is None or a == e:
        return ""
    inner = actual[0] if isinstance(actual, list) and len(actual) == 1 else actual
    if actual is not None and str(inner).strip().casefold() == str(expected).strip().casefold():
        what = a if inner is actual else f"list of one {_JSON_TYPES.get(type(inner), 'value')}"
        return f" (the right value as text, but {_a(what)} where {_a(e)} is expected)"
    if _kind(actual) == _kind(expected):
        return ""
    if isinstance(actual, list):
        what = f"a list of {len(actual)} value{'s' if len(actual) != 1 else ''}"
    else:
        what = a if a == "None" else _a(a)
    return f" ({what} where {_a(e)} is expected)"
