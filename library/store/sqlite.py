"""The SQLite store of record: WAL, a schema_version table and forward migrations.

One file, `library.sqlite`, inside the library directory. Writers serialize through
`BEGIN IMMEDIATE`; readers (including `read_only=True` opens through a `mode=ro` URI) see a
consistent snapshot while a writer works. A publish is one transaction, so a process killed
in the middle leaves either the whole new version or nothing. A library an older version wrote
is upgraded in place (`MIGRATIONS`, one transaction) by the first writable open; a read-only
open reads an upgraded copy in memory and leaves the file as it is.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from library.errors import LibraryError
from library.records import (
    Call,
    Episode,
    Lock,
    Provenance,
    Status,
    StatusInfo,
    StoredSuite,
    ToolRecord,
    ToolSpec,
    UsageStats,
    Verdict,
    dumps,
)
from library.store.base import StoreBase
from library.store.upgrades import upgrade_verdicts

DB_NAME = "library.sqlite"

# Each entry upgrades the schema from version i to i + 1: SQL statements, or a function that
# rewrites stored JSON in the same transaction (`library.store.upgrades`). Never edit a released
# entry: add one.
MIGRATIONS: tuple[str | Callable[[sqlite3.Connection], None], ...] = (
    # 1: tools, provenance, episodes
    """
    CREATE TABLE tools (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 1),
        content_hash TEXT NOT NULL UNIQUE,
        ast_hash TEXT NOT NULL,
        parent_version INTEGER,
        entry TEXT NOT NULL,
        spec TEXT NOT NULL,
        source TEXT NOT NULL,
        tests TEXT NOT NULL,
        verdict TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'deprecated', 'retired', 'rejected')),
        status_reason TEXT NOT NULL DEFAULT '',
        status_time REAL NOT NULL,
        replacement TEXT,
        created REAL NOT NULL,
        UNIQUE (name, version)
    );
    CREATE INDEX tools_ast_hash ON tools (ast_hash);
    CREATE TABLE provenance (
        id INTEGER PRIMARY KEY,
        tool_id INTEGER NOT NULL REFERENCES tools (id),
        digest TEXT NOT NULL,
        data TEXT NOT NULL,
        UNIQUE (tool_id, digest)
    );
    CREATE TABLE episodes (
        id INTEGER PRIMARY KEY,
        time REAL NOT NULL,
        query TEXT NOT NULL,
        offered TEXT NOT NULL,
        call TEXT NOT NULL,
        tool_name TEXT,
        tool_version INTEGER,
        result TEXT NOT NULL,
        answer TEXT,
        success INTEGER,
        feedback TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX episodes_tool ON episodes (tool_name, tool_version);
    """,
    # 2: episode origin and gold answer; usage statistics kept from episodes (backfilled)
    """
    ALTER TABLE episodes ADD COLUMN origin TEXT NOT NULL DEFAULT 'use';
    ALTER TABLE episodes ADD COLUMN expected TEXT;
    CREATE TABLE usage (
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        calls INTEGER NOT NULL DEFAULT 0,
        successes INTEGER NOT NULL DEFAULT 0,
        failures INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (name, version)
    );
    INSERT INTO usage (name, version, calls, successes, failures)
        SELECT tool_name, tool_version, COUNT(*),
               COALESCE(SUM(success = 1), 0), COALESCE(SUM(success = 0), 0)
        FROM episodes WHERE tool_name IS NOT NULL AND tool_version IS NOT NULL
        GROUP BY tool_name, tool_version;
    """,
    # 3: saved snapshots
    """
    CREATE TABLE locks (digest TEXT PRIMARY KEY, created REAL NOT NULL, data TEXT NOT NULL);
    """,
    # 4: a change log, so indexes held by other processes can follow writers incrementally
    """
    CREATE TABLE changes (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        version INTEGER NOT NULL,
        kind TEXT NOT NULL
    );
    INSERT INTO changes (name, version, kind) SELECT name, version, 'publish' FROM tools ORDER BY id;
    """,
    # 5: one Verdict record for maker and library: stored verdicts get typed failures (`Failure`
    # JSON; `maker library add` wrote ``error`` for ``message``), counts, notes, wrong tests
    upgrade_verdicts,
    # 6: the answer check an episode's gold answer was graded with
    """
    ALTER TABLE episodes ADD COLUMN answer_check TEXT;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

_TOOL_COLS = (
    "id, name, version, content_hash, ast_hash, parent_version, entry, spec, source, tests,"
    " verdict, status, status_reason, status_time, replacement, created"
)


_FRESH = (
    "SELECT t.id, t.status, t.status_reason, t.status_time, t.replacement,"
    " (SELECT COUNT(*) FROM provenance p WHERE p.tool_id = t.id),"
    " u.calls, u.successes, u.failures"
    " FROM tools t LEFT JOIN usage u ON u.name = t.name AND u.version = t.version"
    " WHERE t.name = ? AND t.version = ?"
)
"""What of a stored version can change: its status, how much provenance it has, its usage."""

GET_CACHE_SIZE = 4096
"""Records `SqliteStore.get` keeps (by tool row id) to reuse their unchanging parts."""

_MAGIC = b"SQLite format 3\x00"
_WHAT_TO_DO = "restore it from a backup, or move it away to start a new library"


def db_path(directory: str | Path) -> Path:
    return Path(directory) / DB_NAME


def unusable(path: Path, why: str) -> LibraryError:
    """The one-line error for a library file that cannot be used as it is."""
    return LibraryError(f"{path} is not a usable library: {why}; {_WHAT_TO_DO}")


def newer_schema(path: Path, version: int) -> LibraryError:
    return LibraryError(
        f"{path} was written by a newer tool-maker (library schema v{version}, this one knows "
        f"up to v{SCHEMA_VERSION}): upgrade tool-maker to use it; it was left unchanged"
    )


def file_problem(path: Path) -> str | None:
    """Why the file at `path` cannot be a library database (read from its header, nothing
    opened), or None when it may be one (or does not exist)."""
    try:
        size = path.stat().st_size
        with path.open("rb") as f:
            header = f.read(100)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"it cannot be read ({exc.strerror or exc})"
    if size == 0:
        return "it is empty (0 bytes)"
    if len(header) < 100 or not header.startswith(_MAGIC):
        return "it is not an SQLite database"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    counted = header[92:96] == header[24:28]  # the page count is valid for this change
    wal = path.with_name(path.name + "-wal")
    live_wal = wal.exists() and wal.stat().st_size > 0  # a checkpoint may be growing the file
    if counted and not live_wal and size < pages * page_size:
        return f"it is truncated ({size} bytes, its header says {pages * page_size})"
    return None


def check_library(directory: str | Path) -> None:
    """Raise a one-line `LibraryError` if `directory` holds a library file that is damaged or
    of a newer schema; a missing file passes (a writer creates it). Writes nothing."""
    path = db_path(directory)
    why = file_problem(path)
    if why is not None:
        raise unusable(path, why)
    if not path.exists():
        return
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise unusable(path, str(exc)) from None
    try:
        version = schema_version(conn)
    except sqlite3.DatabaseError as exc:
        raise unusable(path, str(exc)) from None
    finally:
        conn.close()
    if version > SCHEMA_VERSION:
        raise newer_schema(path, version)


def schema_version(conn: sqlite3.Connection) -> int:
    has = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if not has:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Apply the migrations up to `target` in one immediate transaction; returns the new version."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        current = schema_version(conn)
        if current > SCHEMA_VERSION:
            raise LibraryError(
                f"library schema v{current} is newer than this code (v{SCHEMA_VERSION}): upgrade"
            )
        for v in range(current, target):
            step = MIGRATIONS[v]
            if callable(step):
                step(conn)
            else:
                for stmt in step.split(";"):
                    if stmt.strip():
                        conn.execute(stmt)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (v + 1,))
        conn.execute("COMMIT")
        return max(current, target)
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _upgraded_copy(conn: sqlite3.Connection) -> sqlite3.Connection:
    """An in-memory copy of the library behind `conn`, migrated to this code's schema; `conn`
    is closed."""
    memory = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    try:
        conn.backup(memory)
        migrate(memory)
    except BaseException:
        memory.close()
        raise
    conn.close()
    return memory


class SqliteStore(StoreBase):
    """The library of record in one SQLite file. Use `SqliteStore.open(directory)`."""

    def __init__(self, conn: sqlite3.Connection, path: Path, read_only: bool) -> None:
        self._conn = conn
        self.path = path
        self.read_only = read_only
        self._lock = threading.RLock()
        self._depth = 0
        self._fault: Callable[[str], None] | None = None  # test seam: called mid-transaction
        self._records: dict[int, ToolRecord] = {}  # tool row id -> record, for `get`

    @classmethod
    def open(
        cls, directory: str | Path, *, read_only: bool = False, timeout: float = 60.0
    ) -> SqliteStore:
        """Open (and for a writer, create or migrate) the library in `directory`."""
        path = db_path(directory)
        why = file_problem(path)  # before SQLite opens it: a damaged file is never written
        if why is not None:
            raise unusable(path, why)
        if read_only and not path.exists():
            raise LibraryError(f"no library at {str(directory)!r}: {DB_NAME} is missing")
        try:
            if read_only:
                conn = sqlite3.connect(
                    f"{path.resolve().as_uri()}?mode=ro",
                    uri=True,
                    timeout=timeout,
                    isolation_level=None,
                    check_same_thread=False,
                )
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(
                    path, timeout=timeout, isolation_level=None, check_same_thread=False
                )
        except (OSError, sqlite3.Error) as exc:
            raise LibraryError(f"cannot open library at {str(directory)!r}: {exc}") from None
        try:
            return cls._opened(conn, path, read_only, timeout)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise unusable(path, str(exc)) from None
        except BaseException:
            conn.close()
            raise

    @classmethod
    def _opened(
        cls, conn: sqlite3.Connection, path: Path, read_only: bool, timeout: float
    ) -> SqliteStore:
        """Check the schema version, then set up a writer and migrate the file in place; a
        reader of an older schema gets a private upgraded copy in memory (the file is left as
        it is, and the reader does not see later writes to it)."""
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        version = schema_version(conn)
        if version > SCHEMA_VERSION:
            raise newer_schema(path, version)
        if read_only:
            if version != SCHEMA_VERSION:  # readers never write: upgrade a copy in memory
                conn = _upgraded_copy(conn)
            return cls(conn, path, read_only=True)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        if version != SCHEMA_VERSION:
            migrate(conn)
        return cls(conn, path, read_only=False)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    # ------------------------------------------------------------ transactions
    @contextmanager
    def _tx(self, write: bool) -> Iterator[None]:
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._depth = 0
                self._conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self._conn.execute("COMMIT")

    # ------------------------------------------------------------ tools
    def _assemble(self, rows: list[tuple]) -> list[ToolRecord]:
        if not rows:
            return []
        ids = [r[0] for r in rows]
        provs: dict[int, list[Provenance]] = {i: [] for i in ids}
        if len(ids) <= 500:
            marks = ",".join("?" * len(ids))
            q = f"SELECT tool_id, data FROM provenance WHERE tool_id IN ({marks}) ORDER BY id"
            prov_rows = self._conn.execute(q, ids).fetchall()
        else:
            prov_rows = self._conn.execute(
                "SELECT tool_id, data FROM provenance ORDER BY id"
            ).fetchall()
        for tid, data in prov_rows:
            if tid in provs:
                provs[tid].append(Provenance.from_json(json.loads(data)))
        names = {r[1] for r in rows}
        usage: dict[tuple[str, int], UsageStats] = {}
        if len(names) <= 500:
            marks = ",".join("?" * len(names))
            q = f"SELECT name, version, calls, successes, failures FROM usage WHERE name IN ({marks})"
            urows = self._conn.execute(q, list(names)).fetchall()
        else:
            urows = self._conn.execute(
                "SELECT name, version, calls, successes, failures FROM usage"
            ).fetchall()
        for n, v, c, s, f in urows:
            usage[(n, v)] = UsageStats(c, s, f)
        out = []
        for r in rows:
            (
                tid,
                name,
                version,
                chash,
                ahash,
                parent,
                entry,
                spec,
                source,
                tests,
                verdict,
                status,
                reason,
                stime,
                replacement,
                created,
            ) = r
            out.append(
                ToolRecord(
                    name=name,
                    version=version,
                    content_hash=chash,
                    ast_hash=ahash,
                    parent_version=parent,
                    entry=entry,
                    spec=ToolSpec.from_json(json.loads(spec)),
                    source=source,
                    tests=StoredSuite.from_json(json.loads(tests)),
                    verdict=Verdict.from_json(json.loads(verdict)),
                    provenance=tuple(provs[tid]),
                    status=StatusInfo(Status(status), reason, stime, replacement),
                    usage=usage.get((name, version), UsageStats()),
                    created=created,
                )
            )
        return out

    def _select(self, where: str, params: tuple = ()) -> list[ToolRecord]:
        rows = self._conn.execute(f"SELECT {_TOOL_COLS} FROM tools {where}", params).fetchall()
        return self._assemble(rows)

    def get(self, name: str, version: int) -> ToolRecord | None:
        """One version's record. A version's content never changes and its provenance is only
        ever added to, so a record read before is reused with its status and usage read fresh
        (one small query instead of decoding the record again)."""
        with self._tx(write=False):
            row = self._conn.execute(_FRESH, (name, version)).fetchone()
            if row is None:
                return None
            tid, status, reason, stime, replacement, n_prov, calls, successes, failures = row
            rec = self._records.get(tid)
            if rec is None or len(rec.provenance) != n_prov:
                found = self._select("WHERE id = ?", (tid,))
                if not found:
                    return None
                if len(self._records) >= GET_CACHE_SIZE:
                    self._records.clear()
                self._records[tid] = found[0]
                return found[0]
        return rec.with_(
            status=StatusInfo(Status(status), reason, stime, replacement),
            usage=UsageStats(calls or 0, successes or 0, failures or 0),
        )

    def _by_hash(self, h: str) -> ToolRecord | None:
        found = self._select("WHERE content_hash = ?", (h,))
        return found[0] if found else None

    def _by_ast(self, h: str) -> ToolRecord | None:
        found = self._select(
            "WHERE ast_hash = ? AND status != 'rejected' ORDER BY id LIMIT 1", (h,)
        )
        return found[0] if found else None

    def _versions(self, name: str) -> list[ToolRecord]:
        return self._select("WHERE name = ? ORDER BY version", (name,))

    def _insert(self, rec: ToolRecord) -> None:
        cur = self._conn.execute(
            f"INSERT INTO tools ({_TOOL_COLS}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                rec.name,
                rec.version,
                rec.content_hash,
                rec.ast_hash,
                rec.parent_version,
                rec.entry,
                dumps(rec.spec.to_json()),
                rec.source,
                dumps(rec.tests.to_json()),
                dumps(rec.verdict.to_json()),
                rec.status.status.value,
                rec.status.reason,
                rec.status.time,
                rec.status.replacement,
                rec.created,
            ),
        )
        if self._fault is not None:
            self._fault("after_tool_insert")
        for p in rec.provenance:
            self._conn.execute(
                "INSERT OR IGNORE INTO provenance (tool_id, digest, data) VALUES (?, ?, ?)",
                (cur.lastrowid, p.digest(), dumps(p.to_json())),
            )

    def _add_provenance(self, name: str, version: int, prov: Provenance) -> bool:
        cur = self._conn.execute(
            "INSERT OR IGNORE INTO provenance (tool_id, digest, data) "
            "SELECT id, ?, ? FROM tools WHERE name = ? AND version = ?",
            (prov.digest(), dumps(prov.to_json()), name, version),
        )
        return cur.rowcount > 0

    def _update_status(self, name: str, version: int, info: StatusInfo) -> None:
        self._conn.execute(
            "UPDATE tools SET status = ?, status_reason = ?, status_time = ?, replacement = ? "
            "WHERE name = ? AND version = ?",
            (info.status.value, info.reason, info.time, info.replacement, name, version),
        )

    def _log(self, name: str, version: int, kind: str) -> None:
        self._conn.execute(
            "INSERT INTO changes (name, version, kind) VALUES (?, ?, ?)", (name, version, kind)
        )

    def _changes(self, after: int) -> list[tuple[int, str, int, str]]:
        return self._conn.execute(
            "SELECT id, name, version, kind FROM changes WHERE id > ? ORDER BY id", (after,)
        ).fetchall()

    def _latest_all(self, statuses: frozenset[Status]) -> list[ToolRecord]:
        wanted = sorted(s.value for s in statuses)
        if not wanted:
            return []
        marks = ",".join("?" * len(wanted))
        where = (
            f"WHERE id IN (SELECT id FROM tools t WHERE status IN ({marks}) AND version = "
            f"(SELECT MAX(version) FROM tools u WHERE u.name = t.name AND u.status IN ({marks}))) "
            "ORDER BY name"
        )
        return self._select(where, tuple(wanted) * 2)

    def _save_lock(self, lock: Lock) -> None:
        self._conn.execute(
            "INSERT OR IGNORE INTO locks (digest, created, data) VALUES (?, ?, ?)",
            (lock.digest, lock.created, lock.to_text()),
        )

    def saved_lock(self, digest: str) -> Lock | None:
        row = self._conn.execute("SELECT data FROM locks WHERE digest = ?", (digest,)).fetchone()
        return Lock.from_text(row[0]) if row else None

    # ------------------------------------------------------------ experience
    def _insert_episode(self, ep: Episode) -> int:
        ref = ep.tool_ref()
        cur = self._conn.execute(
            "INSERT INTO episodes (time, query, offered, call, tool_name, tool_version, result,"
            " answer, success, feedback, origin, expected, answer_check)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                ep.time,
                ep.query,
                dumps(list(ep.offered)),
                dumps(ep.call.to_json()),
                ref[0] if ref else None,
                ref[1] if ref else None,
                dumps(ep.result),
                ep.answer,
                None if ep.success is None else int(ep.success),
                ep.feedback,
                ep.origin,
                ep.expected,
                ep.answer_check,
            ),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def _bump_usage(self, name: str, version: int, success: bool | None) -> None:
        self._conn.execute(
            "INSERT INTO usage (name, version, calls, successes, failures) VALUES (?, ?, 1, ?, ?) "
            "ON CONFLICT (name, version) DO UPDATE SET calls = calls + 1, "
            "successes = successes + excluded.successes, failures = failures + excluded.failures",
            (name, version, int(success is True), int(success is False)),
        )

    def _episodes(
        self, name: str | None, version: int | None, success: bool | None, after_id: int
    ) -> list[Episode]:
        where, params = ["id > ?"], [after_id]
        if name is not None:
            where.append("tool_name = ?")
            params.append(name)
        if version is not None:
            where.append("tool_version = ?")
            params.append(version)
        if success is not None:
            where.append("success = ?")
            params.append(int(success))
        rows = self._conn.execute(
            "SELECT id, time, query, offered, call, result, answer, success, feedback, origin,"
            f" expected, answer_check FROM episodes WHERE {' AND '.join(where)} ORDER BY id",
            params,
        ).fetchall()
        return [
            Episode(
                id=i,
                time=t,
                query=q,
                offered=tuple(json.loads(o)),
                call=Call.from_json(json.loads(c)),
                result=json.loads(r),
                answer=a,
                success=None if s is None else bool(s),
                feedback=f,
                origin=og,
                expected=e,
                answer_check=ck,
            )
            for i, t, q, o, c, r, a, s, f, og, e, ck in rows
        ]

    def _usage(self, name: str, version: int) -> UsageStats:
        row = self._conn.execute(
            "SELECT calls, successes, failures FROM usage WHERE name = ? AND version = ?",
            (name, version),
        ).fetchone()
        return UsageStats(*row) if row else UsageStats()

    def integrity_problems(self) -> list[str]:
        """SQLite's integrity and foreign-key checks plus the library's own invariants."""
        problems = [r[0] for r in self._conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        problems += [
            f"dangling provenance row {r}" for r in self._conn.execute("PRAGMA foreign_key_check")
        ]
        problems += [
            f"tool {n}@{v} has no provenance"
            for n, v in self._conn.execute(
                "SELECT name, version FROM tools WHERE id NOT IN (SELECT tool_id FROM provenance)"
            )
        ]
        return problems
