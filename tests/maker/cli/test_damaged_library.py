"""Every command on a damaged `library.sqlite` (not a database, empty, truncated, a newer
schema): one line naming the file and what to do, a non-zero exit, the file's bytes unchanged."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from library import Library
from library.store.sqlite import SCHEMA_VERSION
from maker.cli import main
from tests.library.conftest import new_tool
from tests.maker.cli.test_cli_library import GCD, maker

DAMAGES = ("garbage", "empty", "truncated", "newer_schema")


def damaged_library(root: Path, damage: str) -> Path:
    lib = root / damage
    with Library.open(lib) as library:
        for i in range(40):
            library.publish(new_tool(f"add{i}", problem="x " * 200))
        library.publish(new_tool("mul", expr="a * b", doc="Multiply two numbers."))
    db = lib / "library.sqlite"
    if damage == "garbage":
        db.write_bytes(b"these are not the bytes of a database\n" * 50)
    elif damage == "empty":
        db.write_bytes(b"")
    elif damage == "truncated":
        data = db.read_bytes()
        db.write_bytes(data[: len(data) // 2])
    else:
        conn = sqlite3.connect(db)
        conn.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION + 1,))
        conn.commit()
        conn.close()
    assert sorted(p.name for p in lib.iterdir()) == ["library.sqlite"]
    return lib


def commands(lib: Path, tmp: Path) -> dict[str, list[str]]:
    tool = tmp / "gcd.py"
    tool.write_text(GCD)
    common = ["--library", str(lib)]
    return {
        "list": ["library", "list", *common],
        "show": ["library", "show", "mul", *common],
        "history": ["library", "history", "mul", *common],
        "search": ["library", "search", "multiply", *common],
        "export": ["library", "export", str(tmp / "out"), *common],
        "deprecate": ["library", "deprecate", "add1@1", "--replacement", "mul", *common],
        "retire": ["library", "retire", "mul", "--reason", "x", *common],
        "add": ["library", "add", str(tool), *common],
        "call": ["library", "call", "mul", "--args", '{"a": 2, "b": 3}', *common],
        "call-record": [
            "library",
            "call",
            "mul",
            "--args",
            '{"a": 2, "b": 3}',
            "--record",
            *common,
        ],
        "serve-mcp": ["library", "serve-mcp", *common],
        "lock": ["library", "lock", str(tmp / "tools.lock.json"), *common],
        "make": [
            "make",
            str(Path(__file__).parents[3] / "maker/data/example_tasks.jsonl"),
            "--maker-model",
            "m",
            "--maker-base-url",
            "http://127.0.0.1:9/v1",
            "--no-progress",
            *common,
        ],
    }


def digest(lib: Path) -> tuple[str, list[str]]:
    """The library file's hash and the files beside it; a read-only open of a WAL database
    may leave an empty write-ahead log and its index behind (nothing written to either)."""
    wal = lib / "library.sqlite-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    return (
        hashlib.sha256((lib / "library.sqlite").read_bytes()).hexdigest(),
        sorted(
            str(p.relative_to(lib))
            for p in lib.rglob("*")
            if p.name not in ("library.sqlite-wal", "library.sqlite-shm")
        ),
    )


@pytest.mark.parametrize("damage", DAMAGES)
def test_every_command_refuses_a_damaged_library_in_one_line(tmp_path: Path, damage: str) -> None:
    lib = damaged_library(tmp_path, damage)
    before = digest(lib)
    for name, args in commands(lib, tmp_path).items():
        result = CliRunner().invoke(main, args, env={"MAKER_LIBRARY": None})
        where = (damage, name, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit), where
        assert result.exit_code != 0, where
        lines = [x for x in result.stderr.splitlines() if x.strip()]
        assert len(lines) == 1 and str(lib / "library.sqlite") in lines[0], where
        wanted = "upgrade tool-maker" if damage == "newer_schema" else "restore it"
        assert wanted in lines[0], where
        assert digest(lib) == before, where


def test_damaged_library_from_a_real_process(tmp_path: Path) -> None:
    lib = damaged_library(tmp_path, "garbage")
    before = digest(lib)
    proc = maker("library", "retire", "mul", "--reason", "x", "--library", str(lib))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.count("\n") == 1 and "library.sqlite" in proc.stderr
    assert digest(lib) == before
