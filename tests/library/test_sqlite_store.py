"""What only the SQLite store must do: migrations, read-only opens, many processes, kill -9."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import sqlite3
import time
from pathlib import Path

import pytest

from library.contract import library_problems
from library.errors import LibraryError, ReadOnlyError
from library.records import Call, Episode, Status
from library.store import SCHEMA_VERSION, SqliteStore
from library.store.sqlite import db_path, migrate, schema_version
from tests.library.conftest import new_tool, tool_source


def test_migrates_from_the_first_schema(tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    conn = sqlite3.connect(db_path(lib), isolation_level=None)
    assert migrate(conn, target=1) == 1
    spec = {
        "entry": "add",
        "summary": "Add.",
        "description": "Add.",
        "params": [],
        "returns": {"type": "integer"},
        "returns_annotation": "int",
    }
    conn.execute(
        "INSERT INTO tools (name, version, content_hash, ast_hash, entry, spec, source, tests,"
        " verdict, status, status_time, created) VALUES ('add', 1, 'h1', 'a1', 'add', ?, ?, '{}',"
        " '{\"passed\": true}', 'active', 1.0, 1.0)",
        (json.dumps(spec), tool_source("add")),
    )
    conn.execute("INSERT INTO provenance (tool_id, digest, data) VALUES (1, 'd', '{}')")
    for ok in (1, 1, 0):
        conn.execute(
            "INSERT INTO episodes (time, query, offered, call, tool_name, tool_version, result,"
            " success) VALUES (1.0, 'q', '[]', '{\"tool\": \"add@1\"}', 'add', 1, '{}', ?)",
            (ok,),
        )
    conn.close()
    with SqliteStore.open(lib, read_only=True) as reader:  # an upgraded copy in memory
        assert reader.resolve("add").usage.calls == 3
    conn = sqlite3.connect(db_path(lib))
    assert schema_version(conn) == 1  # readers never write
    conn.close()
    with SqliteStore.open(lib) as store:
        assert schema_version(store._conn) == SCHEMA_VERSION
        rec = store.resolve("add")
        assert rec.usage.to_json() == {"calls": 3, "successes": 2, "failures": 1}  # backfilled
        assert [e.origin for e in store.episodes()] == ["use"] * 3
        assert store.changes()[0] == [("add", 1)]  # the change log is backfilled too
        assert store.publish(new_tool("add", expr="a + b + 1")).record.version == 2  # type: ignore[union-attr]
        assert store.snapshot().entries[0].version == 2
    with SqliteStore.open(lib) as again:  # re-opening does not migrate twice
        assert [r.version for r in again.history("add")] == [1, 2]


def test_refuses_a_newer_schema(tmp_path: Path) -> None:
    SqliteStore.open(tmp_path).close()
    conn = sqlite3.connect(db_path(tmp_path))
    conn.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION + 1,))
    conn.commit()
    conn.close()
    before = db_path(tmp_path).read_bytes()
    for read_only in (False, True):
        with pytest.raises(LibraryError, match="written by a newer tool-maker.*upgrade"):
            SqliteStore.open(tmp_path, read_only=read_only)
    assert db_path(tmp_path).read_bytes() == before


def test_read_only_open_while_a_writer_is_active(tmp_path: Path) -> None:
    with pytest.raises(LibraryError, match="no library at"):
        SqliteStore.open(tmp_path / "missing", read_only=True)
    writer = SqliteStore.open(tmp_path)
    writer.publish(new_tool("add"))
    writer.close()
    reader = SqliteStore.open(tmp_path, read_only=True)  # no writer open at all
    assert [r.ref for r in reader.list()] == ["add@1"]
    writer = SqliteStore.open(tmp_path)
    with writer._tx(write=True):  # a writer holds the write lock, mid-publish
        writer._insert(writer.history("add")[0].with_(version=2, content_hash="x" * 64))
        assert [r.ref for r in reader.list()] == ["add@1"]  # readers are not blocked
        assert reader.resolve("add@1").name == "add"
    assert [r.ref for r in reader.list()] == ["add@2"]
    with pytest.raises(ReadOnlyError, match="read-only"):
        reader.publish(new_tool("mul", expr="a * b"))
    with pytest.raises(ReadOnlyError):
        reader.add_episode(Episode(query="q"))
    reader.snapshot()  # allowed: a lock is not saved on a read-only open
    reader.close()
    writer.close()


def _publisher(lib: str, worker: int, n_shared: int, n_own: int) -> None:
    store = SqliteStore.open(lib)
    for i in range(max(n_shared, n_own)):
        if i < n_shared:
            store.publish(new_tool(f"shared_{i}", expr=f"a + b + {i}", task=f"w{worker}"))
        if i < n_own:
            store.publish(new_tool(f"own_{worker}_{i}", expr=f"a * b + {worker * 1000 + i}"))
            store.publish(new_tool("contested", expr=f"a - b - {worker * 1000 + i}"))
        store.add_episode(Episode(query="q", call=Call(f"shared_{i % n_shared}@1"), success=True))
    store.close()


def test_many_processes_publishing_lose_nothing(tmp_path: Path) -> None:
    lib = str(tmp_path / "lib")
    SqliteStore.open(lib).close()
    workers, n_shared, n_own = 4, 8, 8
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_publisher, args=(lib, w, n_shared, n_own)) for w in range(workers)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with SqliteStore.open(lib, read_only=True) as store:
        names = {r.name for r in store.list()}
        assert {f"shared_{i}" for i in range(n_shared)} <= names
        assert {f"own_{w}_{i}" for w in range(workers) for i in range(n_own)} <= names
        for i in range(n_shared):
            (rec,) = store.history(f"shared_{i}")
            assert sorted(p.task_ids[0] for p in rec.provenance) == [
                f"w{w}" for w in range(workers)
            ]
        contested = store.history("contested")
        assert [r.version for r in contested] == list(range(1, workers * n_own + 1))
        assert [r.parent_version for r in contested[1:]] == list(range(1, workers * n_own))
        total = sum(store.usage(f"shared_{i}", 1).calls for i in range(n_shared))
        assert total == workers * n_own
        assert store.integrity_problems() == []
        assert library_problems(store) == []


def _killed_publisher(lib: str, ready: mp.synchronize.Event) -> None:  # type: ignore[name-defined]
    store = SqliteStore.open(lib)
    store.publish(new_tool("before"))

    def stall(stage: str) -> None:
        ready.set()
        time.sleep(60)  # the parent kills us here, inside the publish transaction

    store._fault = stall
    store.publish(new_tool("during", expr="a * b"))


def test_kill_9_mid_publish_leaves_a_consistent_library(tmp_path: Path) -> None:
    lib = str(tmp_path / "lib")
    ctx = mp.get_context("spawn")
    ready = ctx.Event()
    proc = ctx.Process(target=_killed_publisher, args=(lib, ready))
    proc.start()
    assert ready.wait(30), "child never reached the middle of its publish"
    os.kill(proc.pid, signal.SIGKILL)  # type: ignore[arg-type]
    proc.join(10)
    assert proc.exitcode == -signal.SIGKILL
    with SqliteStore.open(lib) as store:
        assert store.integrity_problems() == [] and library_problems(store) == []
        assert [r.ref for r in store.list()] == ["before@1"]
        assert store.history("during") == []
        res = store.publish(new_tool("during", expr="a * b"))
        assert res.outcome == "created" and res.record is not None and res.record.version == 1
        assert res.record.status.status is Status.ACTIVE
