"""Publishing hand-written tool files and calling stored tools, through a real sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from library.authoring import add_file, call_tool, doctest_examples, unit_test_source
from library.errors import LibraryError, UnknownToolError
from library.library import Library
from library.records import Call, Episode, Status, ToolSpec
from library.spec import derive_spec
from library.store import SqliteStore, Store
from sandbox import Sandbox

EXAMPLE_GCD = Path(__file__).resolve().parents[2] / "docs" / "examples" / "gcd.py"

GCD = '''"""Greatest common divisors."""


def gcd(a: int, b: int) -> int:
    """Return the greatest common divisor of two integers.

    >>> gcd(12, 18)
    6
    >>> gcd(a=0, b=-5)
    5
    """
    while b:
        a, b = b, a % b
    return abs(a)
'''

HCF = '''def hcf(x: int, y: int) -> int:
    """Highest common factor, recursively.

    >>> hcf(21, 14)
    7
    """
    if y == 0:
        return abs(x)
    return hcf(y, x % y)
'''

TEST_MIDPOINT = """from midpoint import midpoint


def test_midpoint():
    assert midpoint(2, 4) == 3.0


def test_negative():
    assert midpoint(-2, 0) == -1.0
"""

MIDPOINT = '''def midpoint(a: float, b: float) -> float:
    """The number halfway between a and b."""
    return (a + b) / 2
'''


@pytest.fixture
def lib(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore.open(tmp_path / "lib")
    yield s
    s.close()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# ---------------------------------------------------------------- add_file


def test_a_file_with_doctests_is_published(sb: Sandbox, lib: Store, tmp_path: Path) -> None:
    result = add_file(lib, write(tmp_path, "gcd.py", GCD), sb)
    assert result.outcome == "published", result.message
    assert result.message == "published gcd@1"
    rec = lib.resolve("gcd")
    assert rec.provenance[0].strategy == "hand-written"
    assert rec.provenance[0].origin == "hand"
    assert [e["input"] for e in rec.tests.examples] == [{"a": 12, "b": 18}, {"a": 0, "b": -5}]
    assert rec.verdict.passed


def test_the_shipped_example_tool_is_published(sb: Sandbox, lib: Store) -> None:
    result = add_file(lib, EXAMPLE_GCD, sb)
    assert result.outcome == "published", result.message


def test_a_test_file_beside_the_tool_runs_as_unit_tests(
    sb: Sandbox, lib: Store, tmp_path: Path
) -> None:
    write(tmp_path, "test_midpoint.py", TEST_MIDPOINT)
    result = add_file(lib, write(tmp_path, "midpoint.py", MIDPOINT), sb)
    assert result.outcome == "published", result.message
    assert result.report is not None
    assert sorted(o.name for o in result.report.outcomes) == ["test_midpoint", "test_negative"]
    assert "from midpoint import" not in lib.resolve("midpoint").tests.unit_tests[0]


def test_a_failing_test_file_is_invalid(sb: Sandbox, lib: Store, tmp_path: Path) -> None:
    write(tmp_path, "test_midpoint.py", TEST_MIDPOINT.replace("-1.0", "-2.0"))
    path = write(tmp_path, "midpoint.py", MIDPOINT)
    result = add_file(lib, path, sb)
    assert result.outcome == "invalid"
    assert result.message.startswith(f"{path}: test 'test_negative' failed")
    assert lib.history("midpoint") == []


def test_a_wrong_doctest_is_invalid_and_names_the_line(
    sb: Sandbox, lib: Store, tmp_path: Path
) -> None:
    path = write(tmp_path, "gcd.py", GCD.replace("    6\n", "    7\n"))
    result = add_file(lib, path, sb)
    assert result.outcome == "invalid"
    assert result.message == f"{path}: test 'doctest line 7' failed: expected 7, got 6"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("def f(a: int) -> int:\n    return a\n", "function 'f' has no docstring"),
        ('def f(a) -> int:\n    """Doc."""\n    return a\n', "parameter 'a' of 'f' has no type"),
        ("def f(a: int) -> int\n", "syntax error"),
        ('def f(a: int) -> int:\n    """Doc."""\n    return a\n', "no tests: add doctest examples"),
        (
            'def f(a: int) -> int:\n    """Doc.\n\n    >>> x = 2\n    >>> f(x)\n    2\n    """\n'
            "    return a\n",
            "only calls of f(...) with literal arguments",
        ),
        (
            'def f(a: int) -> int:\n    """Doc.\n\n    >>> f(__import__("os").getpid())\n'
            '    1\n    """\n    return a\n',
            "is not a literal",
        ),
        (
            'def f(a: int) -> int:\n    """Doc.\n\n    >>> f(1)\n    Traceback (most recent call last):\n'
            '    ValueError: x\n    """\n    return a\n',
            "expected exceptions are not supported",
        ),
        (
            'def f(a: int) -> int:\n    """Doc."""\n    return a\n\n\ndef g(b: int) -> int:\n'
            '    """Doc."""\n    return b\n',
            "pass --entry NAME",
        ),
    ],
)
def test_invalid_files_get_a_one_line_message_naming_the_file(
    sb: Sandbox, lib: Store, tmp_path: Path, text: str, fragment: str
) -> None:
    path = write(tmp_path, "tool.py", text)
    result = add_file(lib, path, sb)
    assert result.outcome == "invalid"
    assert result.message.startswith(str(path)) and fragment in result.message
    assert "\n" not in result.message


def test_a_missing_file_is_invalid(sb: Sandbox, lib: Store, tmp_path: Path) -> None:
    result = add_file(lib, tmp_path / "nope.py", sb)
    assert result.outcome == "invalid" and "tool file not found" in result.message


def test_entry_picks_the_function_and_name_renames_the_tool(
    sb: Sandbox, lib: Store, tmp_path: Path
) -> None:
    text = GCD + "\n\ndef helper(n: int) -> int:\n    return n\n"
    path = write(tmp_path, "numbers.py", text)
    assert add_file(lib, path, sb).outcome == "invalid"  # two public functions
    result = add_file(lib, path, sb, entry="gcd", name="greatest_common_divisor")
    assert result.outcome == "published", result.message
    assert lib.resolve("greatest_common_divisor").entry == "gcd"


def test_readding_and_rewritten_duplicates_are_duplicates(
    sb: Sandbox, lib: Store, tmp_path: Path
) -> None:
    path = write(tmp_path, "gcd.py", GCD)
    assert add_file(lib, path, sb).outcome == "published"
    again = add_file(lib, path, sb)
    assert again.outcome == "duplicate" and "same content" in again.message
    other = add_file(lib, write(tmp_path, "hcf.py", HCF), sb)
    assert other.outcome == "duplicate", other.message
    assert "already in the library as gcd@1 (behaves like gcd@1" in other.message
    assert lib.history("hcf") == []
    assert len(lib.resolve("gcd").provenance) == 2


def test_a_new_version_that_breaks_a_recorded_use_is_rejected(
    sb: Sandbox, lib: Store, tmp_path: Path
) -> None:
    assert add_file(lib, write(tmp_path, "gcd.py", GCD), sb).outcome == "published"
    lib.add_episode(
        Episode(
            "gcd of 4 and -6",
            call=Call("gcd@1", {"a": 4, "b": -6}),
            result={"ok": True, "value": 2},
            success=True,
        )
    )
    # passes gcd@1's doctests (12, 18 -> 6; 0, -5 -> 5) but answers -2 for (4, -6)
    v2 = GCD.replace("return abs(a)", "return a if -3 < a < 0 else abs(a)")
    result = add_file(lib, write(tmp_path, "gcd.py", v2), sb)
    assert result.outcome == "rejected"
    assert "gcd@1(a=4, b=-6)" in result.message and "expected 2, got -2" in result.message
    assert lib.resolve("gcd").version == 1
    again = add_file(lib, tmp_path / "gcd.py", sb)  # the same rejected content, once more
    assert again.outcome == "rejected" and "expected 2, got -2" in again.message
    assert [r.version for r in lib.history("gcd")] == [1, 2]


def test_add_file_keeps_a_library_index_current(sb: Sandbox, tmp_path: Path) -> None:
    with Library.open(tmp_path / "lib") as library:
        assert library.search("greatest common divisor").refs == []
        assert add_file(library, write(tmp_path, "gcd.py", GCD), sb).ok
        assert library.search("greatest common divisor").refs[:1] == ["gcd@1"]


def test_doctest_examples_use_literals_only() -> None:
    spec = derive_spec(GCD)
    assert isinstance(spec, ToolSpec)
    doc = ">>> gcd(1, b=(2, 3))\n[4, 5]\n>>> gcd(0, 0)\n>>> gcd(9, 9)  # doctest: +SKIP\n9\n"
    assert doctest_examples(doc, spec) == [
        {"input": {"a": 1, "b": [2, 3]}, "expected": [4, 5], "name": "doctest line 1"},
        {"input": {"a": 0, "b": 0}, "expected": None, "name": "doctest line 3"},
    ]
    assert "missing argument 'b'" in str(doctest_examples(">>> gcd(1)\n1\n", spec))


def test_unit_test_source_drops_only_the_tools_own_import() -> None:
    text = "import math\nfrom gcd import gcd\nimport gcd\n\ndef test_x():\n    assert math.pi\n"
    assert unit_test_source(text, "gcd") == "import math\n\ndef test_x():\n    assert math.pi\n"


# ---------------------------------------------------------------- call_tool


def test_call_tool_resolves_references(sb: Sandbox, lib: Store, tmp_path: Path) -> None:
    add_file(lib, write(tmp_path, "gcd.py", GCD), sb)
    add_file(lib, write(tmp_path, "gcd.py", GCD.replace("return abs(a)", "return abs(a) * 1")), sb)
    for ref in ("gcd", "gcd@latest", "gcd@1", "gcd@2"):
        r = call_tool(lib, ref, {"a": 12, "b": 18}, sb)
        assert r.ok and r.value == 6, ref
    assert lib.episodes() == []  # nothing recorded by default


def test_call_tool_errors_are_one_line(sb: Sandbox, lib: Store, tmp_path: Path) -> None:
    add_file(lib, write(tmp_path, "gcd.py", GCD), sb)
    with pytest.raises(UnknownToolError, match="unknown tool 'lcm'"):
        call_tool(lib, "lcm", {}, sb)
    with pytest.raises(UnknownToolError, match="unknown tool version 'gcd@7'"):
        call_tool(lib, "gcd@7", {}, sb)
    with pytest.raises(LibraryError, match="bad tool reference"):
        call_tool(lib, "gcd@x", {}, sb)
    with pytest.raises(LibraryError, match="gcd@1 has no parameter 'c'"):
        call_tool(lib, "gcd", {"a": 1, "b": 2, "c": 3}, sb)
    with pytest.raises(LibraryError, match="gcd@1 needs argument 'b'"):
        call_tool(lib, "gcd", {"a": 1}, sb)
    with pytest.raises(LibraryError, match="must be a JSON object, got list"):
        call_tool(lib, "gcd", [1, 2], sb)  # type: ignore[arg-type]
    lib.retire("gcd", "wrong for floats")
    with pytest.raises(LibraryError, match="tool 'gcd' is retired"):
        call_tool(lib, "gcd", {"a": 1, "b": 2}, sb)
    with pytest.raises(LibraryError, match="tool gcd@1 is retired: wrong for floats"):
        call_tool(lib, "gcd@1", {"a": 1, "b": 2}, sb)


def test_a_failing_call_is_a_value_and_can_be_recorded(
    sb: Sandbox, lib: Store, tmp_path: Path
) -> None:
    div = 'def gcd(a: int, b: int) -> int:\n    """Floor division.\n\n    >>> gcd(7, 2)\n    3\n    """\n    return a // b\n'
    add_file(lib, write(tmp_path, "gcd.py", div), sb)
    with pytest.raises(LibraryError, match="bad arguments for gcd@1: a: 'x' is not of type"):
        call_tool(lib, "gcd", {"a": "x", "b": 2}, sb, record=True)  # refused before it runs
    assert lib.episodes(tool="gcd@1") == []
    r = call_tool(lib, "gcd", {"a": 1, "b": 0}, sb, record=True, query="gcd of 1 and 0")
    assert not r.ok and r.error is not None and r.error.type == "ZeroDivisionError"
    (episode,) = lib.episodes(tool="gcd@1")
    assert episode.query == "gcd of 1 and 0" and episode.result["ok"] is False
    assert lib.usage("gcd", 1).calls == 1
    assert lib.resolve("gcd").status.status is Status.ACTIVE


def test_a_problem_paragraph_above_a_doctest_becomes_its_question() -> None:
    # a hand-written tool has no verified uses yet: the problem its example answers is what
    # the tool card shows with the call, as a demonstration (maker.use.prompt.example_calls)
    spec = derive_spec(GCD)
    assert isinstance(spec, ToolSpec)
    doc = (
        "Greatest common divisor.\n\n"
        "Problem: Ropes of 12 m and 18 m are cut into equal pieces,\n"
        "    as long as possible. How long is a piece?\n"
        ">>> gcd(12, 18)\n6\n>>> gcd(4, 6)\n2\n\n"
        "Problem: not right above an example (a blank line between)\n\n"
        ">>> gcd(9, 6)\n3\n"
    )
    found = doctest_examples(doc, spec)
    assert isinstance(found, list)
    assert found[0]["question"] == (
        "Ropes of 12 m and 18 m are cut into equal pieces, as long as possible. "
        "How long is a piece?"
    )
    assert "question" not in found[1] and "question" not in found[2]
    assert [ex["expected"] for ex in found] == [6, 2, 3]
