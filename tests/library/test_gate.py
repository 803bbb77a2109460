"""The regression gate, end to end: a real sandbox, SQLite (and the in-memory twin), and
episodes recorded as a solver would record them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import sandbox
from library.gate import recorded_uses, regression_gate, signature_problem
from library.records import Call, Episode, NewTool, Provenance, Status, StoredSuite
from library.spec import derive_spec
from library.store import SqliteStore, Store
from library.suites import SuiteError, from_sandbox_suite, to_sandbox_suite
from sandbox import Sandbox


def gcd_source(
    body: str, params: str = "a: int, b: int", name: str = "gcd", ret: str = "int"
) -> str:
    return f'def {name}({params}) -> {ret}:\n    """Greatest common divisor."""\n{body}'


ITERATIVE = "    while b:\n        a, b = b, a % b\n    return abs(a)\n"
RECURSIVE = "    if b == 0:\n        return abs(a)\n    return gcd(b, a % b)\n"
NO_ABS = "    while b:\n        a, b = b, a % b\n    return a\n"  # wrong sign for some inputs
BROKEN = "    return a\n"
UNIT = "def test_gcd_small():\n    assert gcd(12, 18) == 6\n    assert gcd(7, 5) == 1\n"

V1_TESTS = StoredSuite(
    examples=({"input": {"a": 12, "b": 18}, "expected": 6},),
    unit_tests=(UNIT,),
    property_specs=(
        {
            "name": "prop_divides",
            "source": "def prop_divides(a: int, b: int):\n"
            "    g = gcd(a, b)\n"
            "    if g:\n        assert a % g == 0 and b % g == 0\n",
            "strategies": {
                "a": {"type": "integers", "min_value": 0, "max_value": 50},
                "b": {"type": "integers", "min_value": 0, "max_value": 50},
            },
            "examples": [{"a": 0, "b": 0}],
            "max_examples": 20,
        },
    ),
    held_out=({"input": {"a": 0, "b": 5}, "expected": 5},),
)


def tool(source: str, tests: StoredSuite = V1_TESTS, entry: str | None = None) -> NewTool:
    return NewTool("gcd", source, tests=tests, provenance=Provenance(strategy="LATM"), entry=entry)


def use(args: dict[str, int], value: int, *, success: bool = True, ref: str = "gcd@1") -> Episode:
    return Episode(
        query=f"gcd of {args}",
        call=Call(tool=ref, arguments=args),
        result={"ok": True, "value": value, "error": None},
        success=success,
    )


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    s = SqliteStore.open(tmp_path / "lib")
    yield s
    s.close()


# ---------------------------------------------------------------- suites


def test_suite_round_trips_through_the_sandbox_form() -> None:
    converted = to_sandbox_suite(V1_TESTS)
    assert isinstance(converted, sandbox.TestSuite)
    assert converted.examples[0].input == {"a": 12, "b": 18}
    assert converted.properties[0].strategies["a"]["max_value"] == 50
    assert from_sandbox_suite(converted) == V1_TESTS
    assert to_sandbox_suite(from_sandbox_suite(converted)) == converted


@pytest.mark.parametrize(
    ("tests", "fragment"),
    [
        (StoredSuite(examples=({"args": {"a": 1}, "expected": 1},)), "example 0"),
        (StoredSuite(held_out=({"input": {"a": 1}},)), "held-out case 0 has no 'expected'"),
        (StoredSuite(property_specs=({"name": "p"},)), "property spec 0"),
        (StoredSuite(property_specs=({"name": "p", "source": "", "bogus": 1},)), "unknown fields"),
    ],
)
def test_malformed_suites_are_errors_naming_the_entry(tests: StoredSuite, fragment: str) -> None:
    err = to_sandbox_suite(tests)
    assert isinstance(err, SuiteError)
    assert fragment in err.message


# ---------------------------------------------------------------- gate


def test_rewrite_that_keeps_behaviour_passes(sb: Sandbox, store: Store) -> None:
    assert store.publish(tool(gcd_source(ITERATIVE))).outcome == "created"
    store.add_episode(use({"a": 4, "b": -6}, 2))
    result = store.publish(tool(gcd_source(RECURSIVE)), gate=regression_gate(sb, store))
    assert result.outcome == "created", result.reason
    assert store.resolve("gcd").version == 2
    assert store.resolve("gcd").parent_version == 1


def test_failing_a_previous_test_keeps_the_old_version(sb: Sandbox, sqlite_store: Store) -> None:
    store = sqlite_store
    store.publish(tool(gcd_source(ITERATIVE)))
    result = store.publish(
        tool(gcd_source(BROKEN), tests=StoredSuite()), gate=regression_gate(sb, store)
    )
    assert result.outcome == "rejected"
    assert "gate failed against gcd@1" in result.reason
    assert "example test 'example[0]': expected 6, got 12" in result.reason
    assert store.resolve("gcd").version == 1
    rejected = store.get("gcd", 2)
    assert rejected is not None and rejected.status.status is Status.REJECTED
    assert rejected.status.reason == result.reason
    assert [r.ref for r in store.list()] == ["gcd@1"]


def test_failing_a_recorded_use_keeps_the_old_version(sb: Sandbox, store: Store) -> None:
    store.publish(tool(gcd_source(ITERATIVE)))
    store.add_episode(use({"a": 4, "b": -6}, 2))
    store.add_episode(use({"a": 9, "b": 3}, 3))
    # an unsuccessful episode is not a commitment, even if the new version disagrees with it
    store.add_episode(use({"a": 3, "b": -9}, 3, success=False))
    result = store.publish(tool(gcd_source(NO_ABS)), gate=regression_gate(sb, store))
    assert result.outcome == "rejected"
    assert "1 of 2 recorded uses changed" in result.reason
    assert "gcd@1(a=4, b=-6)" in result.reason
    assert "expected 2, got -2" in result.reason
    assert store.resolve("gcd@latest").version == 1


def test_a_use_that_now_errors_names_the_error(sb: Sandbox, sqlite_store: Store) -> None:
    store = sqlite_store
    store.publish(tool(gcd_source(ITERATIVE)))
    store.add_episode(use({"a": -2, "b": -4}, 2))
    raising = "    if a < 0 and b < 0:\n        raise ValueError('negative')\n" + ITERATIVE
    result = store.publish(tool(gcd_source(raising)), gate=regression_gate(sb, store))
    assert result.outcome == "rejected"
    assert "gcd@1(a=-2, b=-4)" in result.reason
    assert "got error ValueError: negative" in result.reason


def test_a_failing_property_reports_its_minimal_input(sb: Sandbox, sqlite_store: Store) -> None:
    store = sqlite_store
    store.publish(tool(gcd_source(ITERATIVE)))
    raising = "    if a > 30:\n        raise ValueError('too big')\n" + ITERATIVE
    result = store.publish(tool(gcd_source(raising)), gate=regression_gate(sb, store))
    assert result.outcome == "rejected"
    assert "property test 'prop_divides': ValueError: too big" in result.reason
    assert 'minimal input {"a":31,"b":0}' in result.reason


@pytest.mark.parametrize(
    ("params", "ret", "fragment"),
    [
        ("x: int, y: int", "int", "parameter 'a' was removed"),
        ("a: int, b: float", "int", "parameter 'b' changed type int -> float"),
        ("a: int, b: int, c: int", "int", "new parameter 'c' is required"),
        ("a: int, b: int", "float", "return type int -> float"),
    ],
)
def test_signature_changes_are_rejected(
    sb: Sandbox, sqlite_store: Store, params: str, ret: str, fragment: str
) -> None:
    store = sqlite_store
    store.publish(tool(gcd_source(ITERATIVE)))
    body = "    return 1\n"
    result = store.publish(
        tool(gcd_source(body, params, ret=ret), tests=StoredSuite()),
        gate=regression_gate(sb, store),
    )
    assert result.outcome == "rejected"
    assert fragment in result.reason


def test_an_added_optional_parameter_is_compatible() -> None:
    old = derive_spec(gcd_source(ITERATIVE))
    new = derive_spec(gcd_source(ITERATIVE, "a: int, b: int, verbose: bool = False"))
    assert not isinstance(old, Exception) and not isinstance(new, Exception)
    assert signature_problem(old, new) is None  # type: ignore[arg-type]


def test_previous_unit_tests_run_against_a_renamed_entry(sb: Sandbox, sqlite_store: Store) -> None:
    store = sqlite_store
    store.publish(tool(gcd_source(ITERATIVE)))
    euclid = gcd_source(RECURSIVE.replace("gcd(", "euclid("), name="euclid")
    result = store.publish(tool(euclid, entry="euclid"), gate=regression_gate(sb, store))
    assert result.outcome == "created", result.reason


def test_recorded_uses_are_distinct_newest_first_and_bounded(sqlite_store: Store) -> None:
    store = sqlite_store
    store.publish(tool(gcd_source(ITERATIVE)))
    for _ in range(3):
        store.add_episode(use({"a": 2, "b": 4}, 2))
    store.add_episode(use({"a": 3, "b": 9}, 3))
    store.add_episode(use({"a": 5, "b": 10}, 5, ref="gcd@1"))
    store.add_episode(Episode("a program", call=Call(program="print(1)"), success=True))
    uses = recorded_uses(store, "gcd")
    assert [u.arguments for u in uses] == [{"a": 5, "b": 10}, {"a": 3, "b": 9}, {"a": 2, "b": 4}]
    assert len(recorded_uses(store, "gcd", limit=2)) == 2


def test_no_tests_and_no_uses_pass(sb: Sandbox, sqlite_store: Store) -> None:
    store = sqlite_store
    store.publish(tool(gcd_source(ITERATIVE), tests=StoredSuite()))
    result = store.publish(tool(gcd_source(BROKEN)), gate=regression_gate(sb, store))
    # the candidate's own tests are the maker's business; the gate guards only what was promised
    assert result.outcome == "created"
