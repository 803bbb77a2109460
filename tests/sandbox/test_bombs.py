"""Resource bombs: each is stopped with a clear result, the host is unaffected and the pool
keeps serving. Timeouts are kept short (1 s) and few; the host owns the deadline and kills the
worker from outside, since nothing inside the worker can interrupt a C-level loop."""

from __future__ import annotations

import resource
import threading
import time
from typing import Any

import pytest

from sandbox import DEFAULT_POLICY, Sandbox

ONE = "def f():\n    return 1\n"
BOMB_TIMEOUT = 1.0


def tool(body: str) -> str:
    return "def f():\n" + "".join(f"    {line}\n" for line in body.splitlines())


def serves(sb: Sandbox) -> None:
    r = sb.run(ONE, entry="f")
    assert r.ok and r.value == 1, r


def host_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def assert_timed_out(r: Any) -> None:
    assert not r.ok and r.value is None
    assert r.limit == "timeout", r
    assert r.error.type == "Timeout"
    assert r.elapsed_ms < (BOMB_TIMEOUT + 2.0) * 1000, r.elapsed_ms


# ---------------------------------------------------------------------------------------------
# CPU: only a kill from outside stops these (about 6 timeout-based tests in all)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "while True:\n    pass",
        # a bare except catches everything the worker could raise at itself; not the host's kill
        "while True:\n    try:\n        while True:\n            pass\n    except:\n        pass",
        "x = 10 ** (10 ** 8)\nreturn 1",  # one C-level bignum operation
        "import math\nreturn math.factorial(10 ** 7) > 0",
        "import re\nreturn bool(re.match('(a+)+$', 'a' * 40 + 'b'))",  # catastrophic backtracking
    ],
    ids=["loop", "loop-catching-everything", "huge-power", "huge-factorial", "regex"],
)
def test_cpu_bombs_are_killed_at_the_deadline(sb: Sandbox, body: str) -> None:
    started = time.monotonic()
    r = sb.run(tool(body), entry="f", timeout=BOMB_TIMEOUT)
    assert_timed_out(r)
    assert time.monotonic() - started < BOMB_TIMEOUT + 2.0
    serves(sb)


def test_cpu_bomb_in_strict_mode(strict_sb: Sandbox) -> None:
    r = strict_sb.run(tool("while True:\n    pass"), entry="f", timeout=BOMB_TIMEOUT)
    assert_timed_out(r)
    serves(strict_sb)


def test_a_bomb_does_not_stall_the_other_worker(sb: Sandbox) -> None:
    """While one worker spins until its deadline, the pool's other worker keeps answering."""
    result: dict[str, Any] = {}

    def bomb() -> None:
        result["bomb"] = sb.run(tool("while True:\n    pass"), entry="f", timeout=BOMB_TIMEOUT)

    thread = threading.Thread(target=bomb)
    thread.start()
    time.sleep(0.1)
    quick = [sb.run("def f(n):\n    return n * 2\n", entry="f", args=[i]) for i in range(20)]
    thread.join(10)
    assert [q.value for q in quick] == [2 * i for i in range(20)]
    assert all(q.ok and q.limit is None for q in quick)
    assert_timed_out(result["bomb"])
    serves(sb)


# ---------------------------------------------------------------------------------------------
# Memory: the worker's address-space limit turns these into MemoryError; the worker is retired
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "return len([0] * 10 ** 10)",
        "return len(bytearray(10 ** 10))",
        "return len('x' * 10 ** 11)",
        "s = []\nwhile True:\n    s.append('x' * 10 ** 6)",
        "import numpy\nreturn int(numpy.zeros((10 ** 6, 10 ** 6)).sum())",
        "import numpy\nreturn int(numpy.ones(10 ** 10, dtype=numpy.int64).sum())",
    ],
    ids=["list", "bytearray", "str", "growing-list", "numpy-shape", "numpy-ones"],
)
def test_memory_bombs_are_contained(sb: Sandbox, body: str) -> None:
    before = host_peak_mb()
    r = sb.run(tool(body), entry="f", timeout=5.0)
    assert not r.ok and r.value is None
    assert r.limit == "memory", r
    assert r.error.type == "MemoryError"
    assert host_peak_mb() - before < 100  # the host never held the bomb
    serves(sb)


def test_memory_bomb_in_strict_mode(strict_sb: Sandbox) -> None:
    r = strict_sb.run(
        tool("s = []\nwhile True:\n    s.append(bytearray(10 ** 7))"), entry="f", timeout=5.0
    )
    assert not r.ok and r.limit == "memory" and r.error.type == "MemoryError", r
    serves(strict_sb)


def test_memory_limit_is_per_policy(sb: Sandbox) -> None:
    small = DEFAULT_POLICY.with_limits(memory_mb=64)
    r = sb.run(tool("return len(bytearray(200 * 1024 * 1024))"), entry="f", policy=small)
    assert not r.ok and r.limit == "memory", r
    big = sb.run(tool("return len(bytearray(200 * 1024 * 1024))"), entry="f")
    assert big.ok and big.value == 200 * 1024 * 1024, big
    serves(sb)


# ---------------------------------------------------------------------------------------------
# Recursion, output, results
# ---------------------------------------------------------------------------------------------


def test_deep_recursion(sb: Sandbox) -> None:
    r = sb.run(tool("def g(n):\n    return g(n + 1) + 1\nreturn g(0)"), entry="f")
    assert not r.ok and r.limit == "recursion" and r.error.type == "RecursionError", r
    assert r.error.line == 3  # the recursive call inside g
    r = sb.run("def f():\n    return f()\n", entry="f")
    assert not r.ok and r.limit == "recursion", r
    serves(sb)


def test_recursion_inside_a_library_call(sb: Sandbox) -> None:
    # a self-referencing list makes the C-level repr recurse
    r = sb.run(
        tool("a = []\nfor _ in range(10 ** 5):\n    a = [a]\nreturn len(repr(a))"), entry="f"
    )
    assert not r.ok and r.limit == "recursion", r
    serves(sb)


def test_output_flood_is_capped(sb: Sandbox) -> None:
    r = sb.run(
        tool("for i in range(20000):\n    print('flood flood flood', i)\nreturn 7"), entry="f"
    )
    assert r.ok and r.value == 7, r  # output past the cap is dropped, the call itself succeeds
    assert r.limit == "output"
    cap = DEFAULT_POLICY.limits.stdout_bytes
    assert cap <= len(r.stdout) <= cap + 200
    assert r.stdout.startswith("flood flood flood 0\n")
    assert "[output truncated" in r.stdout
    serves(sb)


def test_single_huge_print_is_capped(sb: Sandbox) -> None:
    r = sb.run(tool("print('y' * 10 ** 7)\nreturn 1"), entry="f")
    assert r.ok and r.limit == "output", r
    assert len(r.stdout) <= DEFAULT_POLICY.limits.stdout_bytes + 200


@pytest.mark.parametrize(
    "body, why",
    [
        ("return 10 ** 100000", "integer too large"),
        ("return -(7 ** 10 ** 5)", "integer too large"),
        ("return 'x' * 10 ** 8", "string result longer"),
        ("a = [1]\nfor _ in range(60):\n    a = [a, a]\nreturn a", "more than 100000 items"),
        (
            "d = {}\nfor _ in range(40):\n    d = {'a': d, 'b': d}\nreturn d",
            "more than 100000 items",
        ),
        ("a = [1]\nfor _ in range(200):\n    a = [a]\nreturn a", "nested deeper"),
        ("return list(range(10 ** 6))", "more than 100000 items"),
        ("import numpy\nreturn numpy.zeros(10 ** 6)", "more than 100000 items"),
        ("a = []\na.append(a)\nreturn a", ""),
    ],
    ids=[
        "int",
        "negative-int",
        "str",
        "shared-list",
        "shared-dict",
        "deep",
        "long-list",
        "numpy-array",
        "cycle",
    ],
)
def test_giant_results_are_refused(sb: Sandbox, body: str, why: str) -> None:
    r = sb.run(tool(body), entry="f")
    assert not r.ok and r.value is None
    assert r.limit == "result_size", r
    assert r.error.type == "ResultTooLarge"
    assert why in r.error.message
    serves(sb)


def test_unreturnable_objects_are_refused_not_leaked(sb: Sandbox) -> None:
    for body in (
        "return len",
        "import math\nreturn math",
        "def g():\n    yield 1\nreturn g()",
        "return object()",
        "return int",
    ):
        r = sb.run(tool(body), entry="f")
        assert not r.ok and r.limit == "result_size" and r.value is None, (body, r)


def test_giant_arguments_do_not_break_the_pool(sb: Sandbox) -> None:
    r = sb.run("def f(s):\n    return len(s)\n", entry="f", args=["z" * 2_000_000])
    assert r.ok and r.value == 2_000_000
    serves(sb)


# ---------------------------------------------------------------------------------------------
# Source bombs: values, never crashes
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "source",
    [
        "(" * 500,
        "x = " + "(" * 500 + "1" + ")" * 500,
        "x = " + "-" * 100_000 + "1",
        "def f():\n    return " + "-" * 100_000 + "1\n",
        "x = " + "[" * 100 + "]" * 100,
        "x = " + "+".join(["1"] * 30_000),
        "\n".join("    " * i + f"if x{i}:" for i in range(100)) + "\n" + "    " * 100 + "pass",
        "def f(:\n    pass",
        "x = '\\N{NOT A NAME}'",
        "\x00",
    ],
    ids=[
        "parens",
        "nested-parens",
        "unary-chain",
        "unary-in-function",
        "nested-lists",
        "long-sum",
        "nested-ifs",
        "syntax",
        "bad-escape",
        "nul",
    ],
)
def test_source_bombs_come_back_as_compile_errors(sb: Sandbox, source: str) -> None:
    c = sb.compile(source)
    assert not c.ok
    assert c.errors and c.errors[0].type in ("SyntaxError", "PolicyError"), c
    r = sb.run(source, entry="f")
    assert not r.ok and r.value is None
    assert r.limit is None, r  # a clean refusal: not "crash", not "timeout"
    assert r.error.type in ("SyntaxError", "PolicyError"), r
    serves(sb)


def test_oversized_source_is_refused_before_it_reaches_a_worker(sb: Sandbox) -> None:
    source = "x = 1\n" * (DEFAULT_POLICY.limits.max_source_bytes // 6 + 1)
    r = sb.run(source, entry="f")
    assert not r.ok and r.limit == "source_size" and r.error.type == "SourceTooLarge", r
    c = sb.compile(source)
    assert not c.ok and c.errors[0].type == "SourceTooLarge"
    # just under the cap still compiles
    ok = sb.compile("x = 1\n" * (DEFAULT_POLICY.limits.max_source_bytes // 6 - 1))
    assert ok.ok, ok
    serves(sb)


def test_a_lower_recursion_limit_is_not_served_by_a_default_worker(sb: Sandbox) -> None:
    src = "def deep(n: int) -> int:\n    return 0 if n == 0 else 1 + deep(n - 1)\n"
    assert sb.run(src, "deep", kwargs={"n": 1000}).ok  # a warm worker with the default limit
    low = DEFAULT_POLICY.with_limits(recursion_limit=200)
    r = sb.run(src, "deep", kwargs={"n": 1000}, policy=low)
    assert not r.ok and r.limit == "recursion", r
