"""`PropertyMemo`: identical generated-phase property runs are reused, passing or failing."""

from __future__ import annotations

from sandbox import PropertySpec, Sandbox, TestSuite
from sandbox.suite_runner import PropertyMemo

GCD = "def gcd(a: int, b: int) -> int:\n    while b:\n        a, b = b, a % b\n    return abs(a)\n"
BUGGY = GCD.replace("return abs(a)", "return abs(a) if abs(a) < 50 else abs(a) + 1")
DIVIDES = PropertySpec(
    "divides",
    "def divides(a: int, b: int):\n    g = gcd(a, b)\n    if g:\n"
    "        assert a % g == 0 and b % g == 0\n",
    strategies={
        "a": {"type": "integers", "min_value": 0, "max_value": 1000},
        "b": {"type": "integers", "min_value": 0, "max_value": 1000},
    },
    max_examples=40,
)


def _outcome(sb: Sandbox, source: str, prop: PropertySpec, memo: PropertyMemo | None):  # noqa: ANN202
    return sb.run_tests(source, "gcd", TestSuite(properties=(prop,)), memo=memo).outcomes[0]


def test_memo_gives_the_outcome_of_a_plain_run_and_reuses_it(sb: Sandbox) -> None:
    memo = PropertyMemo()
    for source in (GCD, BUGGY):
        plain = _outcome(sb, source, DIVIDES, None)
        first = _outcome(sb, source, DIVIDES, memo)
        again = _outcome(sb, source, DIVIDES, memo)
        for o in (first, again):
            assert (o.passed, o.minimal_input, o.examples_run) == (
                plain.passed,
                plain.minimal_input,
                plain.examples_run,
            )
    assert memo.hits == 2 and memo.misses == 2 and len(memo) == 2  # the failing one too


def test_explicit_examples_always_run_and_share_the_generated_phase(sb: Sandbox) -> None:
    memo = PropertyMemo()
    with_ok = PropertySpec(
        DIVIDES.name,
        DIVIDES.source,
        DIVIDES.strategies,
        examples=({"a": 12, "b": 18},),
        max_examples=40,
    )
    with_bad = PropertySpec(
        DIVIDES.name,
        DIVIDES.source,
        DIVIDES.strategies,
        examples=({"a": 60, "b": 0},),
        max_examples=40,
    )
    plain = _outcome(sb, GCD, with_ok, None)
    ok = _outcome(sb, GCD, with_ok, memo)
    assert ok.passed and ok.examples_run == plain.examples_run
    # same generated phase (memoized), but this explicit example fails on the buggy tool
    bad = _outcome(sb, BUGGY, with_bad, memo)
    assert not bad.passed and bad.minimal_input == {"a": 60, "b": 0}
    assert _outcome(sb, BUGGY, with_bad, None).minimal_input == {"a": 60, "b": 0}
    assert memo.hits == 0 and len(memo) == 1  # the buggy tool's explicit failure stops first
    _outcome(sb, GCD, with_bad, memo)
    assert memo.hits == 1
