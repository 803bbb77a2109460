"""The one input generator from types: fixed rows per seed, used by fingerprints and the
maker's generality check alike."""

from __future__ import annotations

import pytest

from library.fingerprint import shared_inputs
from library.samples import Unsupported, hint_schema, sample_rows
from maker.check.generality import sample_inputs


def test_fingerprint_inputs_are_the_ones_stored_fingerprints_were_made_with() -> None:
    # Values of the generator before it moved to library.samples: a stored fingerprint's
    # digest depends on them, so they must not change without a FINGERPRINT_VERSION bump.
    assert shared_inputs('[{"type":"integer"},{"type":"integer"}]', 4) == [
        [27, 43],
        [50, 37],
        [97, 23],
        [21, -8],
    ]
    assert shared_inputs('[{"type":"string"}]', 3) == [["qr"], ["pt"], ["a"]]


def test_rows_fit_their_schemas_and_repeat_per_seed() -> None:
    schemas = [hint_schema("list[int]"), hint_schema("dict[str, bool]"), hint_schema("str | None")]
    rows = sample_rows(schemas, 12, "seed")
    assert rows == sample_rows(schemas, 12, "seed") != sample_rows(schemas, 12, "other")
    assert isinstance(rows, list) and 1 < len(rows) <= 12
    for values, mapping, text in rows:
        assert isinstance(values, list) and all(type(v) is int for v in values)
        assert isinstance(mapping, dict) and all(type(v) is bool for v in mapping.values())
        assert text is None or isinstance(text, str)
    assert sample_rows([], 5, "x") == [[]]
    assert "nested too deeply" in str(
        sample_rows([hint_schema("list[list[list[list[int]]]]")], 3, "x")
    )
    with pytest.raises(Unsupported):
        hint_schema("Callable[[int], int]")


def test_generality_samples_come_from_the_same_generator() -> None:
    rows = sample_inputs([("a", "int"), ("words", "list[str]")], 6)
    assert 3 <= len(rows) <= 6 and rows == sample_inputs([("a", "int"), ("words", "list[str]")])
    assert all(set(r) == {"a", "words"} and type(r["a"]) is int for r in rows)
    assert len({str(r) for r in rows}) == len(rows)
    # no plain values: Fraction text, untyped Any, an unknown type
    for hint in ("Fraction", "Any", "Callable[[int], int]", "list[Decimal]"):
        assert sample_inputs([("x", hint)]) == [], hint
