"""Schema v5 (one `Verdict` record): a v4 library with data is upgraded in place, losing nothing.

The v4 rows are written in the shapes the v4 code wrote (tests and the first verdict as in a library
`maker demo` made before the change), through the v1-v4 migrations, which are unchanged.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from library.contract import library_problems
from library.errors import LibraryError
from library.normalize import ast_hash
from library.records import NewTool, StoredSuite, content_hash
from library.store import SCHEMA_VERSION, SqliteStore
from library.store.sqlite import db_path, migrate, schema_version
from library.suites import to_sandbox_suite
from library.verdict import Failure
from sandbox import TestSuite

SOURCE = '''def divisor_sum(n: int) -> int:
    """Sum of all positive divisors of a positive integer n, n itself included.

    Args:
        n: a positive integer.

    Returns:
        The sum of every d with 1 <= d <= n that divides n.
    """
    total = 0
    for d in range(1, n + 1):
        if n % d == 0:
            total += d
    return total
'''
SPEC = {
    "description": "Sum of all positive divisors of a positive integer n, n itself included.",
    "entry": "divisor_sum",
    "params": [
        {
            "annotation": "int",
            "default": None,
            "default_expr": "",
            "description": "a positive integer.",
            "name": "n",
            "required": True,
            "schema": {"type": "integer"},
        }
    ],
    "returns": {"type": "integer"},
    "returns_annotation": "int",
    "returns_description": "The sum of every d with 1 <= d <= n that divides n.",
    "summary": "Sum of all positive divisors of a positive integer n, n itself included.",
}
TESTS_V4 = {
    "examples": [
        {
            "expected": 12,
            "input": {"n": 6},
            "name": "usage: what is the divisor sum of six?",
            "question": "What is the divisor sum of six?",
        }
    ],
    "held_out": [{"expected": 56, "input": {"n": 28}}],
    "property_specs": [
        {
            "examples": [],
            "max_examples": 100,
            "name": "prop_at_least_n",
            "source": "def prop_at_least_n(n: int):\n    assert divisor_sum(n) >= n\n",
            "strategies": {"n": {"max_value": 5000, "min_value": 1, "type": "integers"}},
        }
    ],
    "unit_tests": ["def test_small():\n    assert divisor_sum(1) == 1\n"],
}
# Version 1, made by `maker make`: the maker's verdict lost its counts and notes in v4.
VERDICT_MADE = {
    "failures": [],
    "passed": True,
    "recoverable": False,
    "timings": {"static_ms": 0.622, "suite_ms": 272.914, "total_ms": 276.563},
}
# Version 2, a repair the gate refused (stored as rejected), with the maker's typed failures.
VERDICT_REJECTED = {
    "failures": [
        {
            "kind": "held_out",
            "name": "held-out 0",
            "message": "expected 56, got 55",
            "minimal_input": {"n": 28},
            "expected": 56,
            "actual": 55,
            "line": None,
            "error_type": "WrongAnswer",
            "limit": None,
            "terminal": False,
        }
    ],
    "passed": False,
    "recoverable": True,
    "timings": {"total_ms": 12.5},
}
# Version 3, written through the Python API in the shape `maker library add` used: `error`
# where `Failure` has `message`, and a key `Failure` has no field for.
VERDICT_HAND = {
    "failures": [
        {
            "name": "test_small",
            "kind": "unit",
            "error": "AssertionError: no",
            "minimal_input": None,
        },
        {"kind": "property", "error": "falsified", "seed": 7},
    ],
    "passed": True,
    "timings": {"tests_ms": 40.0},
}


def _source(version: int) -> str:
    return SOURCE.replace("total = 0", f"total = {version} - {version}")


def build_v4_library(lib: Path) -> None:
    """A schema-v4 library with three versions of one tool, provenance, episodes, usage, a lock."""
    lib.mkdir()
    conn = sqlite3.connect(db_path(lib), isolation_level=None)
    assert migrate(conn, target=4) == 4
    rows = [
        (1, None, VERDICT_MADE, "active", ""),
        (2, 1, VERDICT_REJECTED, "rejected", "the regression gate refused it"),
        (3, 1, VERDICT_HAND, "active", ""),
    ]
    for version, parent, verdict, status, reason in rows:
        src = _source(version)
        conn.execute(
            "INSERT INTO tools (name, version, content_hash, ast_hash, parent_version, entry,"
            " spec, source, tests, verdict, status, status_reason, status_time, replacement,"
            " created) VALUES ('divisor_sum', ?, ?, ?, ?, 'divisor_sum', ?, ?, ?, ?, ?, ?, ?,"
            " NULL, ?)",
            (
                version,
                content_hash("divisor_sum", "divisor_sum", src),
                ast_hash(src),
                parent,
                json.dumps(SPEC, sort_keys=True, separators=(",", ":")),
                src,
                json.dumps(TESTS_V4, sort_keys=True, separators=(",", ":")),
                json.dumps(verdict, sort_keys=True, separators=(",", ":")),
                status,
                reason,
                100.0 + version,
                100.0 + version,
            ),
        )
        prov = {"origin": "made", "strategy": "creator", "task_ids": [f"t{version}"], "time": 1.0}
        conn.execute(
            "INSERT INTO provenance (tool_id, digest, data) VALUES (?, ?, ?)",
            (version, f"d{version}", json.dumps(prov)),
        )
        conn.execute(
            "INSERT INTO changes (name, version, kind) VALUES ('divisor_sum', ?, 'publish')",
            (version,),
        )
    for i, ok in enumerate((1, 0, None)):
        conn.execute(
            "INSERT INTO episodes (time, query, offered, call, tool_name, tool_version, result,"
            " answer, success, feedback, origin, expected) VALUES (?, ?, ?, ?, 'divisor_sum', 1,"
            " ?, ?, ?, ?, ?, ?)",
            (
                10.0 + i,
                f"divisor sum of {6 + i}?",
                '["divisor_sum@1"]',
                json.dumps({"tool": "divisor_sum@1", "arguments": {"n": 6 + i}, "program": None}),
                json.dumps({"ok": True, "value": 12, "error": None}),
                "12",
                ok,
                "wrong" if ok == 0 else "",
                "exploration" if ok is None else "use",
                "12",
            ),
        )
    conn.execute("INSERT INTO usage VALUES ('divisor_sum', 1, 3, 1, 1)")
    lock = {"created": 5.0, "lock_version": 1, "tools": {"divisor_sum@1": "x"}}
    conn.execute("INSERT INTO locks VALUES ('ld', 5.0, ?)", (json.dumps(lock),))
    conn.close()


def test_a_v4_library_is_upgraded_in_place_and_loses_nothing(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    build_v4_library(lib)
    before = db_path(lib).read_bytes()
    with SqliteStore.open(lib, read_only=True) as reader:  # reads an upgraded copy in memory
        assert reader.history("divisor_sum")[2].verdict.failures[0].message == "AssertionError: no"
    assert db_path(lib).read_bytes() == before  # and leaves the file as it was
    with SqliteStore.open(lib) as store:
        assert schema_version(store._conn) == SCHEMA_VERSION == 6
        assert library_problems(store) == []
        v1, v2, v3 = store.history("divisor_sum")
        # the tests are untouched: same JSON, annotations kept, and they still convert to run
        for rec in (v1, v2, v3):
            assert rec.tests.to_json() == TESTS_V4
            suite = to_sandbox_suite(rec.tests)
            assert isinstance(suite, TestSuite) and suite.examples[0].input == {"n": 6}
        # the maker's verdict gains the (empty) fields it lost; timings are kept
        assert v1.verdict.passed and v1.verdict.timings == VERDICT_MADE["timings"]
        assert v1.verdict.counts == {} and v1.verdict.notes == () and v1.verdict.wrong_tests == ()
        # the maker's typed failures come back as `Failure` values, field for field
        assert v2.status.status.value == "rejected" and v2.verdict.recoverable
        assert v2.verdict.failures == (Failure.from_json(VERDICT_REJECTED["failures"][0]),)
        assert v2.verdict.failures[0].actual == 55
        # the add-shaped failures: `error` becomes the message; an unknown key stays in it
        first, second = v3.verdict.failures
        assert (first.kind, first.name, first.message) == (
            "unit",
            "test_small",
            "AssertionError: no",
        )
        assert (second.kind, second.name) == ("property", "failure 1")
        assert second.message == 'falsified (also recorded: {"seed":7})'
        assert v3.verdict.timings == {"tests_ms": 40.0}
        # episodes, usage, provenance, the change log and saved locks are as they were
        episodes = store.episodes()
        assert [e.query for e in episodes] == [
            "divisor sum of 6?",
            "divisor sum of 7?",
            "divisor sum of 8?",
        ]
        assert [e.success for e in episodes] == [True, False, None]
        assert [e.origin for e in episodes] == ["use", "use", "exploration"]
        assert episodes[0].call.arguments == {"n": 6} and episodes[0].expected == "12"
        assert v1.usage.to_json() == {"calls": 3, "successes": 1, "failures": 1}
        assert [p.task_ids for p in v3.provenance] == [("t3",)]
        assert [v for _, v in store.changes()[0]] == [1, 2, 3]
        assert store.saved_lock("ld") is not None
        # and the library works on: a new version publishes on top of the migrated ones
        new = NewTool("divisor_sum", _source(4), tests=StoredSuite.from_json(TESTS_V4))
        assert store.publish(new).record.version == 4  # type: ignore[union-attr]
    with SqliteStore.open(lib, read_only=True) as again:  # now current: read-only opens work
        assert again.history("divisor_sum")[2].verdict == v3.verdict


def test_a_damaged_verdict_stops_the_upgrade_and_leaves_the_file_as_it_was(
    tmp_path: Path,
) -> None:
    lib = tmp_path / "lib"
    build_v4_library(lib)
    conn = sqlite3.connect(db_path(lib), isolation_level=None)
    conn.execute('UPDATE tools SET verdict = \'{"passed": "yes"\' WHERE version = 2')
    conn.close()
    for read_only in (True, False):
        with pytest.raises(LibraryError) as info:
            SqliteStore.open(lib, read_only=read_only)
        message = str(info.value)
        assert "\n" not in message
        assert "divisor_sum@2 has a damaged verdict" in message and "backup" in message
    conn = sqlite3.connect(db_path(lib))  # the migration rolled back: every row as it was
    assert schema_version(conn) == 4
    verdicts = [json.loads(v) for (v,) in conn.execute("SELECT verdict FROM tools WHERE id != 2")]
    assert verdicts == [VERDICT_MADE, VERDICT_HAND]
    conn.close()
