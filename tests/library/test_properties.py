"""Property tests: records round-trip through JSON; hashing and spec derivation never crash."""

from __future__ import annotations

import json
import keyword

from hypothesis import given, settings
from hypothesis import strategies as st

from library.normalize import ast_hash
from library.records import Call, Episode, Provenance, StoredSuite, ToolSpec
from library.spec import SpecError, derive_spec, parse_docstring

json_scalars = st.none() | st.booleans() | st.integers(-(10**9), 10**9) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=10,
)
idents = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda s: (
        not keyword.iskeyword(s) and s not in {"max", "min", "int", "len", "range", "abs", "sum"}
    )
)


@given(
    query=st.text(max_size=50),
    args=st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    success=st.none() | st.booleans(),
    origin=st.sampled_from(["use", "exploration"]),
    tasks=st.lists(st.text(max_size=8), max_size=3),
)
def test_records_round_trip_through_json(
    query: str, args: dict, success: bool | None, origin: str, tasks: list[str]
) -> None:
    ep = Episode(
        query=query,
        call=Call("t@1", args),
        result={"ok": True, "value": args},
        success=success,
        origin=origin,
    )  # type: ignore[arg-type]
    assert Episode.from_json(json.loads(json.dumps(ep.to_json()))) == ep
    prov = Provenance(task_ids=tuple(tasks), problems=(query,))
    assert Provenance.from_json(json.loads(json.dumps(prov.to_json()))) == prov
    suite = StoredSuite(examples=({"input": args, "expected": query},))
    assert StoredSuite.from_json(json.loads(json.dumps(suite.to_json()))) == suite


@given(names=st.lists(idents, min_size=4, max_size=4, unique=True))
def test_ast_hash_ignores_consistent_renaming(names: list[str]) -> None:
    f, a, b, t = names
    template = (
        "def {f}({a}: int, {b}: int) -> int:\n"
        "    '''Doc.'''\n"
        "    {t} = 0\n"
        "    for _ in range({a}):\n"
        "        {t} += abs({b})\n"
        "    return max({t}, {a})\n"
    )
    base = template.format(f="fn", a="x", b="y", t="acc")
    renamed = template.format(f=f, a=a, b=b, t=t)
    assert ast_hash(base) == ast_hash(renamed)
    assert ast_hash(base) != ast_hash(
        renamed.replace("abs(", "len(str(").replace(")\n    return", "))\n    return")
    )


@settings(max_examples=200)
@given(st.text(max_size=300))
def test_spec_derivation_never_raises(text: str) -> None:
    out = derive_spec(text)
    assert isinstance(out, ToolSpec | SpecError)
    parse_docstring(text)
    ast_hash(text)


@given(
    st.lists(
        st.sampled_from(
            [
                "int",
                "float",
                "str",
                "bool",
                "list[int]",
                "dict[str, float]",
                "tuple[int, str]",
                "int | None",
                "Widget",
            ]
        ),
        max_size=5,
    )
)
def test_annotations_map_or_fail_clearly(types: list[str]) -> None:
    params = ", ".join(f"p{i}: {t}" for i, t in enumerate(types))
    out = derive_spec(f"def f({params}) -> int:\n    '''Doc.'''\n    return 1\n")
    if "Widget" in types:
        assert isinstance(out, SpecError) and out.code == "unsupported_annotation"
    else:
        assert isinstance(out, ToolSpec)
        schema = out.input_schema()
        assert schema["required"] == [f"p{i}" for i in range(len(types))]
        json.dumps(out.openai_schema())
