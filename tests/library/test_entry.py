"""One rule for a module's entry function: a made draft and a hand-written tool agree."""

from __future__ import annotations

import pytest

from library.records import ToolSpec
from library.spec import NoEntry, SpecError, choose_entry, derive_spec
from maker.text.drafts import Rejection, parse_reply
from sandbox.parsing import parse_source


def fn(name: str, body: str = "return n") -> str:
    return f"def {name}(n: int) -> int:\n    '''Doc of {name}.'''\n    {body}\n\n\n"


@pytest.mark.parametrize(
    ("source", "chosen"),
    [
        (fn("solve"), "solve"),
        (fn("half", "return n // 2") + fn("solve", "return half(n) + 1"), "solve"),
        (fn("solve", "return half(n)") + fn("half", "return n // 2"), "solve"),
        (fn("fact", "return 1 if n < 2 else n * fact(half(n))") + fn("half"), "fact"),
        (fn("solve") + "def test_solve():\n    assert solve(1) == 1\n", "solve"),
        (fn("f") + fn("g"), None),
        (fn("_only"), None),
    ],
)
def test_drafts_and_specs_choose_the_same_entry(source: str, chosen: str | None) -> None:
    spec = derive_spec(source)
    draft = parse_reply(f"```python\n{source}```\n")
    if chosen is None:
        assert isinstance(spec, SpecError) and isinstance(draft, Rejection)
        assert spec.code in ("ambiguous_function", "missing_function"), spec
        assert draft.reason in ("multiple_entry_functions", "no_entry_function"), draft
    else:
        assert isinstance(spec, ToolSpec) and spec.entry == chosen, spec
        assert not isinstance(draft, Rejection) and draft.name == chosen, draft


def test_a_named_entry_is_the_last_definition_of_that_name() -> None:
    tree = parse_source(fn("f", "return 1") + fn("f", "return 2") + fn("g"))
    chosen = choose_entry(tree, "f")
    assert not isinstance(chosen, NoEntry) and chosen.lineno > 1
    assert choose_entry(tree, "h") == NoEntry("missing", ("f", "f", "g"))
    assert choose_entry(parse_source(fn("f") + fn("g")), None) == NoEntry("ambiguous", ("f", "g"))
    private_helper = derive_spec(fn("_half", "return n // 2") + fn("solve", "return _half(n)"))
    assert isinstance(private_helper, ToolSpec) and private_helper.entry == "solve"
    missing = derive_spec(fn("f"), "g")
    assert isinstance(missing, SpecError) and "'g'" in missing.message
