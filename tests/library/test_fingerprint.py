"""Behavioural fingerprints and de-duplication of re-invented tools, with a real sandbox and
both store backends."""

from __future__ import annotations

import pytest

import library.fingerprint as fpmod
from library.fingerprint import FingerprintIndex, fingerprint, shared_inputs, signature_shape
from library.records import NewTool, Provenance, StoredSuite, ToolSpec
from library.spec import derive_spec
from library.store import Store
from sandbox import Sandbox


def src(name: str, params: str, body: str, ret: str = "int") -> str:
    return f'def {name}({params}) -> {ret}:\n    """A tool."""\n{body}'


GCD_ITER = src(
    "gcd", "a: int, b: int", "    while b:\n        a, b = b, a % b\n    return abs(a)\n"
)
HCF_REC = src(
    "hcf",
    "x: int, y: int",
    "    if y == 0:\n        return abs(x)\n    return hcf(y, x % y)\n",
)
LCM = src(
    "lcm",
    "a: int, b: int",
    "    if a == 0 or b == 0:\n        return 0\n"
    "    x, y = abs(a), abs(b)\n    while y:\n        x, y = y, x % y\n"
    "    return abs(a * b) // x\n",
)
FAIL_A = src("fail_a", "a: int, b: int", "    raise ValueError('no')\n")
FAIL_B = src("fail_b", "a: int, b: int", "    return [][a + b]\n")
CONST_A = src("const_a", "a: int, b: int", "    return 7\n")
CONST_B = src("const_b", "a: int, b: int", "    return 3 + 4\n")


def spec_of(source: str) -> ToolSpec:
    spec = derive_spec(source)
    assert isinstance(spec, ToolSpec)
    return spec


def fp(sb: Sandbox, source: str) -> fpmod.Fingerprint:
    spec = spec_of(source)
    return fingerprint(sb, source, spec.entry, spec)


def new(name: str, source: str, task: str, tests: StoredSuite | None = None) -> NewTool:
    return NewTool(
        name, source, tests=tests or StoredSuite(), provenance=Provenance(task_ids=(task,))
    )


# ---------------------------------------------------------------- the fingerprint


def test_rewritten_duplicate_has_the_same_fingerprint(sb: Sandbox) -> None:
    a, b = fp(sb, GCD_ITER), fp(sb, HCF_REC)
    assert a.trusted and a.digest == b.digest
    assert a.ok >= fpmod.MIN_OK


def test_a_different_tool_with_the_same_signature_differs(sb: Sandbox) -> None:
    a, c = fp(sb, GCD_ITER), fp(sb, LCM)
    assert a.shape == c.shape
    assert c.trusted and a.digest != c.digest


def test_tools_that_fail_everywhere_or_return_a_constant_are_not_trusted(sb: Sandbox) -> None:
    for source in (FAIL_A, FAIL_B, CONST_A, CONST_B):
        f = fp(sb, source)
        assert not f.trusted, source
    assert "calls returned" in fp(sb, FAIL_A).reason
    assert "one value" in fp(sb, CONST_A).reason


def test_a_call_that_times_out_makes_the_fingerprint_untrusted(
    sb: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fpmod, "CALL_TIMEOUT_S", 0.3)
    slow = src("slow", "a: int", "    while a < 10**9 or a >= 0:\n        a = a\n    return a\n")
    f = fp(sb, slow)
    assert not f.trusted and "timeout" in f.reason


def test_inputs_depend_on_the_shape_only_and_are_deterministic() -> None:
    shape = signature_shape(spec_of(GCD_ITER))
    assert shape == signature_shape(spec_of(HCF_REC))  # parameter names do not matter
    assert shared_inputs(shape) == shared_inputs(shape)
    optional = src("g", "a: int, b: int, verbose: bool = False", "    return a\n")
    assert signature_shape(spec_of(optional)) == shape  # optional parameters are left default
    other = signature_shape(spec_of(src("h", "s: str, n: list[int]", "    return 1\n")))
    rows = shared_inputs(other)
    assert isinstance(rows, list) and rows != shared_inputs(shape)
    assert all(isinstance(r[0], str) and isinstance(r[1], list) for r in rows)


def test_unsupported_parameter_types_give_no_fingerprint(sb: Sandbox) -> None:
    f = fp(sb, src("sym", "e: complex", "    return 1\n"))
    assert not f.trusted and "no generator" in f.reason


# ---------------------------------------------------------------- de-duplication in publish


def test_a_reinvented_tool_merges_into_the_existing_one(sb: Sandbox, store: Store) -> None:
    index = FingerprintIndex(sb, store)
    assert store.publish(new("gcd", GCD_ITER, "t1"), dedup=index).outcome == "created"
    result = store.publish(new("hcf", HCF_REC, "t2"), dedup=index)
    assert result.outcome == "merged"
    assert result.record is not None and result.record.ref == "gcd@1"
    assert "behaves like gcd@1" in result.reason
    assert [p.task_ids for p in store.resolve("gcd").provenance] == [("t1",), ("t2",)]
    assert store.history("hcf") == []
    # the merge records how the re-invention's parameters map onto the stored tool's
    merged = store.resolve("gcd").provenance[1]
    assert merged.param_map == (("x", "a"), ("y", "b"))
    assert merged.to_json()["param_map"] == {"x": "a", "y": "b"}
    assert store.resolve("gcd").provenance[0].param_map == ()
    assert "param_map" not in store.resolve("gcd").provenance[0].to_json()  # digests unchanged
    # a different tool with the same signature is its own tool
    assert store.publish(new("lcm", LCM, "t3"), dedup=index).outcome == "created"


def test_failing_and_constant_tools_do_not_collide(sb: Sandbox, store: Store) -> None:
    index = FingerprintIndex(sb, store)
    for name, source in [
        ("fail_a", FAIL_A),
        ("fail_b", FAIL_B),
        ("const_a", CONST_A),
        ("const_b", CONST_B),
    ]:
        assert store.publish(new(name, source, name), dedup=index).outcome == "created", name


def test_the_twin_must_pass_the_candidates_examples(sb: Sandbox, store: Store) -> None:
    index = FingerprintIndex(sb, store)
    store.publish(new("magnitude", src("magnitude", "n: int", "    return abs(n)\n"), "t1"))
    capped = src("capped", "m: int", "    if m > 1000:\n        return 0\n    return abs(m)\n")
    tests = StoredSuite(examples=({"input": {"m": 5000}, "expected": 0},))
    # same outputs on the shared inputs, but `magnitude` fails capped's own example
    assert fp(sb, capped).digest == index.of(store.resolve("magnitude")).digest
    result = store.publish(new("capped", capped, "t2", tests), dedup=index)
    assert result.outcome == "created"


def test_a_new_version_of_a_name_is_not_merged_into_another_tool(sb: Sandbox, store: Store) -> None:
    store.publish(new("gcd", GCD_ITER, "t1"))
    store.publish(new("hcf", HCF_REC, "t2"))  # no dedup: two names with one behaviour
    rec = HCF_REC.replace("hcf", "gcd").replace("x", "p").replace("y", "q")
    rec = rec.replace("return abs(p)", "return abs(p) + 0")  # not an AST twin of hcf
    result = store.publish(new("gcd", rec, "t3"), dedup=FingerprintIndex(sb, store))
    assert result.outcome == "created" and result.record is not None
    assert result.record.ref == "gcd@2"


def test_a_retired_tool_is_not_a_twin(sb: Sandbox, store: Store) -> None:
    index = FingerprintIndex(sb, store)
    store.publish(new("gcd", GCD_ITER, "t1"), dedup=index)
    index.refresh()
    store.retire("gcd", "superseded")
    result = store.publish(new("hcf", HCF_REC, "t2"), dedup=index)
    assert result.outcome == "created"


def test_exact_and_ast_duplicates_never_reach_the_sandbox(store: Store) -> None:
    def exploding(cand: object) -> None:
        raise AssertionError("dedup hook asked about a known hash")

    store.publish(new("gcd", GCD_ITER, "t1"))
    assert store.publish(new("gcd", GCD_ITER, "t2"), dedup=exploding).outcome == "duplicate"
    renamed = src(
        "euclid", "m: int, n: int", "    while n:\n        m, n = n, m % n\n    return abs(m)\n"
    )
    assert store.publish(new("euclid", renamed, "t3"), dedup=exploding).outcome == "merged"
    assert store.resolve("gcd").provenance[-1].param_map == (("m", "a"), ("n", "b"))
