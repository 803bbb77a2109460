"""Sample arguments for a tool from its parameter types: the one input generator from types.

A parameter's type is its JSON schema (`library.spec.annotation_schema` of the hint; a stored
spec keeps it). `sample_rows` draws rows of argument values from a generator seeded by a text,
so the same schemas and seed always give the same rows. Behavioural fingerprints call every
tool of one signature shape on the same rows (`library.fingerprint`); the maker's generality
check runs a draft on rows from its own hints (`maker.check.generality`). (Hypothesis
properties draw their inputs inside the sandbox, from `sandbox.strategies`, to search and shrink;
that is a search, not a fixed sample.)

>>> sample_rows([{"type": "integer"}, {"type": "string"}], 3, "demo")
[[12, 'A man, a plan'], [-1, ''], [41, 'racecar']]
>>> hint_schema("list[int] | None")
{'anyOf': [{'type': 'array', 'items': {'type': 'integer'}}, {'type': 'null'}]}
"""

from __future__ import annotations

import hashlib
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass

from library.records import JSON, dumps
from library.spec import UnsupportedAnnotation, annotation_schema
from sandbox.parsing import parse_source

FRACTIONS = ("1/2", "3/4", "-5/3", "0", "7", "2/9")
DECIMALS = ("0", "1.25", "-3.5", "10", "0.001")


@dataclass(frozen=True)
class Profile:
    """Where values come from (policy as data): half of the draws pick from the listed values,
    the rest are uniform in the ranges; sizes are (min, max) lengths of lists and dicts;
    ``none_rate`` is how often an optional parameter gets None."""

    ints: tuple[int, ...]
    int_range: tuple[int, int]
    floats: tuple[float, ...]
    float_range: tuple[float, float]
    words: tuple[str, ...]
    keys: tuple[str, ...]
    list_size: tuple[int, int]
    dict_size: tuple[int, int]
    none_rate: float


EDGES = Profile(
    ints=(0, 1, 2, 3, -1, 5, 7, 10, 12, 18, -6, 24, 36, 97),
    int_range=(-20, 50),
    floats=(0.0, 1.0, -1.5, 0.5, 2.25, 3.0, 10.0, -0.125),
    float_range=(-50, 50),
    words=("", "a", "abc", "Hello World", "racecar", "banana", "A man, a plan", "x y z 42"),
    keys=("a", "abc", "Hello World", "racecar", "banana"),
    list_size=(0, 6),
    dict_size=(0, 4),
    none_rate=0.1,
)
"""Edge cases among ordinary values (zero, negatives, empty): behavioural fingerprints."""

ORDINARY = Profile(
    ints=(3, 7, 12, 5, 10, 4, 9, 2),
    int_range=(2, 60),
    floats=(1.5, 2.0, 3.25, 0.5, 7.0, 10.5, 4.75, 2.5),
    float_range=(0.5, 60),
    words=("abc", "hello world", "12", "xyz", "a b c", "Python", "racecar", "q"),
    keys=("abc", "xyz", "key", "b", "word"),
    list_size=(2, 4),
    dict_size=(2, 3),
    none_rate=0.0,
)
"""Clearly different, ordinary values a correct tool answers (no zero, negative or empty
input): the maker's check that a tool does not return one value for every input."""


class Unsupported(ValueError):
    """A type the generator has no values for; the message names it."""


def hint_schema(hint: str) -> dict[str, JSON]:
    """The JSON schema of a type hint written as text (``"list[int]"``), or `Unsupported`."""
    try:
        return annotation_schema(parse_source(hint, mode="eval").body)
    except (SyntaxError, RecursionError, MemoryError):
        raise Unsupported(f"unreadable type hint {hint[:60]!r}") from None
    except UnsupportedAnnotation:
        raise Unsupported(f"no values for the type {hint[:60]!r}") from None


def sample_value(
    schema: dict[str, JSON], rng: random.Random, depth: int = 0, profile: Profile = EDGES
) -> JSON:
    """One value that fits ``schema`` (a parameter's JSON schema), drawn with ``rng`` from
    ``profile``; raises `Unsupported` for a schema it has no values for (nested deeper than 3,
    unknown formats)."""
    p = profile
    if depth > 3:
        raise Unsupported("nested too deeply")
    if "enum" in schema:
        return rng.choice(list(schema["enum"]))
    if "anyOf" in schema:
        options = [s for s in schema["anyOf"] if s.get("type") != "null"]
        if not options or rng.random() < p.none_rate:
            return None
        return sample_value(rng.choice(options), rng, depth + 1, p)
    kind = schema.get("type")
    fmt = schema.get("format")
    if kind == "integer" or not schema:
        return rng.choice(p.ints) if rng.random() < 0.5 else rng.randint(*p.int_range)
    if kind == "number":
        return rng.choice(p.floats) if rng.random() < 0.5 else round(rng.uniform(*p.float_range), 3)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "string" and fmt == "fraction":
        return rng.choice(FRACTIONS)
    if kind == "string" and fmt == "decimal":
        return rng.choice(DECIMALS)
    if kind == "string" and fmt is None:
        if rng.random() < 0.5:
            return rng.choice(p.words)
        return "".join(rng.choice(string.ascii_lowercase + " ") for _ in range(rng.randint(1, 10)))
    if kind == "array" and "prefixItems" in schema:
        return [sample_value(s, rng, depth + 1, p) for s in schema["prefixItems"]]
    if kind == "array":
        items = schema.get("items", {})
        out = [sample_value(items, rng, depth + 1, p) for _ in range(rng.randint(*p.list_size))]
        if schema.get("uniqueItems"):
            out = list({dumps(v): v for v in out}.values())
        return out
    if kind == "object":
        values = schema.get("additionalProperties", {})
        values = values if isinstance(values, dict) else {}
        return {
            rng.choice(p.keys): sample_value(values, rng, depth + 1, p)
            for _ in range(rng.randint(*p.dict_size))
        }
    raise Unsupported(f"no generator for schema {dumps(schema)[:80]}")


def sample_rows(
    schemas: Sequence[dict[str, JSON]], n: int, seed: str, profile: Profile = EDGES
) -> list[list[JSON]] | str:
    """Up to ``n`` distinct rows of values for parameters of these schemas (one row when there
    are none), the same for the same schemas, ``seed`` and ``profile``; or why none can be
    drawn."""
    rng = random.Random(int(hashlib.sha256(seed.encode()).hexdigest()[:16], 16))
    try:
        rows = [
            [sample_value(s, rng, 0, profile) for s in schemas] for _ in range(n if schemas else 1)
        ]
    except Unsupported as exc:
        return str(exc)
    return list({dumps(r): r for r in rows}.values())
